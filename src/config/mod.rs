//! The one INI file: read as plain strings ([`ini`]), then validated into typed settings in
//! one place, so `check-config` and every request run exactly the same checks.
//!
//! A ws.ddns file (`[default]` with username, password, context, url, totp_secret,
//! allowed_hostnames) loads unchanged; ddns-cgi's own keys sit beside them.

pub mod ini;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acl::{Acl, Pattern, UserNameError, UserRule, check_user_name};
use crate::log::Level;
use crate::secret::Secret;

/// Where the config is read from when `DDNS_CONFIG` is not set.
pub const DEFAULT_PATH: &str = "/etc/ddns-cgi/ddns-cgi.ini";
/// Where state and locks live when `state_dir` is not set.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/ddns-cgi";
/// The SchlundTech gateway, as ws.ddns defaults it.
pub const SCHLUND_DEFAULT_URL: &str = "https://gateway.schlundtech.de";
/// Gandi's production LiveDNS API.
pub const GANDI_DEFAULT_URL: &str = "https://api.gandi.net/v5/livedns";

/// Settings that are not about one registrar.
#[derive(Debug, Clone)]
pub struct General {
    /// Basic-auth realm in the `401` challenge. Default `ddns`.
    pub realm: String,
    /// Most host names in one request; more → `numhost`. Default 20 (Dyn's limit).
    pub max_hostnames: usize,
    /// Accept RFC 1918, CGNAT and unique-local addresses (LAN zones). Default no.
    pub allow_private_addresses: bool,
    /// Create a missing A/AAAA record instead of answering `nohost`. Default no.
    pub create_missing_records: bool,
    /// Replace a name/type that holds several addresses (round robin) by one. Default no.
    pub collapse_round_robin: bool,
    /// Upper bound for all registrar calls of one request together. Default 20 s.
    pub timeout: Duration,
    /// HTTP(S) proxy for registrar calls; never taken from the environment. Default none.
    pub proxy: Option<String>,
    /// Log level. Default `info`.
    pub log_level: Level,
    /// Where per-host state and zone locks live; writable by the web server's user.
    /// Default [`DEFAULT_STATE_DIR`].
    pub state_dir: PathBuf,
    /// Longest wait for another request's lock on the same zone. Default 30 s.
    pub lock_wait: Duration,
    /// A repeated identical update within this time is answered `nochg` from state, without
    /// asking the registrar; 0 always asks. Default 600 s.
    pub cache_seconds: u64,
    /// Changes of one host allowed within `abuse_window`; more are answered `abuse`.
    /// 0 disables the limit. Default 12.
    pub abuse_limit: u32,
    /// The window of `abuse_limit`. Default 3600 s.
    pub abuse_window: u64,
}

/// A SchlundTech / AutoDNS XML-gateway account.
#[derive(Debug, Clone)]
pub struct SchlundSettings {
    /// Gateway URL. Default [`SCHLUND_DEFAULT_URL`].
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
    /// API base URL. Default [`GANDI_DEFAULT_URL`].
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

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// General settings.
    pub general: General,
    /// Who may change which names.
    pub acl: Acl,
    /// SchlundTech account, if configured.
    pub schlund: Option<SchlundSettings>,
    /// Gandi account, if configured.
    pub gandi: Option<GandiSettings>,
}

/// A problem in the config file, pointing at the place to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// `[section]`, when known.
    pub section: Option<String>,
    /// The key, when known.
    pub key: Option<String>,
    /// What is wrong and what to do; never contains a value that could be a secret.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config {}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        match (&self.section, &self.key) {
            (Some(s), Some(k)) => write!(f, ", [{s}] {k}")?,
            (Some(s), None) => write!(f, ", [{s}]")?,
            _ => {}
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for ConfigError {}

