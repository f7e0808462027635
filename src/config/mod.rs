//! The one INI file: read as plain strings ([`ini`]), then validated into typed settings in
//! one place, so `check-config` and every request run exactly the same checks.
//!
//! A ws.ddns file (`[default]` with username, password, context, url, totp_secret,
//! allowed_hostnames) loads unchanged; ddns-cgi's own keys sit beside them.

mod accounts;
pub mod credentials;
pub mod ini;
pub mod ipv6;
pub mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acl::{Acl, Pattern, UserNameError, UserRule, check_user_name};
use crate::auth::Credentials;
use crate::backend::{IN_DEFAULT, KINDS, Kind, Settings};
use crate::log::Level;
use crate::protocol::{DIALECTS, Dialect, Switches};
use ipv6::Ipv6Settings;
use values::Values;

/// Where the config is read from when `DDNS_CONFIG` is not set.
pub const DEFAULT_PATH: &str = "/etc/ddns-cgi/ddns-cgi.ini";
/// Where state and locks live when `state_dir` is not set.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/ddns-cgi";

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
    /// NoIP `offline=YES` deletes the host's address records instead of answering
    /// `!donator`. Default no.
    pub delete_on_offline: bool,
    /// ACME challenge TXT values ddns-cgi set that are older than this are removed on the
    /// next request touching their name, so an interrupted renewal leaves nothing behind
    /// for long. Default 3600 s.
    pub acme_txt_max_age: u64,
    /// Interface IDs and LAN hosts, for requests that carry an IPv6 prefix.
    pub ipv6: Ipv6Settings,
}

/// The validated configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// General settings.
    pub general: General,
    /// Who may change which names.
    pub acl: Acl,
    /// The registrar accounts, by kind in [`KINDS`] order, then in file order.
    pub accounts: Vec<Account>,
    /// The credentials ddns-cgi checks itself.
    pub credentials: Credentials,
    /// Each `[dialect:NAME]` section's switches, by dialect name.
    pub dialects: BTreeMap<&'static str, Switches>,
    /// `[client]`, the command line's client; its defaults when the section is absent.
    pub client: crate::client::settings::ClientSettings,
}

/// One registrar account: a `[KIND]` or `[KIND:NAME]` section (or the ws.ddns account in
/// `[default]`).
#[derive(Debug)]
pub struct Account {
    /// Its section's name, `gandi` or `gandi:work`; also its log label and lock prefix.
    pub label: String,
    /// Its kind.
    pub kind: &'static Kind,
    /// Its validated settings.
    pub settings: Box<dyn Settings>,
    /// How messages name it: `[gandi:work]`, or `the SchlundTech account` for the one a
    /// ws.ddns file may keep in `[default]`.
    pub shown: String,
}

impl Config {
    /// The settings of the account `label`, for code that knows its kind.
    pub fn settings_of<T: 'static>(&self, label: &str) -> Option<&T> {
        self.accounts
            .iter()
            .find(|a| a.label == label)
            .and_then(|a| a.settings.as_any().downcast_ref())
    }

    /// The switches of `[dialect:NAME]`, all off when the section is absent.
    pub fn switches(&self, dialect: &str) -> Switches {
        self.dialects.get(dialect).cloned().unwrap_or_default()
    }
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
    "delete_on_offline",
    "acme_txt_max_age",
    "htpasswd",
    "auth_fail_limit",
    "auth_fail_window",
    "lan_hosts",
    "lan_hosts_ipv4",
];
const USER_KEYS: &[&str] = &[
    "allowed_hostnames",
    "use_global",
    "secret",
    "password_hash",
    "lan_hosts",
    "lan_hosts_ipv4",
];

/// Every key any section may hold: the general ones, the user sections', and each
/// registrar kind's.
pub fn known_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    let all = KINDS.iter().flat_map(|kind| kind.keys.iter());
    let switches = DIALECTS
        .iter()
        .flat_map(|d| d.switches().iter().chain(d.settings()));
    for key in GENERAL_KEYS
        .iter()
        .chain(USER_KEYS)
        .chain(ipv6::HOST_KEYS)
        .chain(all)
        .chain(switches)
    {
        if !keys.contains(key) {
            keys.push(key);
        }
    }
    keys
}

