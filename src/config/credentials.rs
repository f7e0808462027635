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
        if (secret.is_some() || password_hash.is_some())
            && found.contains_key(&name.to_ascii_lowercase())
        {
            return Err(user.error(
                USER_CREDENTIAL_KEYS
                    .iter()
                    .find(|k| user.get(k).is_some())
                    .copied()
                    .unwrap_or("secret"),
                "another [user:...] section names the same user in other letter case; merge them",
            ));
        }
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

/// A `[dialect:NAME]` section's switches (yes/no) and text settings, checked by the
/// dialect; `is_user` says whether a `[user:NAME]` section exists.
pub fn switches(
    dialect: &dyn Dialect,
    values: &Values<'_>,
    is_user: &dyn Fn(&str) -> bool,
) -> Result<Switches, ConfigError> {
    let mut on = Vec::new();
    for key in dialect.switches() {
        if values.bool(key, false)? {
            on.push(*key);
        }
    }
    let settings = dialect
        .settings()
        .iter()
        .filter_map(|key| values.optional(key).map(|v| (*key, v.to_string())))
        .collect();
    let switches = Switches::new(on).with_values(settings);
    dialect
        .check_settings(&switches, is_user)
        .map_err(|(key, problem)| values.error(key, problem))?;
    Ok(switches)
}

#[cfg(test)]
mod tests {
    use crate::acl::Acl;
    use crate::config::{Config, ConfigError};

    const BCRYPT: &str = "$2y$04$BMzE62P8qELNxp9PgNRln.YTGJOUFIzr7s8Os4JU0uMLGTy/kzu8C";

    fn load(text: &str) -> Result<Config, ConfigError> {
        let text = format!("[default]\nusername = u\npassword = p\n{text}");
        Config::parse_str(&text, std::path::Path::new("/etc/ddns-cgi/test.ini"))
    }

    #[test]
    fn user_credentials_load_and_leave_the_acl_alone() {
        let c = load(&format!(
            "htpasswd = /etc/ddns-cgi/htpasswd\n[user:Alice]\nsecret = alice-secret-1\npassword_hash = {BCRYPT}\n[user:bob]\nsecret = {BCRYPT}\n"
        ))
        .unwrap();
        let alice = &c.credentials.users["alice"];
        assert_eq!(alice.name, "Alice");
        assert_eq!(alice.secret.as_ref().unwrap().expose(), "alice-secret-1");
        assert_eq!(alice.password_hash.as_ref().unwrap().expose(), BCRYPT);
        assert!(c.credentials.users["bob"].password_hash.is_none());
        assert_eq!(
            c.credentials.htpasswd.as_deref(),
            Some(std::path::Path::new("/etc/ddns-cgi/htpasswd"))
        );
        assert_eq!(
            (c.credentials.fail_limit, c.credentials.fail_window),
            (10, 900)
        );
        // Sections holding only credentials give nobody a list of their own.
        assert_eq!(c.acl, Acl::Open);
        let described = crate::cli::describe(&c);
        assert!(
            described.contains("  secret = *** (plain text)"),
            "{described}"
        );
        assert!(
            described.contains("  password_hash = *** (bcrypt hash)"),
            "{described}"
        );
        assert!(!described.contains("alice-secret-1") && !described.contains(BCRYPT));
        let warnings = crate::cli::warnings(&c).join("\n");
        assert!(
            warnings.contains("[user:Alice] secret is plain text")
                && warnings.contains("ddns-cgi hash-secret"),
            "{warnings}"
        );
        assert!(!warnings.contains("alice-secret-1"), "{warnings}");
    }