const GENERAL_KEYS: &[&str] = &[
    "allowed_hostnames",
    "realm",
    "max_hostnames",
    "allow_private_addresses",
    "create_missing_records",
    "collapse_round_robin",
    "timeout",
    "proxy",
    "log_level",
    "state_dir",
    "lock_wait",
    "cache_seconds",
    "abuse_limit",
    "abuse_window",
];
const SCHLUND_KEYS: &[&str] = &[
    "username",
    "password",
    "context",
    "url",
    "allow_insecure_url",
    "totp_secret",
    "zones",
    "ttl",
];
const GANDI_KEYS: &[&str] = &[
    "token",
    "api_key",
    "url",
    "allow_insecure_url",
    "zones",
    "ttl",
];
/// Keys that say where a registrar is and who we are to it. In `[DEFAULT]` they are the
/// SchlundTech account's, as in ws.ddns files (configparser hands them to `[default]`);
/// a section of another registrar kind must never inherit them, or a Gandi token would go
/// to the SchlundTech URL, or the gateway password to Gandi.
const REGISTRAR_BOUND_KEYS: &[&str] = &[
    "url",
    "allow_insecure_url",
    "username",
    "password",
    "context",
    "totp_secret",
    "token",
    "api_key",
];
const USER_KEYS: &[&str] = &["allowed_hostnames", "use_global"];

/// One section's entries with positions, after `%%` handling and `[DEFAULT]` inheritance.
struct Values<'a> {
    path: &'a Path,
    section: String,
    entries: BTreeMap<String, (String, usize)>,
    /// The keys of `entries` that came from `[DEFAULT]`.
    inherited: BTreeSet<String>,
}

impl Values<'_> {
    fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: self.entries.get(key).map(|(_, line)| *line),
            section: Some(self.section.clone()),
            key: Some(key.to_string()),
            problem: problem.into(),
        }
    }

    fn missing(&self, key: &str) -> ConfigError {
        self.error(key, "is required but missing or empty")
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|(v, _)| v.as_str())
    }

    fn required(&self, key: &str) -> Result<&str, ConfigError> {
        match self.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim()),
            _ => Err(self.missing(key)),
        }
    }

    fn optional(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
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

    fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ConfigError> {
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

    fn secret(&self, key: &str) -> Result<Secret, ConfigError> {
        match self.get(key) {
            Some(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(self.missing(key)),
        }
    }

    fn url(&self, key: &str, default: &str) -> Result<String, ConfigError> {
        let value = self.optional(key).unwrap_or(default);
        match url::Url::parse(value) {
            Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => {
                if !u.username().is_empty() || u.password().is_some() {
                    return Err(self.error(
                        key,
                        "must not carry credentials; use the username/password or token keys",
                    ));
                }
                Ok(value.to_string())
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
    fn registrar_url(&self, default: &str) -> Result<(String, bool), ConfigError> {
        let value = self.url("url", default)?;
        let insecure_ok = self.bool("allow_insecure_url", false)?;
        let parsed = url::Url::parse(&value).map_err(|_| self.error("url", "is not a URL"))?;
        if parsed.scheme() == "http" && !insecure_ok && !is_loopback(&parsed) {
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

    fn zones(&self, key: &str) -> Result<Vec<String>, ConfigError> {
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

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
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

impl Config {
    /// Reads and validates the file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: None,
            section: None,
            key: None,
            problem: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "file not found; create it or point DDNS_CONFIG at it".to_string()
                }
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied; make it readable by the web server's user (and nobody else)"
                        .to_string()
                }
                std::io::ErrorKind::IsADirectory => {
                    "is a directory; point DDNS_CONFIG (or --config) at the config file itself"
                        .to_string()
                }
                _ => format!(
                    "cannot be read ({e}); check that DDNS_CONFIG names the config file and that the web server's user can read it"
                ),
            },
        })?;
        Config::parse_str(&text, path)
    }

    /// Validates config text; `path` is only used in messages.
    pub fn parse_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let sections = ini::parse(text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: Some(e.line),
            section: None,
            key: None,
            problem: e.problem,
        })?;
        let inherited = sections
            .iter()
            .find(|s| s.name == "DEFAULT")
            .map(|s| s.entries.clone())
            .unwrap_or_default();

        let mut default = None;
        let mut schlund = None;
        let mut gandi = None;
        let mut users = Vec::new();
        for section in sections.iter().filter(|s| s.name != "DEFAULT") {
            let (allowed, inheritable) = section_keys(path, section)?;
            let values = values_of(path, section, &inherited, &allowed, &inheritable)?;
            match section.name.as_str() {
                "default" => default = Some(values),
                "schlund" => schlund = Some(values),
                "gandi" => gandi = Some(values),
                _ => users.push(values),
            }
        }
        check_default_keys(path, &inherited)?;
        // Without a `[default]` section, `[DEFAULT]` alone still gives the general defaults,
        // such as the global `allowed_hostnames`; dropping them would open the ACL. Not a
        // SchlundTech account: keys such as `zones` or `ttl` there are meant for the
        // registrar sections, which inherit them anyway.
        let default = match default {
            Some(values) => values,
            None => {
                let implicit = ini::Section {
                    name: "default".into(),
                    line: 0,
                    entries: Vec::new(),
                };
                values_of(path, &implicit, &inherited, GENERAL_KEYS, GENERAL_KEYS)?
            }
        };

        let general = general_settings(&default)?;

        let written_in_default: Vec<&str> = sections
            .iter()
            .filter(|s| s.name == "default")
            .flat_map(|s| s.entries.iter().map(|e| e.key.as_str()))
            .collect();
        let (schlund, gandi) = registrars(path, &default, &written_in_default, schlund, gandi)?;

        let acl = access_list(&default, &users)?;
        Ok(Config {
            path: path.to_path_buf(),
            general,
            acl,
            schlund,
            gandi,
        })
    }
}

/// The keys a section may hold, and those of them it takes from `[DEFAULT]`.
fn section_keys(
    path: &Path,
    section: &ini::Section,
) -> Result<(Vec<&'static str>, Vec<&'static str>), ConfigError> {
    let section_error = |name: &str, problem: String| ConfigError {
        path: path.to_path_buf(),
        line: Some(section.line),
        section: Some(name.to_string()),
        key: None,
        problem,
    };
    let allowed: Vec<&str> = match section.name.as_str() {
        "default" => GENERAL_KEYS.iter().chain(SCHLUND_KEYS).copied().collect(),
        "schlund" => SCHLUND_KEYS.to_vec(),
        "gandi" => GANDI_KEYS.to_vec(),
        name if name.starts_with("user:") => {
            check_user_section(name)
                .map_err(|problem| section_error(&crate::log::printable(name), problem))?;
            // `[DEFAULT]` holds shared settings, not a user's own list: a user section
            // inheriting `allowed_hostnames` would get the global list back under
            // `use_global = no`. `use_global` itself is a shared setting.
            return Ok((USER_KEYS.to_vec(), vec!["use_global"]));
        }
        name => {
            return Err(section_error(
                name,
                "unknown section; known are [default], [schlund], [gandi] and [user:NAME]".into(),
            ));
        }
    };
    Ok((allowed.clone(), allowed))
}

/// Every key of `[DEFAULT]` must be known to some section.
fn check_default_keys(path: &Path, inherited: &[ini::Entry]) -> Result<(), ConfigError> {
    for entry in inherited {
        let known = GENERAL_KEYS
            .iter()
            .chain(SCHLUND_KEYS)
            .chain(GANDI_KEYS)
            .chain(USER_KEYS)
            .any(|k| *k == entry.key);
        if !known {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: Some(entry.line),
                section: Some("DEFAULT".into()),
                key: Some(entry.key.clone()),
                problem: "unknown key".into(),
            });
        }
    }
    Ok(())
}

