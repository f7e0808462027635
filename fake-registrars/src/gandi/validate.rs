//! Validation of what a client sends, producing the entries of the §6.2 400 body
//! (`{"status":"error","errors":[{"location","name","description"}]}`).
//!
//! Descriptions for the TTL bounds are the real ones (§4); the others are marked [U] in the
//! spec, so clients must log them, never match on them.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

use super::{MAX_TTL, MIN_TTL};

/// Types the API knows; anything else cannot be written.
const KNOWN_TYPES: &[&str] = &[
    "A",
    "AAAA",
    "ALIAS",
    "CAA",
    "CDS",
    "CNAME",
    "DNAME",
    "DS",
    "KEY",
    "LOC",
    "MX",
    "NAPTR",
    "NS",
    "OPENPGPKEY",
    "PTR",
    "RP",
    "SPF",
    "SRV",
    "SSHFP",
    "TLSA",
    "TXT",
    "WKS",
];

/// One entry of the `errors` array of a 400 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    /// Where the bad input was: `body`, `path`, `querystring` or `header`.
    pub location: &'static str,
    /// The offending field, e.g. `rrset_ttl`.
    pub name: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldError {
    pub(super) fn new(location: &'static str, name: &str, description: impl Into<String>) -> Self {
        FieldError {
            location,
            name: name.to_string(),
            description: description.into(),
        }
    }
}

/// `Content-Type: application/json` is required on PUT, POST and PATCH (§3); parameters and
/// case do not matter.
pub(super) fn content_type(value: Option<&str>) -> Result<(), FieldError> {
    let media_type = value
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        let sent = value.unwrap_or("");
        Err(FieldError::new(
            "header",
            "Content-Type",
            format!("'{sent}' is not a supported content type, use 'application/json'"),
        ))
    }
}

/// The body must be one JSON object.
pub(super) fn json_object(body: &str) -> Result<Map<String, Value>, FieldError> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(FieldError::new(
            "body",
            "body",
            format!("{other} is not of type 'object'"),
        )),
        Err(e) => Err(FieldError::new(
            "body",
            "body",
            format!("Invalid JSON: {e}"),
        )),
    }
}

/// `rrset_ttl`: absent means the default (§4 rule 2), otherwise an integer in range.
pub(super) fn ttl(body: &Map<String, Value>, default: u32) -> Result<u32, FieldError> {
    let bad = |description: String| FieldError::new("body", "rrset_ttl", description);
    let Some(value) = body.get("rrset_ttl") else {
        return Ok(default);
    };
    let Value::Number(number) = value else {
        return Err(bad(format!("{value} is not of type 'integer'")));
    };
    if let Some(n) = number.as_i64() {
        if n < i64::from(MIN_TTL) {
            Err(bad(format!("{n} is less than minimum value {MIN_TTL}")))
        } else if n > i64::from(MAX_TTL) {
            Err(bad(format!("{n} is greater than maximum value {MAX_TTL}")))
        } else {
            // In range, so it fits.
            Ok(n as u32)
        }
    } else if let Some(n) = number.as_u64() {
        Err(bad(format!("{n} is greater than maximum value {MAX_TTL}")))
    } else {
        Err(bad(format!("{number} is not of type 'integer'")))
    }
}

/// `rrset_values`: a non-empty array of non-empty strings, each valid for the type. Returns
/// them as stored: AAAA in compressed lower-case form, TXT wrapped in double quotes (§4).
pub(super) fn values(body: &Map<String, Value>, rr_type: &str) -> Result<Vec<String>, FieldError> {
    let bad = |description: String| FieldError::new("body", "rrset_values", description);
    let items = match body.get("rrset_values") {
        None => return Err(bad("Required".to_string())),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(bad(
                "[] is too short: at least 1 value is required".to_string()
            ));
        }
        Some(Value::Array(items)) => items,
        Some(other) => return Err(bad(format!("{other} is not of type 'array'"))),
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(text) => value(text, rr_type).map_err(&bad),
            other => Err(bad(format!("{other} is not of type 'string'"))),
        })
        .collect()
}

/// One value in presentation format, checked and normalised for its type.
fn value(text: &str, rr_type: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("'' is not a valid value".to_string());
    }
    if text.chars().any(char::is_control) {
        return Err(format!("{text:?} contains a control character"));
    }
    match rr_type {
        "A" => text
            .parse::<Ipv4Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("'{text}' is not a valid IPv4 address")),
        "AAAA" => text
            .parse::<Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("'{text}' is not a valid IPv6 address")),
        "TXT" => Ok(quoted_txt(text)),
        _ => Ok(text.to_string()),
    }
}

/// The API stores TXT data quoted; a value that already is quoted is kept (§4).
fn quoted_txt(text: &str) -> String {
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('"', "\\\""))
    }
}

/// An rrset type a record can be written with (already upper-cased).
pub(super) fn rrset_type(rr_type: &str, location: &'static str) -> Result<(), FieldError> {
    if KNOWN_TYPES.contains(&rr_type) {
        Ok(())
    } else {
        Err(FieldError::new(
            location,
            "rrset_type",
            format!("'{rr_type}' is not a supported record type"),
        ))
    }
}

/// A name relative to the zone (already lower-cased): `@`, or dot-separated labels of
/// letters, digits, `-` and `_`, where only the first label may be the wildcard `*` (§4).
/// ALIAS is allowed only at the apex (a real §6.2 description).
pub(super) fn rrset_name(
    name: &str,
    rr_type: &str,
    location: &'static str,
) -> Result<(), FieldError> {
    let bad = |description: String| FieldError::new(location, "rrset_name", description);
    if rr_type == "ALIAS" && name != "@" {
        return Err(bad(format!(
            "only '@' is allowed for ALIAS records (param: {name})"
        )));
    }
    if name == "@" {
        return Ok(());
    }
    let label_ok = |(i, label): (usize, &str)| {
        (i == 0 && label == "*")
            || (!label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    if name.len() <= 253 && name.split('.').enumerate().all(label_ok) {
        Ok(())
    } else {
        Err(bad(format!("'{name}': invalid hostname")))
    }
}

/// A positive integer query parameter (`page`, `per_page`).
pub(super) fn positive(name: &str, raw: &str) -> Result<usize, FieldError> {
    let bad = |description: String| FieldError::new("querystring", name, description);
    match raw.parse::<i64>() {
        Ok(n) if n >= 1 => usize::try_from(n).map_err(|_| bad(format!("{n} is too large"))),
        Ok(n) => Err(bad(format!("{n} is less than minimum value 1"))),
        Err(_) => Err(bad(format!("'{raw}' is not a valid integer"))),
    }
}
