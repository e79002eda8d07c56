//! The CIS metric filters (Security Hub CloudWatch.1–14: CIS AWS Foundations Benchmark 1.2.0
//! section 3, 1.4.0 section 4), exactly as written there, one metric each. Security Hub fails a
//! filter that has any extra term, so these are never edited; where another checker wants a
//! superset (Prowler's route-table check wants `$.eventSource = ec2.amazonaws.com`), a second
//! filter is added beside the exact one.
//!
//! Not used: CIS 3.0's unauthorized-calls pattern, which adds
//! `|| ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket")` and
//! so matches almost every event.

/// One metric filter and the alarm on its metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CisFilter {
    /// Security Hub's control, or `""` for a filter no Security Hub control checks.
    pub security_hub: &'static str,
    /// CIS AWS Foundations Benchmark recommendations (1.2.0; 1.4.0; 3.0.0).
    pub cis: &'static str,
    /// The metric (and logmend's filter and alarm name: `logmend-cis-<metric>`).
    pub metric: &'static str,
    pub pattern: &'static str,
}

pub static CIS_FILTERS: &[CisFilter] = &[
    CisFilter {
        security_hub: "CloudWatch.1",
        cis: "1.2 3.3; 1.4 4.3",
        metric: "RootAccountUsage",
        pattern: r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
    },
    CisFilter {
        security_hub: "CloudWatch.2",
        cis: "1.2 3.1; 1.4 4.1",
        metric: "UnauthorizedAPICalls",
        pattern: r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#,
    },
    CisFilter {
        security_hub: "CloudWatch.3",
        cis: "1.2 3.2; 1.4 4.2",
        metric: "ConsoleSigninWithoutMFA",
        pattern: r#"{($.eventName="ConsoleLogin") && ($.additionalEventData.MFAUsed !="Yes")}"#,
    },
    CisFilter {
        security_hub: "CloudWatch.4",
        cis: "1.2 3.4; 1.4 4.4",
        metric: "IAMPolicyChanges",
        pattern: "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
    },
    CisFilter {
        security_hub: "CloudWatch.5",
        cis: "1.2 3.5; 1.4 4.5",
        metric: "CloudTrailChanges",
        pattern: "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    },
    CisFilter {
        security_hub: "CloudWatch.6",
        cis: "1.2 3.6; 1.4 4.6",
        metric: "ConsoleAuthenticationFailure",
        pattern: r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
    },
    CisFilter {
        security_hub: "CloudWatch.7",
        cis: "1.2 3.7; 1.4 4.7",
        metric: "DisableOrDeleteCMK",
        pattern: "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    },
    CisFilter {
        security_hub: "CloudWatch.8",
        cis: "1.2 3.8; 1.4 4.8",
        metric: "S3BucketPolicyChanges",
        pattern: "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    },
    CisFilter {
        security_hub: "CloudWatch.9",
        cis: "1.2 3.9; 1.4 4.9",
        metric: "AWSConfigChanges",
        pattern: "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
    },
    CisFilter {
        security_hub: "CloudWatch.10",
        cis: "1.2 3.10; 1.4 4.10",
        metric: "SecurityGroupChanges",
        pattern: "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    },
    CisFilter {
        security_hub: "CloudWatch.11",
        cis: "1.2 3.11; 1.4 4.11",
        metric: "NetworkACLChanges",
        pattern: "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
    },
    CisFilter {
        security_hub: "CloudWatch.12",
        cis: "1.2 3.12; 1.4 4.12",
        metric: "NetworkGatewayChanges",
        pattern: "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    },
    CisFilter {
        security_hub: "CloudWatch.13",
        cis: "1.2 3.13; 1.4 4.13",
        metric: "RouteTableChanges",
        pattern: "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
    },
    CisFilter {
        security_hub: "CloudWatch.14",
        cis: "1.2 3.14; 1.4 4.14",
        metric: "VPCChanges",
        pattern: "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
    },
    CisFilter {
        security_hub: "",
        cis: "1.4 4.15; 3.0 4.15",
        metric: "OrganizationsChanges",
        pattern: r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    },
    // Prowler's Organizations check wants 21 event names in this order (its check is a regular
    // expression over the pattern), CIS's filter has 18: a second filter beside it.
    CisFilter {
        security_hub: "",
        cis: "Prowler cloudwatch_log_metric_filter_aws_organizations_changes",
        metric: "OrganizationsChangesAll",
        pattern: "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || ($.eventName = AttachPolicy) || ($.eventName = CancelHandshake) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganization) || ($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || ($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = EnableAllFeatures) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || ($.eventName = LeaveOrganization) || ($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdateOrganizationalUnit) || ($.eventName = UpdatePolicy)) }",
    },
    // Prowler's route-table check wants the event source too: a second filter, so the exact
    // CloudWatch.13 one stays as Security Hub reads it.
    CisFilter {
        security_hub: "",
        cis: "Prowler cloudwatch_log_metric_filter_route_table_changes",
        metric: "RouteTableChangesEc2",
        pattern: "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable))}",
    },
];

/// A filter pattern as Security Hub compares it: the text itself, whitespace aside (it fails
/// a pattern with any other difference: an extra term, a dropped pair of parentheses; see
/// terraform-aws-modules/terraform-aws-cloudwatch#50, told so by AWS support). Whitespace
/// inside quoted values is kept.
pub fn normalized(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut quoted = false;
    for c in pattern.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if quoted || !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

impl CisFilter {
    /// Whether a filter's pattern is this one, as Security Hub reads it.
    pub fn is_pattern(&self, pattern: &str) -> bool {
        normalized(pattern) == normalized(self.pattern)
    }

    /// logmend's name for this filter and for its alarm.
    pub fn logmend_name(&self) -> String {
        format!("logmend-cis-{}", self.metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter_pattern::parse;
    use serde_json::{Value, json};

    /// A CloudTrail record as CloudTrail writes it to CloudWatch Logs (the `detail` of the
    /// project's sample events), with the given source and name.
    fn record(source: &str, name: &str) -> Value {
        let sample: Value =
            serde_json::from_str(include_str!("../../../../events/cloudtrail/stop-logging.json")).unwrap();
        let mut r = sample["detail"].clone();
        r["eventSource"] = json!(source);
        r["eventName"] = json!(name);
        r
    }

    fn console_login(identity: Value, mfa: &str, failed: bool) -> Value {
        let mut r = record("signin.amazonaws.com", "ConsoleLogin");
        r["eventType"] = json!("AwsConsoleSignIn");
        r["userIdentity"] = identity;
        r["additionalEventData"] =
            json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa});
        r["responseElements"] = json!({"ConsoleLogin": if failed { "Failure" } else { "Success" }});
        if failed {
            r["errorMessage"] = json!("Failed authentication");
        }
        r
    }

    fn filter(metric: &str) -> crate::filter_pattern::Expr {
        let f = CIS_FILTERS.iter().find(|f| f.metric == metric).unwrap();
        parse(f.pattern).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_pattern_parses_and_metrics_are_unique() {
        let mut metrics: Vec<&str> = CIS_FILTERS.iter().map(|f| f.metric).collect();
        metrics.sort();
        metrics.dedup();
        assert_eq!(metrics.len(), CIS_FILTERS.len());
        for f in CIS_FILTERS {
            parse(f.pattern).unwrap_or_else(|e| panic!("{}: {e}", f.metric));
        }
        let hub: Vec<&str> = CIS_FILTERS.iter().map(|f| f.security_hub).filter(|s| !s.is_empty()).collect();
        assert_eq!(hub.len(), 14, "CloudWatch.1 to .14");
    }

    #[test]
    fn patterns_compare_as_security_hub_does_whitespace_aside() {
        let f = CIS_FILTERS.iter().find(|f| f.metric == "CloudTrailChanges").unwrap();
        assert!(f.is_pattern(&f.pattern.replace(") || (", ")||(")));
        assert!(f.is_pattern(&format!("  {}\n", f.pattern.replace("{", "{ "))));
        assert!(!f.is_pattern(&f.pattern.replace(" || ($.eventName=StopLogging)", "")), "a term dropped");
        assert!(!f.is_pattern(&f.pattern.replace("(", "").replace(")", "")), "parentheses dropped");
        assert_eq!(normalized(r#"{ $.a = "x y" }"#), r#"{$.a="x y"}"#);
    }

    #[test]
    fn root_usage_counts_the_root_user_not_a_service_acting_for_it() {
        let root = json!({"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"});
        let f = filter("RootAccountUsage");
        assert!(f.matches(&console_login(root.clone(), "Yes", false)));
        let mut by_service = console_login(root.clone(), "Yes", false);
        by_service["userIdentity"]["invokedBy"] = json!("support.amazonaws.com");
        assert!(!f.matches(&by_service));
        let mut service_event = record("s3.amazonaws.com", "PutObject");
        service_event["userIdentity"] = root;
        service_event["eventType"] = json!("AwsServiceEvent");
        assert!(!f.matches(&service_event));
        assert!(!f.matches(&record("cloudtrail.amazonaws.com", "StopLogging")), "an assumed role");
    }

    #[test]
    fn unauthorized_calls_and_console_sign_ins() {
        let f = filter("UnauthorizedAPICalls");
        let mut denied = record("s3.amazonaws.com", "GetBucketPolicy");
        denied["errorCode"] = json!("AccessDenied");
        assert!(f.matches(&denied));
        denied["errorCode"] = json!("Client.UnauthorizedOperation");
        assert!(f.matches(&denied));
        denied["errorCode"] = json!("NoSuchBucketPolicy");
        assert!(!f.matches(&denied));
        assert!(!f.matches(&record("s3.amazonaws.com", "HeadBucket")), "the CIS 3.0 pattern would count this");

        let user = json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice", "accountId": "123456789012", "userName": "alice"});
        let no_mfa = filter("ConsoleSigninWithoutMFA");
        assert!(no_mfa.matches(&console_login(user.clone(), "No", false)));
        assert!(!no_mfa.matches(&console_login(user.clone(), "Yes", false)));
        let failures = filter("ConsoleAuthenticationFailure");
        assert!(failures.matches(&console_login(user.clone(), "No", true)));
        assert!(!failures.matches(&console_login(user, "No", false)));
    }

    #[test]
    fn each_change_filter_counts_its_events_and_not_its_neighbours() {
        // (metric, events it counts, events it must not), each event as (eventSource, eventName).
        type Events = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Events, Events)] = &[
            (
                "IAMPolicyChanges",
                &[("iam.amazonaws.com", "PutRolePolicy"), ("iam.amazonaws.com", "DetachGroupPolicy")],
                &[("iam.amazonaws.com", "CreateRole")],
            ),
            (
                "CloudTrailChanges",
                &[("cloudtrail.amazonaws.com", "StopLogging"), ("cloudtrail.amazonaws.com", "DeleteTrail")],
                &[("cloudtrail.amazonaws.com", "PutEventSelectors")],
            ),
            (
                "DisableOrDeleteCMK",
                &[("kms.amazonaws.com", "DisableKey"), ("kms.amazonaws.com", "ScheduleKeyDeletion")],
                &[("kms.amazonaws.com", "EnableKey"), ("iam.amazonaws.com", "DisableKey")],
            ),
            (
                "S3BucketPolicyChanges",
                &[("s3.amazonaws.com", "PutBucketPolicy"), ("s3.amazonaws.com", "DeleteBucketReplication")],
                &[("s3.amazonaws.com", "PutBucketVersioning"), ("ec2.amazonaws.com", "PutBucketPolicy")],
            ),
            (
                "AWSConfigChanges",
                &[
                    ("config.amazonaws.com", "StopConfigurationRecorder"),
                    ("config.amazonaws.com", "DeleteDeliveryChannel"),
                ],
                &[("config.amazonaws.com", "StartConfigurationRecorder")],
            ),
            (
                "SecurityGroupChanges",
                &[("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"), ("ec2.amazonaws.com", "DeleteSecurityGroup")],
                &[("ec2.amazonaws.com", "DescribeSecurityGroups")],
            ),
            (
                "NetworkACLChanges",
                &[
                    ("ec2.amazonaws.com", "CreateNetworkAclEntry"),
                    ("ec2.amazonaws.com", "ReplaceNetworkAclAssociation"),
                ],
                &[("ec2.amazonaws.com", "DescribeNetworkAcls")],
            ),
            (
                "NetworkGatewayChanges",
                &[("ec2.amazonaws.com", "AttachInternetGateway"), ("ec2.amazonaws.com", "DeleteCustomerGateway")],
                &[("ec2.amazonaws.com", "CreateNatGateway")],
            ),
            (
                "RouteTableChanges",
                &[("ec2.amazonaws.com", "CreateRoute"), ("ec2.amazonaws.com", "DisassociateRouteTable")],
                &[("ec2.amazonaws.com", "DescribeRouteTables")],
            ),
            (
                "RouteTableChangesEc2",
                &[("ec2.amazonaws.com", "ReplaceRoute")],
                &[("networkmanager.amazonaws.com", "CreateRoute")],
            ),
            (
                "VPCChanges",
                &[("ec2.amazonaws.com", "CreateVpc"), ("ec2.amazonaws.com", "AcceptVpcPeeringConnection")],
                &[("ec2.amazonaws.com", "CreateSubnet")],
            ),
            (
                "OrganizationsChangesAll",
                &[
                    ("organizations.amazonaws.com", "CancelHandshake"),
                    ("organizations.amazonaws.com", "EnableAllFeatures"),
                    ("organizations.amazonaws.com", "CreateOrganization"),
                ],
                &[("organizations.amazonaws.com", "DescribeOrganization"), ("iam.amazonaws.com", "CreateAccount")],
            ),
            (
                "OrganizationsChanges",
                &[
                    ("organizations.amazonaws.com", "LeaveOrganization"),
                    ("organizations.amazonaws.com", "AttachPolicy"),
                ],
                &[("organizations.amazonaws.com", "ListAccounts"), ("iam.amazonaws.com", "AttachPolicy")],
            ),
        ];
        for (metric, matching, not_matching) in cases {
            let f = filter(metric);
            for (source, name) in *matching {
                assert!(f.matches(&record(source, name)), "{metric} misses {source} {name}");
            }
            for (source, name) in *not_matching {
                assert!(!f.matches(&record(source, name)), "{metric} counts {source} {name}");
            }
        }
    }
}
