//! EventBridge "AWS API Call via CloudTrail" events, parsed leniently.
//!
//! Real CloudTrail records lack fields that typed models make mandatory (`userAgent`,
//! `requestID`, `eventType`, `readOnly` on older records), so the envelope and record are read
//! from a `serde_json::Value` and only what a control needs is required. A missing or
//! wrongly typed required field is an [`EventError`] naming the field.
//!
//! `requestParameters` can hold passwords (CreateBroker users, CreateDBCluster
//! `masterUserPassword`). It is kept in [`RequestParameters`], whose `Debug` prints nothing of
//! it, and logmend never logs or prints it: controls read identifiers out of it, nothing else.

use serde_json::Value;

/// The one detail-type logmend handles.
pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    #[error("event is not a JSON object")]
    NotAnObject,
    #[error("event field `{field}` is missing")]
    MissingField { field: &'static str },
    #[error("event field `{field}` must be {expected}")]
    WrongType { field: &'static str, expected: &'static str },
    #[error("event detail-type is {found:?}, expected \"AWS API Call via CloudTrail\"")]
    NotAnApiCall { found: String },
}

/// `requestParameters` of the CloudTrail record. Never printed, in any form.
#[derive(Clone, Default)]
pub struct RequestParameters(Value);

impl std::fmt::Debug for RequestParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestParameters(<not shown>)")
    }
}

impl RequestParameters {
    /// A string identifier out of the parameters (a name, an id); never the whole object.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// A string identifier nested in the parameters (`loggingConfiguration.resourceArn`).
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        path.iter().try_fold(&self.0, |v, k| v.get(k))?.as_str().filter(|s| !s.is_empty())
    }
}

/// The CloudTrail record reduced to what the controls use.
#[derive(Debug, Clone)]
pub struct ApiCallEvent {
    /// EventBridge event id (the envelope's `id`).
    pub id: String,
    pub account: String,
    /// The region the API call was made in, which is the region of the rule that delivered it.
    pub region: String,
    pub event_source: String,
    pub event_name: String,
    /// CloudTrail's own `eventID`, when present.
    pub cloudtrail_event_id: Option<String>,
    /// Set when the call failed; such events change nothing and are skipped.
    pub error_code: Option<String>,
    /// ARN of the caller, when the record has one (for logmend's own calls: its role session).
    pub caller_arn: Option<String>,
    pub request_parameters: RequestParameters,
    pub response_elements: Value,
}

impl ApiCallEvent {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EventError> {
        let value: Value = serde_json::from_slice(bytes).map_err(EventError::InvalidJson)?;
        Self::from_value(&value)
    }

    pub fn from_value(value: &Value) -> Result<Self, EventError> {
        let envelope = value.as_object().ok_or(EventError::NotAnObject)?;
        let detail_type = required_str(envelope.get("detail-type"), "detail-type")?;
        if detail_type != API_CALL_DETAIL_TYPE {
            return Err(EventError::NotAnApiCall { found: detail_type.to_owned() });
        }
        let detail = match envelope.get("detail") {
            None | Some(Value::Null) => return Err(EventError::MissingField { field: "detail" }),
            Some(Value::Object(d)) => d,
            Some(_) => return Err(EventError::WrongType { field: "detail", expected: "an object" }),
        };
        let region = match optional_str(envelope.get("region"), "region")? {
            Some(r) => r,
            None => required_str(detail.get("awsRegion"), "detail.awsRegion")?,
        };
        let account = match optional_str(envelope.get("account"), "account")? {
            Some(a) => a,
            None => required_str(detail.get("recipientAccountId"), "detail.recipientAccountId")?,
        };
        let request_parameters = match detail.get("requestParameters") {
            None | Some(Value::Null) => Value::Null,
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                return Err(EventError::WrongType { field: "detail.requestParameters", expected: "an object or null" });
            }
        };
        let response_elements = match detail.get("responseElements") {
            None | Some(Value::Null) => Value::Null,
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                return Err(EventError::WrongType { field: "detail.responseElements", expected: "an object or null" });
            }
        };
        let caller_arn =
            detail.get("userIdentity").and_then(|u| u.get("arn")).and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            id: optional_str(envelope.get("id"), "id")?.unwrap_or_default().to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            event_source: required_str(detail.get("eventSource"), "detail.eventSource")?.to_owned(),
            event_name: required_str(detail.get("eventName"), "detail.eventName")?.to_owned(),
            cloudtrail_event_id: optional_str(detail.get("eventID"), "detail.eventID")?.map(str::to_owned),
            error_code: optional_str(detail.get("errorCode"), "detail.errorCode")?.map(str::to_owned),
            caller_arn,
            request_parameters: RequestParameters(request_parameters),
            response_elements,
        })
    }

    /// A string out of `responseElements` (e.g. `trailARN`, `brokerId`).
    pub fn response_str(&self, key: &str) -> Option<&str> {
        self.response_elements.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// A string nested in `responseElements` (`vpc.vpcId`, `summary.aRN`); a list on the way
    /// is read at its first item (`loadBalancers[0].loadBalancerArn`).
    pub fn response_str_at(&self, path: &[&str]) -> Option<&str> {
        path.iter()
            .try_fold(&self.response_elements, |v, k| match v {
                Value::Array(items) => items.first().and_then(|i| i.get(k)),
                _ => v.get(k),
            })?
            .as_str()
            .filter(|s| !s.is_empty())
    }
}