/// The section names a file may use (`[user:NAME]` and `[KIND:NAME]` take any name).
pub fn section_names() -> Vec<String> {
    let mut names = vec!["DEFAULT".to_string(), "default".to_string()];
    names.extend(KINDS.iter().map(|k| k.name.to_string()));
    names.extend(KINDS.iter().map(|k| format!("{}:NAME", k.name)));
    names.push("user:NAME".to_string());
    names.push("host:NAME".to_string());
    names.push("client".to_string());
    names.extend(DIALECTS.iter().map(|d| format!("dialect:{}", d.name())));
    names
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
        Config::parse_overriding(text, path, &[])
    }

    /// Validates config text with some `[default]` keys set as if the file said so (the
    /// ws.ddns command-line flags `--url`, `--username`, …); their values are taken as
    /// they are, with no `%%` to unescape.
    pub fn parse_overriding(
        text: &str,
        path: &Path,
        overrides: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        let mut sections = ini::parse(text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: Some(e.line),
            section: None,
            key: None,
            problem: e.problem,
        })?;
        override_default(&mut sections, overrides);
        let inherited = sections
            .iter()
            .find(|s| s.name == "DEFAULT")
            .map(|s| s.entries.clone())
            .unwrap_or_default();

        let Sorted {
            default,
            client,
            found,
            users,
            hosts,
            dialect_sections,
        } = sort(path, &sections, &inherited)?;
        let mut dialects = BTreeMap::new();
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

        let mut general = general_settings(&default)?;
        general.ipv6 = ipv6::read(&default, &users, &hosts)?;

        let written_in_default: Vec<&str> = sections
            .iter()
            .filter(|s| s.name == "default")
            .flat_map(|s| s.entries.iter().map(|e| e.key.as_str()))
            .collect();
        let accounts = accounts::build(path, &default, &written_in_default, found)?;

        let acl = access_list(&default, &users)?;
        let credentials = credentials::credentials(&default, &users)?;
        let is_user = |name: &str| {
            users
                .iter()
                .any(|u| u.section["user:".len()..].eq_ignore_ascii_case(name))
        };
        for (dialect, values) in dialect_sections {
            let switches = credentials::switches(dialect, &values, &is_user)?;
            dialects.insert(dialect.name(), switches);
        }
        Ok(Config {
            path: path.to_path_buf(),
            general,
            acl,
            accounts,
            credentials,
            dialects,
            client: client.unwrap_or_default(),
        })
    }
}

/// The sections by what they are, each read with what it inherits.
struct Sorted<'a> {
    default: Option<Values<'a>>,
    client: Option<crate::client::settings::ClientSettings>,
    found: Vec<accounts::Found<'a>>,
    users: Vec<Values<'a>>,
    hosts: Vec<Values<'a>>,
    dialect_sections: Vec<(&'static dyn Dialect, Values<'a>)>,
}

fn sort<'a>(
    path: &'a Path,
    sections: &[ini::Section],
    inherited: &[ini::Entry],
) -> Result<Sorted<'a>, ConfigError> {
    let mut sorted = Sorted {
        default: None,
        client: None,
        found: Vec::new(),
        users: Vec::new(),
        hosts: Vec::new(),
        dialect_sections: Vec::new(),
    };
    for section in sections.iter().filter(|s| s.name != "DEFAULT") {
        let place = place_of(path, section)?;
        let (allowed, inheritable) = place.keys();
        let values = values_of(path, section, inherited, &allowed, &inheritable)?;
        match place {
            Place::Default => sorted.default = Some(values),
            Place::Client => sorted.client = Some(crate::client::settings::parse(&values)?),
            Place::User => sorted.users.push(values),
            Place::Host => sorted.hosts.push(values),
            Place::Dialect(dialect) => sorted.dialect_sections.push((dialect, values)),
            Place::Account { kind, name } => {
                sorted.found.push(accounts::Found { kind, name, values })
            }
        }
    }
    Ok(sorted)
}

/// Sets `[default]` keys (made when missing) to values given outside the file.
fn override_default(sections: &mut Vec<ini::Section>, overrides: &[(&str, &str)]) {
    if overrides.is_empty() {
        return;
    }
    if !sections.iter().any(|s| s.name == "default") {
        sections.push(ini::Section {
            name: "default".into(),
            line: 0,
            entries: Vec::new(),
        });
    }
    let Some(default) = sections.iter_mut().find(|s| s.name == "default") else {
        return;
    };
    for (key, value) in overrides {
        default.entries.retain(|e| e.key != *key);
        default.entries.push(ini::Entry {
            key: key.to_string(),
            raw: value.replace('%', "%%"),
            line: 0,
        });
    }
}

