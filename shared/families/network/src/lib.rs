//! logmend's network and edge logs family: VPC Flow Logs (EC2.6), load balancer access and
//! connection logs (ELB.5), WAF logging (WAF.11 and the web ACL controls), CloudFront standard
//! logging (CloudFront.5) and Route 53 Resolver query logs, each delivered to a destination
//! that accepts the service's writes (`store`). Its function is `network-logs`, the only one
//! that links aws-sdk-ec2, the heaviest SDK crate there is.

pub mod cloudfront_logging;
pub mod elb_access_logs;
pub mod resolver_query_logs;
pub mod store;
pub mod vpc;
pub mod vpc_flow_logs;
pub mod wafv2_logging;

use logmend_core::registry::{ControlDef, Family};

/// The family's clients, made once per region.
#[derive(Clone, Debug)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Classic Load Balancers (the 2012 API).
    pub elb: aws_sdk_elasticloadbalancing::Client,
    pub wafv2: aws_sdk_wafv2::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub resolver: aws_sdk_route53resolver::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl logmend_core::control::FamilyClients for Clients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(sdk),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            elb: aws_sdk_elasticloadbalancing::Client::new(sdk),
            wafv2: aws_sdk_wafv2::Client::new(sdk),
            cloudfront: aws_sdk_cloudfront::Client::new(sdk),
            resolver: aws_sdk_route53resolver::Client::new(sdk),
            s3: logmend_s3_store::client(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
        }
    }
}

pub static CONTROLS: &[&dyn ControlDef] = &[
    &vpc_flow_logs::VpcFlowLogs,
    &elb_access_logs::ElbAccessLogs,
    &wafv2_logging::Wafv2Logging,
    &cloudfront_logging::CloudFrontLogging,
    &resolver_query_logs::ResolverQueryLogs,
];

pub static FAMILY: Family =
    Family { name: "network", function: "network-logs", title: "network and edge logs", controls: CONTROLS };