fn required_str<'a>(value: Option<&'a Value>, field: &'static str) -> Result<&'a str, EventError> {
    optional_str(value, field)?.ok_or(EventError::MissingField { field })
}

fn optional_str<'a>(value: Option<&'a Value>, field: &'static str) -> Result<Option<&'a str>, EventError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EventError::WrongType { field, expected: "a string" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope(detail: Value) -> Value {
        json!({"version":"0","id":"e-1","detail-type":"AWS API Call via CloudTrail","source":"aws.cloudtrail",
               "account":"123456789012","time":"2024-10-10T15:18:55Z","region":"eu-west-1","resources":[],
               "detail": detail})
    }

    #[test]
    fn parses_a_minimal_record_without_the_optional_fields() {
        let ev = ApiCallEvent::from_value(&envelope(json!({
            "eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail",
            "requestParameters":{"name":"main"},"responseElements":{"trailARN":"arn:aws:cloudtrail:eu-west-1:123456789012:trail/main"}
        })))
        .unwrap();
        assert_eq!(ev.region, "eu-west-1");
        assert_eq!(ev.event_name, "UpdateTrail");
        assert_eq!(ev.request_parameters.str("name"), Some("main"));
        assert_eq!(ev.response_str("trailARN"), Some("arn:aws:cloudtrail:eu-west-1:123456789012:trail/main"));
        assert_eq!(ev.error_code, None);
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let err = ApiCallEvent::from_value(&envelope(json!({"eventSource":"cloudtrail.amazonaws.com"}))).unwrap_err();
        assert_eq!(err.to_string(), "event field `detail.eventName` is missing");
        let err = ApiCallEvent::from_value(&envelope(json!({"eventSource":7,"eventName":"X"}))).unwrap_err();
        assert_eq!(err.to_string(), "event field `detail.eventSource` must be a string");
        let err = ApiCallEvent::from_value(&json!({"detail-type":"AWS API Call via CloudTrail"})).unwrap_err();
        assert_eq!(err.to_string(), "event field `detail` is missing");
        let err = ApiCallEvent::from_value(&json!([1])).unwrap_err();
        assert!(matches!(err, EventError::NotAnObject));
        let err = ApiCallEvent::from_slice(b"{not json").unwrap_err();
        assert!(err.to_string().starts_with("event is not valid JSON"));
    }

    #[test]
    fn other_detail_types_are_refused_by_name() {
        let mut ev = envelope(json!({}));
        ev["detail-type"] = json!("Scheduled Event");
        let err = ApiCallEvent::from_value(&ev).unwrap_err();
        assert!(err.to_string().contains("\"Scheduled Event\""), "{err}");
    }

    #[test]
    fn failed_calls_carry_their_error_code_and_null_parameters() {
        let ev = ApiCallEvent::from_value(&envelope(json!({
            "eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","errorCode":"AccessDenied",
            "errorMessage":"User is not authorized","requestParameters":null,"responseElements":null
        })))
        .unwrap();
        assert_eq!(ev.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(ev.request_parameters.str("name"), None);
    }

    #[test]
    fn request_parameters_never_print() {
        let ev = ApiCallEvent::from_value(&envelope(json!({
            "eventSource":"amazonmq.amazonaws.com","eventName":"CreateBroker",
            "requestParameters":{"users":[{"username":"admin","password":"hunter2-secret"}]}
        })))
        .unwrap();
        let shown = format!("{ev:?} {ev:#?}");
        assert!(!shown.contains("hunter2-secret") && !shown.contains("admin"), "{shown}");
    }

    #[test]
    fn region_and_account_fall_back_to_the_record() {
        let ev = ApiCallEvent::from_value(&json!({"detail-type":"AWS API Call via CloudTrail","detail":{
            "eventSource":"logs.amazonaws.com","eventName":"CreateLogGroup","awsRegion":"us-west-2",
            "recipientAccountId":"111122223333"}}))
        .unwrap();
        assert_eq!((ev.region.as_str(), ev.account.as_str()), ("us-west-2", "111122223333"));
    }
}