/// What a section is.
enum Place {
    /// `[default]`: general settings, and maybe the ws.ddns account.
    Default,
    /// `[user:NAME]`.
    User,
    /// `[host:NAME]`: settings of one host name.
    Host,
    /// `[dialect:NAME]`: switches of one dialect.
    Dialect(&'static dyn Dialect),
    /// `[client]`: the command line's client.
    Client,
    /// `[KIND]` or `[KIND:NAME]`.
    Account {
        kind: &'static Kind,
        name: Option<String>,
    },
}

impl Place {
    /// The keys the section may hold, and those of them it takes from `[DEFAULT]`.
    fn keys(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        match self {
            Place::Default => {
                let keys: Vec<&str> = GENERAL_KEYS
                    .iter()
                    .chain(IN_DEFAULT.keys)
                    .copied()
                    .collect();
                (keys.clone(), keys)
            }
            // `[DEFAULT]` holds shared settings, not a user's own list: a user section
            // inheriting `allowed_hostnames` would get the global list back under
            // `use_global = no`. `use_global` itself is a shared setting.
            Place::User => (USER_KEYS.to_vec(), vec!["use_global"]),
            // A host's interface ID is its own; `[DEFAULT]` holds none.
            Place::Host => (ipv6::HOST_KEYS.to_vec(), Vec::new()),
            // A dialect's switches are its own: `[DEFAULT]` never turns one on.
            Place::Dialect(dialect) => {
                let keys = dialect.switches().iter().chain(dialect.settings());
                (keys.copied().collect(), Vec::new())
            }
            Place::Account { kind, .. } => (kind.keys.to_vec(), kind.keys.to_vec()),
            // The client's keys are its own; `[DEFAULT]` holds the registrars' shared ones.
            Place::Client => (crate::client::settings::KEYS.to_vec(), Vec::new()),
        }
    }
}

/// Which place a section name stands for.
fn place_of(path: &Path, section: &ini::Section) -> Result<Place, ConfigError> {
    let section_error = |name: &str, problem: String| ConfigError {
        path: path.to_path_buf(),
        line: Some(section.line),
        section: Some(crate::log::printable(name)),
        key: None,
        problem,
    };
    let name = section.name.as_str();
    if name == "default" {
        return Ok(Place::Default);
    }
    if name == "client" {
        return Ok(Place::Client);
    }
    if name.starts_with("user:") {
        check_user_section(name).map_err(|problem| section_error(name, problem))?;
        return Ok(Place::User);
    }
    if name.starts_with("host:") {
        return Ok(Place::Host);
    }
    if let Some(dialect) = name.strip_prefix("dialect:") {
        return credentials::dialect_of(dialect)
            .map(Place::Dialect)
            .map_err(|problem| section_error(name, problem));
    }
    let (kind_name, account) = match name.split_once(':') {
        Some((kind, account)) => (kind, Some(account)),
        None => (name, None),
    };
    let Some(kind) = KINDS.iter().find(|k| k.name == kind_name) else {
        let kinds: Vec<String> = KINDS.iter().map(|k| format!("[{}]", k.name)).collect();
        return Err(section_error(
            name,
            format!(
                "unknown section; known are [default], {} (also as [KIND:NAME] for more accounts of a kind), [user:NAME], [host:NAME], [client] and {}",
                kinds.join(", "),
                DIALECTS
                    .iter()
                    .map(|d| format!("[dialect:{}]", d.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    if let Some(account) = account
        && (account.is_empty()
            || !account
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(section_error(
            name,
            format!(
                "an account name is letters, digits and _ only, as in [{}:work]",
                kind.name
            ),
        ));
    }
    Ok(Place::Account {
        kind,
        name: account.map(str::to_string),
    })
}

/// Every key of `[DEFAULT]` must be known to some section.
fn check_default_keys(path: &Path, inherited: &[ini::Entry]) -> Result<(), ConfigError> {
    for entry in inherited {
        let key = entry.key.as_str();
        if let Some(dialect) = DIALECTS
            .iter()
            .find(|d| d.switches().contains(&key) || d.settings().contains(&key))
        {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: Some(entry.line),
                section: Some("DEFAULT".into()),
                key: Some(entry.key.clone()),
                problem: format!(
                    "a dialect switch is never inherited; set it in [dialect:{}]",
                    dialect.name()
                ),
            });
        }
        let known = known_keys().contains(&key);
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
        delete_on_offline: default.bool("delete_on_offline", false)?,
        acme_txt_max_age: default
            .number("acme_txt_max_age", 60, 86_400 * 7)?
            .unwrap_or(3600),
        ipv6: Ipv6Settings::default(),
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
    // A section that only holds credentials gives its user no list of their own. One that
    // takes `use_global` from [DEFAULT] has a rule all the same: `use_global = no` there
    // must keep narrowing the user however the section was written.
    let acl_sections = users.iter().filter(|user| {
        ["allowed_hostnames", "use_global"]
            .iter()
            .any(|k| user.entries.contains_key(*k))
            || !credentials::USER_CREDENTIAL_KEYS
                .iter()
                .any(|k| user.entries.contains_key(*k))
    });
    for user in acl_sections {
        // Not empty: every [user:NAME] passed check_user_section.
        let name = user.section["user:".len()..].to_string();
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
pub(crate) fn values_of<'a>(
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