    #[test]
    fn bad_credentials_are_config_errors_that_never_quote_them() {
        let cases = [
            ("[user:a]\nsecret = short\n", "secret", "at least 8"),
            (
                "[user:a]\nsecret = has blank inside\n",
                "secret",
                "without blanks",
            ),
            (
                "[user:a]\npassword_hash = plain-password\n",
                "password_hash",
                "hash-secret",
            ),
            (
                "[user:a]\npassword_hash = {SHA}60UFl5iwgUWzLJMimiNfwkJFhnI=\n",
                "password_hash",
                "only in htpasswd",
            ),
            (
                "[user:a]\nsecret = same-secret-1\n[user:b]\nsecret = same-secret-1\n",
                "secret",
                "[user:a] has the same secret",
            ),
            ("htpasswd = htpasswd\n", "htpasswd", "absolute"),
            ("auth_fail_window = 1\n", "auth_fail_window", "from 10"),
        ];
        for (text, key, problem) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.key.as_deref(), Some(key), "{text}: {e}");
            assert!(e.to_string().contains(problem), "{text}: {e}");
            for secret in ["short", "plain-password", "same-secret-1", "60UFl5iw"] {
                assert!(!e.to_string().contains(secret), "{e}");
            }
        }
    }

    #[test]
    fn dialect_sections_hold_their_own_switches_only() {
        let c =
            load("[dialect:noip]\nquery_credentials = yes\nauthorization_header = no\n").unwrap();
        assert!(c.switches("noip").is_on("query_credentials"));
        assert!(!c.switches("noip").is_on("authorization_header"));
        assert!(
            !load("")
                .unwrap()
                .switches("noip")
                .is_on("query_credentials")
        );
        let described = crate::cli::describe(&c);
        assert!(
            described.contains(
                "[dialect:noip]\n  query_credentials = yes\n  authorization_header = no\n"
            ),
            "{described}"
        );
        let warnings = crate::cli::warnings(&c).join("\n");
        assert!(warnings.contains("no password can match"), "{warnings}");

        let e = load("[dialect:noip]\nsecret = x\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown key; known here are: query_credentials, authorization_header"),
            "{e}"
        );
        let c = load("[dialect:dyndns]\ndelete_missing_family = yes\n").unwrap();
        assert!(c.switches("dyndns").is_on("delete_missing_family"));
        for name in ["gandi_dyndns", "NOIP", ""] {
            let e = load(&format!("[dialect:{name}]\n")).unwrap_err();
            assert!(
                e.to_string()
                    .contains("unknown dialect; known are [dialect:noip]"),
                "{e}"
            );
        }
        let e = load("[dialect:noip]\nquery_credentials = maybe\n").unwrap_err();
        assert!(e.to_string().contains("not yes/no"), "{e}");
        // [DEFAULT] never turns a switch on.
        let text = "[DEFAULT]\nquery_credentials = yes\n[default]\nusername = u\npassword = p\n[dialect:noip]\n";
        let e = Config::parse_str(text, std::path::Path::new("t.ini")).unwrap_err();
        assert!(e.to_string().contains("[DEFAULT] query_credentials: a dialect switch is never inherited; set it in [dialect:noip]"), "{e}");
    }

    #[test]
    fn trusted_sources_need_networks_and_a_user_section() {
        let ok = "[user:asa]\nallowed_hostnames = fw.example.com\n[dialect:gandi-dyndns]\ntrusted_sources = 192.0.2.0/24 2001:db8::/32\ntrusted_user = asa\n";
        let c = load(ok).unwrap();
        let switches = c.switches("gandi-dyndns");
        assert_eq!(
            switches.value("trusted_sources"),
            Some("192.0.2.0/24 2001:db8::/32")
        );
        assert_eq!(switches.value("trusted_user"), Some("asa"));
        let described = crate::cli::describe(&c);
        assert!(
            described.contains("[dialect:gandi-dyndns]\n  trusted_sources = 192.0.2.0/24 2001:db8::/32\n  trusted_user = asa\n"),
            "{described}"
        );
        let cases = [
            (
                ok.replace("192.0.2.0/24", "192.0.2.0/33"),
                "trusted_sources: `/33` is not a prefix length 0–32",
            ),
            (
                ok.replace("192.0.2.0/24", "192.0.2.1/24"),
                "has bits set after the prefix",
            ),
            (
                ok.replace("trusted_user = asa", "trusted_user = nobody"),
                "trusted_user: names no [user:nobody] section",
            ),
            (
                ok.replace("trusted_user = asa\n", ""),
                "trusted_user: is missing",
            ),
            (
                ok.replace("trusted_sources = 192.0.2.0/24 2001:db8::/32\n", ""),
                "trusted_sources: is missing",
            ),
        ];
        for (text, expected) in cases {
            let e = load(&text).unwrap_err().to_string();
            assert!(e.contains(expected), "{text}: {e}");
        }
        let text = "[DEFAULT]\ntrusted_user = asa\n[default]\nusername = u\npassword = p\n";
        let e = Config::parse_str(text, std::path::Path::new("t.ini")).unwrap_err();
        assert!(
            e.to_string()
                .contains("never inherited; set it in [dialect:gandi-dyndns]"),
            "{e}"
        );
    }
}