/// The registrar accounts: SchlundTech from `[schlund]` or `[default]` (not both), Gandi
/// from `[gandi]`; at least one.
fn registrars(
    path: &Path,
    default: &Values<'_>,
    written_in_default: &[&str],
    schlund: Option<Values<'_>>,
    gandi: Option<Values<'_>>,
) -> Result<(Option<SchlundSettings>, Option<GandiSettings>), ConfigError> {
    // [default] holds a SchlundTech account when it has credentials, or names one of the
    // account's keys itself. Keys it shares with the registrar sections (url, zones,
    // ttl) inherited from [DEFAULT] do not make one: they are meant for [schlund] or
    // [gandi].
    let default_has_account = SCHLUND_KEYS
        .iter()
        .filter(|k| !GANDI_KEYS.contains(k))
        .any(|k| default.get(k).is_some())
        || SCHLUND_KEYS.iter().any(|k| written_in_default.contains(k));
    let schlund_values = match (schlund, default_has_account) {
        (Some(s), true) => {
            return Err(s.error(
                "username",
                "the SchlundTech account is set both here and in [default]; keep one",
            ));
        }
        (Some(s), false) => Some(s),
        (None, true) => Some(default_as_schlund(default)),
        (None, false) => None,
    };
    let schlund = schlund_values.map(|v| schlund_settings(&v)).transpose()?;
    if let Some(v) = &gandi {
        check_not_inheriting_registrar_keys(v)?;
    }
    let gandi = gandi.map(|v| gandi_settings(&v)).transpose()?;
    if schlund.is_none() && gandi.is_none() {
        return Err(ConfigError {
            path: path.to_path_buf(),
            line: None,
            section: None,
            key: None,
            problem: "no registrar configured; add a SchlundTech account to [default] (username, password) or a [gandi] section with a token".into(),
        });
    }
    Ok((schlund, gandi))
}

