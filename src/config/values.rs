//! One section's values, read the same way for every section and registrar kind: each
//! accessor validates and reports the file, line, section and key of a problem.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::ConfigError;
use crate::secret::Secret;

/// One section's entries with positions, after `%%` handling and `[DEFAULT]` inheritance.
pub struct Values<'a> {
    /// The file, for errors.
    pub path: &'a Path,
    /// The section's name as written.
    pub section: String,
    /// Value and line of each key.
    pub entries: BTreeMap<String, (String, usize)>,
    /// The keys of `entries` that came from `[DEFAULT]`.
    pub inherited: BTreeSet<String>,
}

impl Values<'_> {
    /// A problem with `key` of this section.
    pub fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: self.entries.get(key).map(|(_, line)| *line),
            section: Some(self.section.clone()),
            key: Some(key.to_string()),
            problem: problem.into(),
        }
    }

    /// `key` is required.
    pub fn missing(&self, key: &str) -> ConfigError {
        self.error(key, "is required but missing or empty")
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|(v, _)| v.as_str())
    }

    /// The value of `key`, trimmed, which must not be empty.
    pub fn required(&self, key: &str) -> Result<&str, ConfigError> {
        match self.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim()),
            _ => Err(self.missing(key)),
        }
    }

    /// The trimmed value of `key`, if not empty.
    pub fn optional(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A yes/no value.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(key) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" => Ok(true),
                "no" | "false" | "off" | "0" => Ok(false),
                _ => Err(self.error(
                    key,
                    format!("`{v}` is not yes/no (also true/false, on/off, 1/0)"),
                )),
            },
        }
    }

    /// A whole number within `min..=max`.
    pub fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
        let Some(v) = self.optional(key) else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.error(
                key,
                format!("`{v}` is not a whole number from {min} to {max}"),
            )),
        }
    }

    /// A secret value, required.
    pub fn secret(&self, key: &str) -> Result<Secret, ConfigError> {
        match self.get(key) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(self.missing(key)),
        }
    }

    /// An http(s) URL without credentials, or `default`.
    pub fn url(&self, key: &str, default: &str) -> Result<String, ConfigError> {
        self.parsed_url(key, default).map(|(value, _)| value)
    }

    /// [`Values::url`], and the URL as parsed.
    fn parsed_url(&self, key: &str, default: &str) -> Result<(String, url::Url), ConfigError> {
        let value = self.optional(key).unwrap_or(default);
        match url::Url::parse(value) {
            Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => {
                if !u.username().is_empty() || u.password().is_some() {
                    return Err(self.error(
                        key,
                        "must not carry credentials; use the username/password or token keys",
                    ));
                }
                Ok((value.to_string(), u))
            }
            _ => Err(self.error(
                key,
                format!("`{}` is not an http(s) URL", without_userinfo(value)),
            )),
        }
    }

    /// A registrar's `url`: like [`Values::url`], but `http://` only to a loopback host
    /// (the tests' fakes) or with `allow_insecure_url = yes`, since the password, one-time
    /// codes and tokens travel in it.
    pub fn registrar_url(&self, default: &str) -> Result<(String, bool), ConfigError> {
        let (value, parsed) = self.parsed_url("url", default)?;
        let insecure_ok = self.bool("allow_insecure_url", false)?;
        if parsed.scheme() == "http" && !insecure_ok && !is_loopback(&value) {
            return Err(self.error(
                "url",
                format!(
                    "`http://{}` would carry the registrar's password, one-time codes or token in clear text; use https://, or, if the way to it is protected otherwise (a VPN, a TLS-terminating proxy on this host), set allow_insecure_url = yes in [{}]",
                    crate::log::printable(parsed.host_str().unwrap_or("")),
                    self.section
                ),
            ));
        }
        Ok((value, insecure_ok))
    }

    /// A list of zone names.
    pub fn zones(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        let mut zones = Vec::new();
        for word in self.get(key).unwrap_or("").split_whitespace() {
            let zone: crate::hostname::Hostname = word.parse().map_err(|e| {
                self.error(
                    key,
                    format!("`{}` is not a zone name: {e}", crate::log::printable(word)),
                )
            })?;
            zones.push(zone.as_str().to_string());
        }
        Ok(zones)
    }
}

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1. Judged by the
/// host as the HTTP client will read it (it is what is connected to), not as the URL
/// standard would rewrite it: `loc%61lhost` or `127.0.0.1.` are names the client looks
/// up, so they are not loopback however the URL standard decodes them.
pub fn is_loopback(value: &str) -> bool {
    let Ok(uri) = value.parse::<ureq::http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// A URL as it may be quoted in an error: whatever stands before an `@` could be a
/// password, so it is cut off.
fn without_userinfo(value: &str) -> String {
    match value.rfind('@') {
        Some(at) => format!("...{}", crate::log::printable(&value[at..])),
        None => crate::log::printable(value),
    }
}
