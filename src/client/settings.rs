//! The `[client]` section: which names the client keeps current, and how it finds this
//! machine's public address per family. Validated once, when the config is read, so
//! `check-config` and every run see the same errors.

use std::net::IpAddr;
use std::time::Duration;

use super::ranges;
use crate::cidr::Cidr;
use crate::config::ConfigError;
use crate::config::values::Values;
use crate::hostname::Hostname;

/// Every key `[client]` takes.
pub const KEYS: &[&str] = &[
    "hostnames",
    "hostnames_v4",
    "hostnames_v6",
    "ipv4",
    "ipv6",
    "providers_v4",
    "providers_v6",
    "provider_order",
    "quorum",
    "max_queries",
    "provider_timeout",
    "detect_timeout",
    "provider_backoff",
    "command_v4",
    "command_v6",
    "command_timeout",
    "interface_v4",
    "interface_v6",
    "ipv6_prefer",
    "ipv6_interface_id",
    "resolve_v4",
    "resolve_v6",
    "accept_ranges",
    "proxy",
    "ttl",
    "recheck",
];

/// The built-in IPv4 providers: plain-text HTTPS services of five operators.
pub const DEFAULT_PROVIDERS_V4: &[&str] = &[
    "https://api.ipify.org",
    "https://ipv4.icanhazip.com",
    "https://v4.ident.me",
    "https://checkipv4.dedyn.io",
    "https://ipv4.nsupdate.info/myip",
];

/// The built-in IPv6 providers.
pub const DEFAULT_PROVIDERS_V6: &[&str] = &[
    "https://api6.ipify.org",
    "https://ipv6.icanhazip.com",
    "https://v6.ident.me",
    "https://checkipv6.dedyn.io",
    "https://ipv6.nsupdate.info/myip",
];

/// How one family's address is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Ask "what is my IP" providers until enough agree.
    Web,
    /// Run a shell command that prints the address.
    Command,
    /// Read an address of a network interface.
    Interface,
    /// Copy the address another name resolves to.
    Resolve,
    /// Leave the family alone.
    Off,
}

impl Method {
    /// The word the config uses.
    pub fn name(self) -> &'static str {
        match self {
            Method::Web => "web",
            Method::Command => "command",
            Method::Interface => "interface",
            Method::Resolve => "resolve",
            Method::Off => "off",
        }
    }
}

/// How a provider's answer is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The whole body, trimmed, is one address.
    Text,
    /// `key=value` lines; the value of `ip=`.
    Trace,
    /// A JSON object; this string field.
    Json(String),
    /// Any text; exactly one distinct address of the family in it.
    Search,
}

/// One provider entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The URL asked.
    pub url: String,
    /// How its body is read.
    pub format: Format,
}

/// Which IPv6 address of an interface is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// Never a temporary (privacy) address.
    Stable,
    /// The temporary address with the longest preferred lifetime.
    Temporary,
}

pub use crate::prefix::InterfaceId;

/// One family's part of `[client]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilySettings {
    /// How its address is found.
    pub method: Method,
    /// The names to keep at it.
    pub hostnames: Vec<Hostname>,
    /// `web`: the providers, in the listed order.
    pub providers: Vec<Provider>,
    /// `command`: the shell command.
    pub command: Option<String>,
    /// `interface`: the interface, or `default` for the default route's.
    pub interface: String,
    /// `resolve`: the name whose address is copied.
    pub resolve: Option<String>,
}

/// The validated `[client]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// IPv4 (A records).
    pub v4: FamilySettings,
    /// IPv6 (AAAA records).
    pub v6: FamilySettings,
    /// Whether `hostnames` was set at all (the `client` command needs it).
    pub has_hostnames: bool,
    /// Ask providers in random order (default), or as listed.
    pub shuffle: bool,
    /// Agreeing providers needed. Default 2.
    pub quorum: usize,
    /// Providers asked at most per family and run. Default 5.
    pub max_queries: usize,
    /// Connect, TLS and the whole answer of one provider. Default 5 s.
    pub provider_timeout: Duration,
    /// The whole detection of one family. Default 15 s.
    pub detect_timeout: Duration,
    /// How long a provider that answered 403/429 is skipped. Default 1 h.
    pub provider_backoff: Duration,
    /// How long a `command` may run. Default 10 s.
    pub command_timeout: Duration,
    /// Which IPv6 address of an interface. Default stable.
    pub ipv6_prefer: Prefer,
    /// Host bits put behind the detected IPv6 prefix.
    pub ipv6_interface_id: Option<InterfaceId>,
    /// Ranges accepted although special-purpose.
    pub accept_ranges: Vec<Cidr>,
    /// HTTP proxy for provider requests (never from the environment).
    pub proxy: Option<String>,
    /// TTL for changed records; None keeps the record's.
    pub ttl: Option<u32>,
    /// How long the state's "the record has X" is trusted. Default 24 h.
    pub recheck: Duration,
}