/// `[default]`'s settings that are not about a registrar.
fn general_settings(default: &Values<'_>) -> Result<General, ConfigError> {
    let general = General {
        realm: default.optional("realm").unwrap_or("ddns").to_string(),
        max_hostnames: default.number("max_hostnames", 1, 1000)?.unwrap_or(20) as usize,
        allow_private_addresses: default.bool("allow_private_addresses", false)?,
        create_missing_records: default.bool("create_missing_records", false)?,
        collapse_round_robin: default.bool("collapse_round_robin", false)?,
        timeout: Duration::from_secs(default.number("timeout", 1, 600)?.unwrap_or(20)),
        proxy: match default.optional("proxy") {
            None => None,
            Some(_) => Some(default.url("proxy", "")?),
        },
        log_level: match default.optional("log_level") {
            None => Level::Info,
            Some(v) => Level::parse(v).ok_or_else(|| {
                default.error(
                    "log_level",
                    format!("`{v}` is not one of error, warn, info, debug"),
                )
            })?,
        },
        state_dir: match default.optional("state_dir") {
            None => PathBuf::from(DEFAULT_STATE_DIR),
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => {
                return Err(default.error("state_dir", format!("`{dir}` must be an absolute path")));
            }
        },
        lock_wait: Duration::from_secs(default.number("lock_wait", 0, 600)?.unwrap_or(30)),
        cache_seconds: default
            .number("cache_seconds", 0, 86_400 * 30)?
            .unwrap_or(600),
        abuse_limit: default.number("abuse_limit", 0, 100_000)?.unwrap_or(12) as u32,
        abuse_window: default
            .number("abuse_window", 60, 86_400 * 7)?
            .unwrap_or(3600),
    };
    if general.realm.contains('"') || general.realm.contains('\\') {
        return Err(default.error("realm", "must not contain `\"` or `\\`"));
    }
    Ok(general)
}

/// The global list of `[default]` and the `[user:NAME]` sections' rules.
fn access_list(default: &Values<'_>, users: &[Values<'_>]) -> Result<Acl, ConfigError> {
    let global = match default.get("allowed_hostnames") {
        None => None,
        Some(_) => Some(patterns(default, "allowed_hostnames")?),
    };
    let mut rules = BTreeMap::new();
    for user in users {
        let name = user.section["user:".len()..].to_string();
        if name.is_empty() {
            return Err(user.error(
                "allowed_hostnames",
                "the section needs a user name: [user:NAME]",
            ));
        }
        // Directory-backed web server logins (LDAP, PAM) ignore case and pass the name
        // on as typed, so a rule must not be escaped by spelling the name differently.
        let key = name.to_ascii_lowercase();
        if rules.contains_key(&key) {
            return Err(user.error(
                "allowed_hostnames",
                "another [user:...] section names the same user in other letter case; merge them",
            ));
        }
        rules.insert(
            key,
            UserRule {
                patterns: patterns(user, "allowed_hostnames")?,
                use_global: user.bool("use_global", true)?,
            },
        );
    }
    Ok(if global.is_none() && rules.is_empty() {
        Acl::Open
    } else {
        Acl::Lists {
            global: global.unwrap_or_default(),
            users: rules,
        }
    })
}

/// A `[user:NAME]` section's name must be one a login can have ([`check_user_name`]):
/// `[user:alice ]` would match nobody, and alice would silently get the global list.
fn check_user_section(section: &str) -> Result<(), String> {
    let name = &section["user:".len()..];
    check_user_name(name).map_err(|problem| {
        let hint = match problem {
            UserNameError::LeadingWhiteSpace | UserNameError::TrailingWhiteSpace => {
                format!("; write it as [user:{}]", crate::log::printable(name.trim()))
            }
            _ => String::new(),
        };
        format!(
            "the user name {problem}, so no login can match it (such names are refused with badauth){hint}"
        )
    })
}

