//! A SchlundTech account's section: its keys, their validation, and how `check-config`
//! shows them.

use std::any::Any;
use std::fmt::Write as _;

use super::Schlund;
use crate::backend::{Kind, Registrar, Settings, Shared, yes_no, zones_shown};
use crate::config::ConfigError;
use crate::config::values::Values;
use crate::secret::Secret;

/// The SchlundTech gateway, as ws.ddns defaults it.
pub const DEFAULT_URL: &str = "https://gateway.schlundtech.de";

/// The TTLs ddns-cgi writes to a SchlundTech zone: a minute to thirty days.
pub const TTL_RANGE: std::ops::RangeInclusive<u32> = 60..=2_592_000;

/// `[schlund]`, and (as in ws.ddns files) the account in `[default]`.
pub const KIND: Kind = Kind {
    name: "schlund",
    brand: "SchlundTech",
    title: "SchlundTech XML gateway",
    keys: &[
        "username",
        "password",
        "context",
        "url",
        "allow_insecure_url",
        "totp_secret",
        "zones",
        "ttl",
    ],
    bound_keys: &[
        "url",
        "allow_insecure_url",
        "username",
        "password",
        "context",
        "totp_secret",
    ],
    parse,
};

/// A SchlundTech / AutoDNS XML-gateway account.
#[derive(Debug, Clone)]
pub struct SchlundSettings {
    /// Gateway URL. Default [`DEFAULT_URL`].
    pub url: String,
    /// `url` may be `http://` to a host other than this one. Default no.
    pub allow_insecure_url: bool,
    /// Gateway user.
    pub username: String,
    /// Gateway password.
    pub password: Secret,
    /// Gateway context. Default `10`.
    pub context: String,
    /// Base32 TOTP seed; when set every request carries a one-time code.
    pub totp_secret: Option<Secret>,
    /// Zones of this account; empty → found by asking the gateway.
    pub zones: Vec<String>,
    /// TTL for records ddns-cgi creates (`create_missing_records`). Default 300.
    pub ttl: u32,
}

impl Settings for SchlundSettings {
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
        let _ = writeln!(out, "  username = {}", self.username);
        let _ = writeln!(out, "  password = {}", self.password);
        let _ = writeln!(out, "  context = {}", self.context);
        let totp = self.totp_secret.as_ref();
        let _ = writeln!(
            out,
            "  totp_secret = {}",
            totp.map_or("(none)".to_string(), |t| t.to_string())
        );
        let _ = writeln!(out, "  zones = {}", zones_shown(&self.zones));
        let _ = writeln!(out, "  ttl = {}", self.ttl);
    }

    fn secrets(&self) -> Vec<&Secret> {
        std::iter::once(&self.password)
            .chain(self.totp_secret.as_ref())
            .collect()
    }

    fn connect(&self, label: &str, shared: &Shared) -> Box<dyn Registrar> {
        Box::new(Schlund::new(
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
    let context = v.optional("context").unwrap_or("10").to_string();
    if context.parse::<u32>().is_err() {
        return Err(v.error(
            "context",
            format!("`{context}` is not a number (SchlundTech customers use 10)"),
        ));
    }
    let totp_secret = match v.get("totp_secret") {
        None => None,
        Some(raw) if raw.trim().is_empty() => None,
        Some(raw) => {
            let normalized = normalize_base32(raw);
            if totp_rs::Secret::try_from_base32(&normalized).is_err() || normalized.len() < 16 {
                return Err(v.error(
                    "totp_secret",
                    "is not a base32 TOTP secret (letters A-Z and digits 2-7, at least 16 of them, as shown when two-factor login was set up)",
                ));
            }
            Some(Secret::new(normalized))
        }
    };
    let (url, allow_insecure_url) = v.registrar_url(DEFAULT_URL)?;
    Ok(Box::new(SchlundSettings {
        url,
        allow_insecure_url,
        username: v.required("username")?.to_string(),
        password: v.secret("password")?,
        context,
        totp_secret,
        zones: v.zones("zones")?,
        ttl: v
            .number(
                "ttl",
                u64::from(*TTL_RANGE.start()),
                u64::from(*TTL_RANGE.end()),
            )?
            .unwrap_or(300) as u32,
    }))
}

/// Base32 as authenticator apps show it: spaces, lower case and padding are all accepted.
fn normalize_base32(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