impl Default for ClientSettings {
    /// The settings of a config without `[client]`.
    fn default() -> ClientSettings {
        let family = |method, providers: &[&str]| FamilySettings {
            method,
            hostnames: Vec::new(),
            providers: providers
                .iter()
                .map(|url| Provider {
                    url: url.to_string(),
                    format: Format::Text,
                })
                .collect(),
            command: None,
            interface: "default".into(),
            resolve: None,
        };
        ClientSettings {
            v4: family(Method::Web, DEFAULT_PROVIDERS_V4),
            v6: family(Method::Off, DEFAULT_PROVIDERS_V6),
            has_hostnames: false,
            shuffle: true,
            quorum: 2,
            max_queries: 5,
            provider_timeout: Duration::from_secs(5),
            detect_timeout: Duration::from_secs(15),
            provider_backoff: Duration::from_secs(3600),
            command_timeout: Duration::from_secs(10),
            ipv6_prefer: Prefer::Stable,
            ipv6_interface_id: None,
            accept_ranges: Vec::new(),
            proxy: None,
            ttl: None,
            recheck: Duration::from_secs(86_400),
        }
    }
}

impl ClientSettings {
    /// The family's settings of this address family.
    pub fn family(&self, v6: bool) -> &FamilySettings {
        if v6 { &self.v6 } else { &self.v4 }
    }

    /// Whether `ip` is in one of the `accept_ranges`.
    pub fn accepts(&self, ip: IpAddr) -> bool {
        self.accept_ranges.iter().any(|range| range.contains(ip))
    }
}

/// Validates `[client]`.
pub fn parse(values: &Values<'_>) -> Result<ClientSettings, ConfigError> {
    let mut s = ClientSettings::default();
    let hostnames = names(values, "hostnames")?;
    s.has_hostnames = values.get("hostnames").is_some()
        || values.get("hostnames_v4").is_some()
        || values.get("hostnames_v6").is_some();
    s.v4 = family(values, "4", Method::Web, &hostnames, DEFAULT_PROVIDERS_V4)?;
    s.v6 = family(values, "6", Method::Off, &hostnames, DEFAULT_PROVIDERS_V6)?;
    s.shuffle = match values.optional("provider_order") {
        None | Some("random") => true,
        Some("listed") => false,
        Some(other) => {
            return Err(values.error(
                "provider_order",
                format!("`{}` is not random or listed", crate::log::printable(other)),
            ));
        }
    };
    s.quorum = values.number("quorum", 1, 10)?.unwrap_or(2) as usize;
    s.max_queries = values.number("max_queries", 1, 50)?.unwrap_or(5) as usize;
    s.provider_timeout = duration(values, "provider_timeout", s.provider_timeout)?;
    s.detect_timeout = duration(values, "detect_timeout", s.detect_timeout)?;
    s.provider_backoff = duration(values, "provider_backoff", s.provider_backoff)?;
    s.command_timeout = duration(values, "command_timeout", s.command_timeout)?;
    s.recheck = duration(values, "recheck", s.recheck)?;
    s.ipv6_prefer = match values.optional("ipv6_prefer") {
        None | Some("stable") => Prefer::Stable,
        Some("temporary") => Prefer::Temporary,
        Some(other) => {
            return Err(values.error(
                "ipv6_prefer",
                format!(
                    "`{}` is not stable or temporary",
                    crate::log::printable(other)
                ),
            ));
        }
    };
    if let Some(id) = values.optional("ipv6_interface_id") {
        s.ipv6_interface_id =
            Some(InterfaceId::parse(id).map_err(|e| values.error("ipv6_interface_id", e))?);
    }
    for word in list(values.get("accept_ranges")) {
        s.accept_ranges
            .push(ranges::block(word).map_err(|e| values.error("accept_ranges", e))?);
    }
    if values.optional("proxy").is_some() {
        s.proxy = Some(values.url("proxy", "")?);
    }
    s.ttl = values.number("ttl", 1, 2_592_000)?.map(|n| n as u32);
    check_quorum(values, &s)?;
    Ok(s)
}

