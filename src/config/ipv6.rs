//! What IPv6 prefixes need from the config: each host's interface ID
//! (`[host:NAME] ipv6_interface_id`) and, per user, the LAN hosts that follow the router's
//! delegated prefix (`lan_hosts`, `lan_hosts_ipv4` in `[user:NAME]` or `[default]`).

use std::collections::BTreeMap;

use super::ConfigError;
use super::values::Values;
use crate::hostname::Hostname;
use crate::prefix::InterfaceId;

/// The keys of a `[host:NAME]` section.
pub const HOST_KEYS: &[&str] = &["ipv6_interface_id"];

/// The LAN-host keys, in `[user:NAME]` and `[default]`.
pub const LAN_KEYS: &[&str] = &["lan_hosts", "lan_hosts_ipv4"];

/// The hosts one user's router moves along with its own names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanHosts {
    /// Names whose AAAA is the router's LAN prefix plus their interface ID.
    pub names: Vec<Hostname>,
    /// Whether their A record follows the router's own IPv4 address (port forwarding).
    pub ipv4: bool,
}

/// The IPv6 prefix settings of the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ipv6Settings {
    /// Per host, its interface ID.
    pub interface_ids: BTreeMap<Hostname, InterfaceId>,
    /// Per user (ASCII lower-cased), the LAN hosts; `[default]`'s under "".
    pub lan: BTreeMap<String, LanHosts>,
}

impl Ipv6Settings {
    /// The LAN hosts of `user`: their own section's, else `[default]`'s.
    pub fn lan_hosts(&self, user: &str) -> Option<&LanHosts> {
        self.lan
            .get(&user.to_ascii_lowercase())
            .or_else(|| self.lan.get(""))
            .filter(|lan| !lan.names.is_empty())
    }

    /// For `check-config`: the LAN hosts per user and the interface IDs per host.
    pub fn describe(&self, out: &mut String) {
        use std::fmt::Write as _;
        for (user, lan) in &self.lan {
            let names: Vec<String> = lan.names.iter().map(ToString::to_string).collect();
            let section = if user.is_empty() {
                "[default]".to_string()
            } else {
                format!("[user:{user}]")
            };
            let _ = writeln!(out, "{section}");
            let _ = writeln!(out, "  lan_hosts = {}", names.join(" "));
            let _ = writeln!(
                out,
                "  lan_hosts_ipv4 = {}",
                if lan.ipv4 { "yes" } else { "no" }
            );
        }
        for (host, id) in &self.interface_ids {
            let _ = writeln!(out, "[host:{host}]");
            let _ = writeln!(out, "  ipv6_interface_id = {id}");
        }
    }

    /// The interface ID configured for a host.
    pub fn interface_id(&self, host: &Hostname) -> Option<InterfaceId> {
        self.interface_ids.get(host).copied()
    }
}

/// Reads the `[host:NAME]` sections and the LAN-host keys of `[default]` and the users.
pub fn read(
    default: &Values<'_>,
    users: &[Values<'_>],
    hosts: &[Values<'_>],
) -> Result<Ipv6Settings, ConfigError> {
    let mut settings = Ipv6Settings::default();
    for host in hosts {
        let name = host_name(host)?;
        let Some(text) = host.optional("ipv6_interface_id") else {
            continue;
        };
        let id =
            InterfaceId::parse(text).map_err(|problem| host.error("ipv6_interface_id", problem))?;
        if settings.interface_ids.insert(name, id).is_some() {
            return Err(host.error(
                "ipv6_interface_id",
                "another [host:...] section names the same host; merge them",
            ));
        }
    }
    if let Some(lan) = lan_hosts(default)? {
        settings.lan.insert(String::new(), lan);
    }
    for user in users {
        if let Some(lan) = lan_hosts(user)? {
            let name = user.section["user:".len()..].to_ascii_lowercase();
            settings.lan.insert(name, lan);
        }
    }
    Ok(settings)
}

/// The host a `[host:NAME]` section is about.
fn host_name(host: &Values<'_>) -> Result<Hostname, ConfigError> {
    let text = &host.section["host:".len()..];
    text.parse().map_err(|e| ConfigError {
        path: host.path.to_path_buf(),
        line: None,
        section: Some(crate::log::printable(&host.section)),
        key: None,
        problem: format!("`{}` is not a host name: {e}", crate::log::printable(text)),
    })
}

fn lan_hosts(v: &Values<'_>) -> Result<Option<LanHosts>, ConfigError> {
    let Some(list) = v.optional("lan_hosts") else {
        if v.entries.contains_key("lan_hosts_ipv4") {
            return Err(v.error(
                "lan_hosts_ipv4",
                "has no effect without lan_hosts in the same section",
            ));
        }
        return Ok(None);
    };
    let names = list
        .split_whitespace()
        .map(|word| {
            word.parse::<Hostname>().map_err(|e| {
                v.error(
                    "lan_hosts",
                    format!(
                        "`{}`: {e} (wildcards are not hosts)",
                        crate::log::printable(word)
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(LanHosts {
        names,
        ipv4: v.bool("lan_hosts_ipv4", false)?,
    }))
}