/// A section's own entries (each must be in `allowed`) plus those of `[DEFAULT]` it does
/// not set itself and may take (`inheritable`).
fn values_of<'a>(
    path: &'a Path,
    section: &ini::Section,
    inherited: &[ini::Entry],
    allowed: &[&str],
    inheritable: &[&str],
) -> Result<Values<'a>, ConfigError> {
    let mut entries = BTreeMap::new();
    let own = section.entries.iter();
    let defaults: Vec<&ini::Entry> = inherited
        .iter()
        .filter(|e| {
            inheritable.contains(&e.key.as_str()) && !section.entries.iter().any(|o| o.key == e.key)
        })
        .collect();
    for entry in own.chain(defaults.iter().copied()) {
        let error = |problem: String| ConfigError {
            path: path.to_path_buf(),
            line: Some(entry.line),
            section: Some(section.name.clone()),
            key: Some(entry.key.clone()),
            problem,
        };
        if !allowed.contains(&entry.key.as_str()) {
            return Err(error(format!(
                "unknown key; known here are: {}",
                allowed.join(", ")
            )));
        }
        let value = ini::unescape_percent(&entry.raw).map_err(|p| error(p.to_string()))?;
        entries.insert(entry.key.clone(), (value, entry.line));
    }
    Ok(Values {
        path,
        section: section.name.clone(),
        entries,
        inherited: defaults.iter().map(|e| e.key.clone()).collect(),
    })
}

fn default_as_schlund<'a>(default: &Values<'a>) -> Values<'a> {
    let schlund_key = |k: &String| SCHLUND_KEYS.contains(&k.as_str());
    Values {
        path: default.path,
        section: default.section.clone(),
        entries: default
            .entries
            .iter()
            .filter(|(k, _)| schlund_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        inherited: default
            .inherited
            .iter()
            .filter(|k| schlund_key(k))
            .cloned()
            .collect(),
    }
}

/// Refuses a section of another registrar kind than SchlundTech that would inherit a URL
/// or credential from `[DEFAULT]` (see [`REGISTRAR_BOUND_KEYS`]).
fn check_not_inheriting_registrar_keys(v: &Values<'_>) -> Result<(), ConfigError> {
    match REGISTRAR_BOUND_KEYS
        .iter()
        .find(|k| v.inherited.contains(**k))
    {
        None => Ok(()),
        Some(key) => Err(ConfigError {
            path: v.path.to_path_buf(),
            line: v.entries.get(*key).map(|(_, line)| *line),
            section: Some("DEFAULT".into()),
            key: Some(key.to_string()),
            problem: format!(
                "[{section}] would inherit it, but a registrar URL or credential in [DEFAULT] belongs to the SchlundTech account (as in ws.ddns files) and must not reach another registrar; set {key} in [{section}] itself, and move it from [DEFAULT] to [default] or [schlund] if it is SchlundTech's",
                section = v.section
            ),
        }),
    }
}

fn schlund_settings(v: &Values<'_>) -> Result<SchlundSettings, ConfigError> {
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
    let (url, allow_insecure_url) = v.registrar_url(SCHLUND_DEFAULT_URL)?;
    Ok(SchlundSettings {
        url,
        allow_insecure_url,
        username: v.required("username")?.to_string(),
        password: v.secret("password")?,
        context,
        totp_secret,
        zones: v.zones("zones")?,
        ttl: v.number("ttl", 60, 2_592_000)?.unwrap_or(300) as u32,
    })
}

fn gandi_settings(v: &Values<'_>) -> Result<GandiSettings, ConfigError> {
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
    let (url, allow_insecure_url) = v.registrar_url(GANDI_DEFAULT_URL)?;
    Ok(GandiSettings {
        url: url.trim_end_matches('/').to_string(),
        allow_insecure_url,
        credential,
        zones: v.zones("zones")?,
        ttl,
    })
}

/// Base32 as authenticator apps show it: spaces, lower case and padding are all accepted.
fn normalize_base32(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn patterns(v: &Values<'_>, key: &str) -> Result<Vec<Pattern>, ConfigError> {
    v.get(key)
        .unwrap_or("")
        .split_whitespace()
        .map(|word| {
            word.parse::<Pattern>()
                .map_err(|e| v.error(key, format!("`{}`: {e}", crate::log::printable(word))))
        })
        .collect()
}

#[cfg(test)]
mod tests;