/// `quorum` must be reachable: not above `max_queries` nor above a web family's providers.
fn check_quorum(values: &Values<'_>, s: &ClientSettings) -> Result<(), ConfigError> {
    if s.max_queries < s.quorum {
        return Err(values.error(
            "max_queries",
            format!(
                "{} is below quorum = {}, so no address could ever be agreed on; raise max_queries or lower quorum",
                s.max_queries, s.quorum
            ),
        ));
    }
    for (family, key) in [(&s.v4, "providers_v4"), (&s.v6, "providers_v6")] {
        if family.method == Method::Web && family.providers.len() < s.quorum {
            return Err(values.error(
                key,
                format!(
                    "{} provider(s), fewer than quorum = {}; list more providers or lower quorum",
                    family.providers.len(),
                    s.quorum
                ),
            ));
        }
    }
    Ok(())
}

/// One family's keys, `n` being `4` or `6`.
fn family(
    values: &Values<'_>,
    n: &str,
    default: Method,
    hostnames: &[Hostname],
    providers: &[&str],
) -> Result<FamilySettings, ConfigError> {
    let key = |stem: &str| format!("{stem}_v{n}");
    let method_key = format!("ipv{n}");
    let method = match values.optional(&method_key) {
        None => default,
        Some(word) => match word.to_ascii_lowercase().as_str() {
            "web" => Method::Web,
            "command" => Method::Command,
            "interface" => Method::Interface,
            "resolve" => Method::Resolve,
            "off" => Method::Off,
            _ => {
                return Err(values.error(
                    &method_key,
                    format!(
                        "`{}` is not web, command, interface, resolve or off",
                        crate::log::printable(word)
                    ),
                ));
            }
        },
    };
    let own = key("hostnames");
    let hostnames = match values.get(&own) {
        Some(_) => names(values, &own)?,
        None => hostnames.to_vec(),
    };
    let providers_key = key("providers");
    let providers = match values.get(&providers_key) {
        Some(text) => list(Some(text))
            .map(|entry| provider(values, &providers_key, entry))
            .collect::<Result<Vec<_>, _>>()?,
        None => providers
            .iter()
            .map(|url| Provider {
                url: url.to_string(),
                format: Format::Text,
            })
            .collect(),
    };
    no_twice(values, &providers_key, &providers)?;
    let command = values.optional(&key("command")).map(str::to_string);
    let resolve = values.optional(&key("resolve")).map(str::to_string);
    let needs = |what: Option<&String>, stem: &str| match what {
        None => Err(values.error(
            &method_key,
            format!("ipv{n} = {} needs {}_v{n}", method.name(), stem),
        )),
        Some(_) => Ok(()),
    };
    match method {
        Method::Command => needs(command.as_ref(), "command")?,
        Method::Resolve => needs(resolve.as_ref(), "resolve")?,
        _ => {}
    }
    Ok(FamilySettings {
        method,
        hostnames,
        providers,
        command,
        interface: values
            .optional(&key("interface"))
            .unwrap_or("default")
            .to_string(),
        resolve,
    })
}

/// One server is one vote: two entries of a family naming the same scheme, host and port
/// (`http://127.0.0.1:8080/` and `http://127.0.0.1:8080/?x`) would let it count twice.
fn no_twice(values: &Values<'_>, key: &str, providers: &[Provider]) -> Result<(), ConfigError> {
    let origin = |p: &Provider| {
        url::Url::parse(&p.url).ok().map(|u| {
            (
                u.scheme().to_string(),
                u.host_str().map(str::to_string),
                u.port_or_known_default(),
            )
        })
    };
    for (i, p) in providers.iter().enumerate() {
        if let Some(first) = providers[..i].iter().find(|q| origin(q) == origin(p)) {
            return Err(values.error(
                key,
                format!(
                    "`{}` and `{}` are the same server (scheme, host and port), so its vote would count twice toward quorum; list each provider once",
                    crate::log::printable(&first.url),
                    crate::log::printable(&p.url)
                ),
            ));
        }
    }
    Ok(())
}

