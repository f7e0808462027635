//! A Gandi LiveDNS account's section: its keys, their validation, and how `check-config`
//! shows them.

use std::any::Any;
use std::fmt::Write as _;

use super::Gandi;
use crate::backend::{Kind, Registrar, Settings, Shared, yes_no, zones_shown};
use crate::config::ConfigError;
use crate::config::values::Values;
use crate::secret::Secret;

/// Gandi's production LiveDNS API.
pub const DEFAULT_URL: &str = "https://api.gandi.net/v5/livedns";

/// `[gandi]` and `[gandi:NAME]`.
pub const KIND: Kind = Kind {
    name: "gandi",
    brand: "Gandi",
    title: "Gandi LiveDNS",
    keys: &[
        "token",
        "api_key",
        "url",
        "allow_insecure_url",
        "zones",
        "ttl",
    ],
    bound_keys: &["url", "allow_insecure_url", "token", "api_key"],
    parse,
};

/// How Gandi is told who we are.
#[derive(Debug, Clone)]
pub enum GandiCredential {
    /// `Authorization: Bearer` with a personal access token (current scheme).
    Token(Secret),
    /// `Authorization: Apikey` with a legacy API key.
    ApiKey(Secret),
}

/// A Gandi LiveDNS account.
#[derive(Debug, Clone)]
pub struct GandiSettings {
    /// API base URL. Default [`DEFAULT_URL`].
    pub url: String,
    /// `url` may be `http://` to a host other than this one. Default no.
    pub allow_insecure_url: bool,
    /// Token or legacy key.
    pub credential: GandiCredential,
    /// Zones of this account; empty → found by asking Gandi.
    pub zones: Vec<String>,
    /// TTL to set; None keeps each record's current TTL.
    pub ttl: Option<u32>,
}

impl Settings for GandiSettings {
    fn zones(&self) -> &[String] {
        &self.zones
    }

    fn describe(&self, out: &mut String) {
        let _ = writeln!(out, "  url = {}", self.url);
        let _ = writeln!(
            out,
            "  allow_insecure_url = {}",
            yes_no(self.allow_insecure_url)
        );
        let _ = match &self.credential {
            GandiCredential::Token(t) => writeln!(out, "  token = {t}"),
            GandiCredential::ApiKey(k) => writeln!(out, "  api_key = {k}"),
        };
        let _ = writeln!(out, "  zones = {}", zones_shown(&self.zones));
        let ttl = self.ttl;
        let _ = writeln!(
            out,
            "  ttl = {}",
            ttl.map_or("(keep each record's TTL)".to_string(), |t| t.to_string())
        );
    }

    fn secrets(&self) -> Vec<&Secret> {
        match &self.credential {
            GandiCredential::Token(secret) | GandiCredential::ApiKey(secret) => vec![secret],
        }
    }

    fn connect(&self, label: &str, shared: &Shared) -> Box<dyn Registrar> {
        Box::new(Gandi::new(
            label.to_string(),
            self.clone(),
            shared.policy,
            shared.http.clone(),
            shared.scrub.clone(),
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn parse(v: &Values<'_>) -> Result<Box<dyn Settings>, ConfigError> {
    let credential = match (v.optional("token"), v.optional("api_key")) {
        (Some(_), Some(_)) => {
            return Err(v.error(
                "api_key",
                "set either token (personal access token) or api_key (legacy key), not both",
            ));
        }
        (Some(_), None) => GandiCredential::Token(v.secret("token")?),
        (None, Some(_)) => GandiCredential::ApiKey(v.secret("api_key")?),
        (None, None) => {
            return Err(v.error("token", "is required: create a personal access token in Gandi's admin (permission \"Manage domain name technical configurations\")"));
        }
    };
    let ttl = match v.optional("ttl") {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(v.error("ttl", format!("`{text}` is not a TTL in seconds"))),
        },
    };
    let (url, allow_insecure_url) = v.registrar_url(DEFAULT_URL)?;
    Ok(Box::new(GandiSettings {
        url: url.trim_end_matches('/').to_string(),
        allow_insecure_url,
        credential,
        zones: v.zones("zones")?,
        ttl,
    }))
}
