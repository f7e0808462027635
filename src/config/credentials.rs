//! The credentials ddns-cgi checks itself: `[user:NAME] secret` and `password_hash`,
//! `[default] htpasswd` and the failure limit, and the `[dialect:NAME]` switches that let a
//! dialect read credentials from the request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ConfigError;
use super::values::Values;
use crate::auth::hash::{self, Format};
use crate::auth::{Credentials, UserCredentials};
use crate::protocol::{DIALECTS, Dialect, Switches};

/// The keys of a `[user:NAME]` section that are credentials.
pub const USER_CREDENTIAL_KEYS: &[&str] = &["secret", "password_hash"];

/// Shortest plain secret: the dyndns server's rule of at least 8 characters.
const MIN_SECRET: usize = 8;

/// `[default]`'s keys and the users' credentials, validated.
pub fn credentials(default: &Values<'_>, users: &[Values<'_>]) -> Result<Credentials, ConfigError> {
    let htpasswd = match default.optional("htpasswd") {
        None => None,
        Some(file) if Path::new(file).is_absolute() => Some(PathBuf::from(file)),
        Some(file) => {
            return Err(default.error(
                "htpasswd",
                format!("`{}` must be an absolute path", crate::log::printable(file)),
            ));
        }
    };
    let mut found = BTreeMap::new();
    for user in users {
        let name = user.section["user:".len()..].to_string();
        let secret = match user.get("secret") {
            None => None,
            Some(_) => Some(secret(user)?),
        };
        let password_hash = match user.get("password_hash") {
            None => None,
            Some(_) => {
                let value = user.secret("password_hash")?;
                hash::check_config_hash(value.expose().trim())
                    .map_err(|problem| user.error("password_hash", problem))?;
                Some(crate::secret::Secret::new(value.expose().trim()))
            }
        };
        if secret.is_some() || password_hash.is_some() {
            found.insert(
                name.to_ascii_lowercase(),
                (
                    user,
                    UserCredentials {
                        name,
                        secret,
                        password_hash,
                    },
                ),
            );
        }
    }
    check_unique_secrets(&found)?;
    Ok(Credentials {
        users: found.into_iter().map(|(k, (_, c))| (k, c)).collect(),
        htpasswd,
        fail_limit: default.number("auth_fail_limit", 0, 10_000)?.unwrap_or(10) as u32,
        fail_window: default
            .number("auth_fail_window", 10, 86_400 * 7)?
            .unwrap_or(900),
    })
}

/// A user's `secret`: a hash as `hash-secret` prints it, or plain text of at least
/// [`MIN_SECRET`] printable characters (accepted for migration; `check-config` warns).
fn secret(user: &Values<'_>) -> Result<crate::secret::Secret, ConfigError> {
    let value = user.secret("secret")?;
    let text = value.expose().trim();
    if text.starts_with('$') || text.starts_with("{SHA}") {
        hash::check_config_hash(text).map_err(|problem| user.error("secret", problem))?;
    } else if text.chars().count() < MIN_SECRET || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(user.error(
            "secret",
            format!(
                "must be at least {MIN_SECRET} printable ASCII characters without blanks (or its hash from `ddns-cgi hash-secret`)"
            ),
        ));
    }
    Ok(crate::secret::Secret::new(text))
}

/// Two users with the same plain secret (or the same hash string) could not be told apart.
fn check_unique_secrets(
    found: &BTreeMap<String, (&Values<'_>, UserCredentials)>,
) -> Result<(), ConfigError> {
    let with_secret: Vec<&(&Values<'_>, UserCredentials)> =
        found.values().filter(|(_, c)| c.secret.is_some()).collect();
    for (i, (values, creds)) in with_secret.iter().enumerate() {
        let twin = with_secret[..i]
            .iter()
            .find(|(_, other)| other.secret == creds.secret);
        if let Some((_, other)) = twin {
            return Err(values.error(
                "secret",
                format!(
                    "[user:{}] has the same secret; a secret names its user, so each needs its own",
                    other.name
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a stored secret is plain text (accepted for migration only).
pub fn is_plain(secret: &crate::secret::Secret) -> bool {
    Format::of(secret.expose()).is_none()
}

/// The dialect a `[dialect:NAME]` section is for.
pub fn dialect_of(name: &str) -> Result<&'static dyn Dialect, String> {
    DIALECTS
        .iter()
        .copied()
        .find(|d| d.name() == name)
        .ok_or_else(|| {
            let known: Vec<String> = DIALECTS
                .iter()
                .map(|d| format!("[dialect:{}]", d.name()))
                .collect();
            format!("unknown dialect; known are {}", known.join(", "))
        })
}

/// A `[dialect:NAME]` section's switches, all yes/no.
pub fn switches(dialect: &dyn Dialect, values: &Values<'_>) -> Result<Switches, ConfigError> {
    let mut on = Vec::new();
    for key in dialect.switches() {
        if values.bool(key, false)? {
            on.push(*key);
        }
    }
    Ok(Switches::new(on))
}