/// A provider entry: an optional format prefix, then an http(s) URL.
fn provider(values: &Values<'_>, key: &str, entry: &str) -> Result<Provider, ConfigError> {
    let (format, url) = if let Some(rest) = entry.strip_prefix("text:") {
        (Format::Text, rest)
    } else if let Some(rest) = entry.strip_prefix("trace:") {
        (Format::Trace, rest)
    } else if let Some(rest) = entry.strip_prefix("search:") {
        (Format::Search, rest)
    } else if let Some(rest) = entry.strip_prefix("json:") {
        let Some((field, url)) = rest.split_once(':').filter(|(f, _)| !f.contains('/')) else {
            return Err(values.error(
                key,
                "json: needs a field name, as in json:ip:https://api.ipify.org?format=json",
            ));
        };
        (Format::Json(field.to_string()), url)
    } else {
        (Format::Text, entry)
    };
    match url::Url::parse(url) {
        // An answer in clear text could be changed on the way: a forged address would be
        // written to DNS. Plain http is for providers on this machine (tests, a local proxy).
        Ok(u) if u.scheme() == "http" && !crate::config::values::is_loopback(url) => {
            Err(values.error(
                key,
                format!(
                    "`{}`: a provider is asked over https://; http:// only to this machine (localhost, 127.0.0.0/8, ::1)",
                    crate::log::printable(entry)
                ),
            ))
        }
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(Provider {
            url: url.to_string(),
            format,
        }),
        _ => Err(values.error(
            key,
            format!(
                "`{}` is not an http(s) URL (optionally after text:, trace:, search: or json:FIELD:)",
                crate::log::printable(entry)
            ),
        )),
    }
}

/// Comma or space separated words.
fn list(text: Option<&str>) -> impl Iterator<Item = &str> {
    text.unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
}

fn names(values: &Values<'_>, key: &str) -> Result<Vec<Hostname>, ConfigError> {
    let mut out: Vec<Hostname> = Vec::new();
    for word in list(values.get(key)) {
        let name: Hostname = word.parse().map_err(|e| {
            values.error(
                key,
                format!("`{}` is not a host name: {e}", crate::log::printable(word)),
            )
        })?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A duration: a number with `ms`, `s`, `m`, `h` or `d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
        .filter(|ms| *ms <= 366 * 86_400_000)
        .map(Duration::from_millis)
}

fn duration(values: &Values<'_>, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    match values.optional(key) {
        None => Ok(default),
        Some(text) => parse_duration(text).ok_or_else(|| {
            values.error(
                key,
                format!(
                    "`{}` is not a duration such as 300ms, 5s, 10m, 1h or 1d (a bare number is seconds; at most a year)",
                    crate::log::printable(text)
                ),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_suffixes() {
        assert_eq!(parse_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        for bad in ["", "s", "5x", "-1", "1.5s", "400d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_provider_in_clear_text_must_be_on_this_machine() {
        let load = |providers: &str| {
            crate::config::Config::parse_str(
                &format!("[default]\n[gandi]\ntoken = t\n[client]\nproviders_v4 = {providers}\n"),
                std::path::Path::new("unit.ini"),
            )
        };
        let err = load("http://ip.example.net/").unwrap_err().to_string();
        assert!(err.contains("http:// only to this machine"), "{err}");
        assert!(load("text:http://loc%61lhost:8080/").is_err());
        assert!(load("http://127.0.0.1:8080/ http://[::1]:8080/ https://ip.example.net/").is_ok());
        for twice in [
            "http://127.0.0.1:8080/ http://127.0.0.1:8080/?x",
            "https://ip.example.net/ json:ip:https://IP.example.net:443/json",
        ] {
            let err = load(twice).unwrap_err().to_string();
            assert!(err.contains("its vote would count twice"), "{err}");
        }
        assert!(load("http://127.0.0.1:8080/ http://127.0.0.1:8081/ https://ip.example.net:8443/ https://ip.example.net/").is_ok());
    }

    #[test]
    fn the_interface_id_replaces_the_host_bits() {
        let id = InterfaceId::parse("::211:32ff:fe12:3456").unwrap();
        assert_eq!(id.prefix_len(), 64);
        let detected: std::net::Ipv6Addr = "2a02:810d:4a40:1:aaaa:bbbb:cccc:dddd".parse().unwrap();
        assert_eq!(
            id.apply(detected).unwrap().to_string(),
            "2a02:810d:4a40:1:211:32ff:fe12:3456"
        );
        let id = InterfaceId::parse("::1:2:3/56").unwrap();
        assert_eq!(id.prefix_len(), 56);
        assert_eq!(
            id.apply("2a02:810d:4a40:ff01::9".parse().unwrap())
                .unwrap()
                .to_string(),
            "2a02:810d:4a40:ff00:0:1:2:3"
        );
        assert!(InterfaceId::parse("::1/129").is_err());
        assert!(InterfaceId::parse("1a2b:3c4d").is_err());
        // Bits that do not fit the detected prefix are refused, never dropped.
        let wide = InterfaceId::parse("1::1").unwrap();
        assert!(wide.apply("2a02:810d:4a40:1::9".parse().unwrap()).is_err());
    }
}
