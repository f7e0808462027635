//! Registrars behind one trait. This file is the only code that knows every registrar;
//! adding one means one new module and one arm in [`from_config`].

pub mod gandi;
pub mod http;
mod resolver;
pub mod schlund;
pub mod scrub;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use crate::config::{Config, GandiCredential};
use crate::hostname::Hostname;
use crate::log::Log;

/// The change for one host name inside a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// The full name, for log lines.
    pub host: Hostname,
    /// Name relative to the zone; "" is the apex.
    pub name: String,
    /// New A value, if the request named IPv4.
    pub v4: Option<Ipv4Addr>,
    /// New AAAA value, if the request named IPv6.
    pub v6: Option<Ipv6Addr>,
    /// What local state knows of the records from our last write. A registrar that writes
    /// record by record may then write without reading first; the others ignore it.
    pub known: PerFamily<KnownRecord>,
}

/// One value per address family, each optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerFamily<T> {
    /// For the A record.
    pub v4: Option<T>,
    /// For the AAAA record.
    pub v6: Option<T>,
}

impl<T> Default for PerFamily<T> {
    fn default() -> Self {
        PerFamily { v4: None, v6: None }
    }
}

/// A record as we last wrote it: exactly one value, with this TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownRecord {
    /// The value written.
    pub addr: IpAddr,
    /// The TTL written.
    pub ttl: u32,
}

/// Every change a request makes in one zone, so a whole-zone registrar reads and writes
/// the zone once however many of its names the request holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneChange {
    /// The zone, normalised.
    pub zone: String,
    /// One entry per distinct host, in request order.
    pub records: Vec<RecordChange>,
}

/// What happened to one [`RecordChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// At least one family was changed (or created).
    Changed {
        /// The values replaced, for the log (empty when the record was created).
        previous: Vec<String>,
        /// The TTL of each requested family's single-valued record as it now stands, where
        /// the registrar knows it, so the next change can skip a read.
        written_ttl: PerFamily<u32>,
    },
    /// Every family already held the address.
    Unchanged,
    /// No record of that name and type exists, and creating is not allowed.
    Missing {
        /// `A` or `AAAA`.
        rr_type: &'static str,
    },
    /// The name holds several records of the type; replacing them by one is not allowed.
    RoundRobin {
        /// `A` or `AAAA`.
        rr_type: &'static str,
        /// How many there are.
        count: usize,
    },
    /// The name holds a CNAME, beside which DNS allows no other record, so none is created.
    Alias {
        /// `A` or `AAAA`, the type that would have been created.
        rr_type: &'static str,
    },
    /// This record failed on its own (registrars that write record by record); the other
    /// records of the zone are unaffected.
    Failed(BackendError),
}

/// A registrar failure for a whole zone. `Display` is the admin's log message: what
/// happened and what to do, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// No connection could be made (refused, DNS, TLS).
    Unreachable {
        /// Registrar label.
        registrar: &'static str,
        /// The transport's message.
        detail: String,
    },
    /// The configured total time ran out.
    Timeout {
        /// Registrar label.
        registrar: &'static str,
    },
    /// The registrar refused our credentials (login, two-factor code, token, rights).
    CredentialsRejected {
        /// Registrar label.
        registrar: &'static str,
        /// What the registrar said and what to check.
        detail: String,
    },
    /// The zone does not exist in the account.
    ZoneNotFound {
        /// Registrar label.
        registrar: &'static str,
        /// The zone asked for.
        zone: String,
    },
    /// The registrar refused the change itself.
    Rejected {
        /// Registrar label.
        registrar: &'static str,
        /// What the registrar said.
        detail: String,
    },
    /// An answer we cannot use: server error, HTML instead of XML/JSON, truncated.
    BadResponse {
        /// Registrar label.
        registrar: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// Too many requests (HTTP 429).
    RateLimited {
        /// Registrar label.
        registrar: &'static str,
    },
    /// Finding the zone of this host would take more registrar calls than one request may
    /// make for zone discovery.
    DiscoveryLimit {
        /// Registrar label.
        registrar: &'static str,
        /// The host whose zone was not found.
        host: String,
        /// The calls already made.
        calls: u32,
    },
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Unreachable { registrar, detail } => write!(
                f,
                "{registrar}: cannot reach the registrar ({detail}); check the url key, DNS and outgoing firewall"
            ),
            BackendError::Timeout { registrar } => write!(
                f,
                "{registrar}: the registrar did not answer within the configured timeout; it may be down, or raise `timeout`"
            ),
            BackendError::CredentialsRejected { registrar, detail } => {
                write!(
                    f,
                    "{registrar}: the registrar rejected our credentials: {detail}"
                )
            }
            BackendError::ZoneNotFound { registrar, zone } => write!(
                f,
                "{registrar}: zone {zone} does not exist in the account; fix the zones key or the allowed host names"
            ),
            BackendError::Rejected { registrar, detail } => {
                write!(f, "{registrar}: the registrar refused the change: {detail}")
            }
            BackendError::BadResponse { registrar, detail } => {
                write!(
                    f,
                    "{registrar}: unusable answer from the registrar: {detail}"
                )
            }
            BackendError::RateLimited { registrar } => write!(
                f,
                "{registrar}: the registrar's rate limit was hit (HTTP 429); the router will retry later"
            ),
            BackendError::DiscoveryLimit {
                registrar,
                host,
                calls,
            } => write!(
                f,
                "{registrar}: zone discovery for {host} stopped: this request already asked the registrar {calls} times, the most one request may; set zones so names are routed without asking"
            ),
        }
    }
}

/// One registrar account.
pub trait Registrar {
    /// Short label for log lines and errors, e.g. `schlund`.
    fn label(&self) -> &'static str;

    /// Zones set in the config; names inside them are routed here without asking.
    fn configured_zones(&self) -> &[String];

    /// A read-only call proving the credentials work (`check-config --probe`): each
    /// configured zone is looked up, or the zones the account sees are counted.
    fn probe(&self, clock: Clock<'_>, log: &Log) -> Result<String, BackendError>;

    /// Asks the registrar which of its zones holds `host` (longest suffix wins). Only used
    /// when no configured zone matches.
    fn discover_zone(
        &self,
        host: &Hostname,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Option<String>, BackendError>;

    /// Applies every change of one zone: one outcome per record, in order.
    fn apply(
        &self,
        change: &ZoneChange,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<RecordOutcome>, BackendError>;
}

/// The wall clock, passed in so the core never reads it itself. A registrar reads it when
/// it sends, since a SchlundTech one-time code must be current at that moment.
pub type Clock<'a> = &'a dyn Fn() -> SystemTime;

/// The configured registrars, in config order.
pub struct Registrars {
    /// Each account.
    pub list: Vec<Box<dyn Registrar>>,
    /// The client they share, for the count of calls in the log.
    pub http: http::Http,
}

/// Options every registrar shares, from `[default]`.
#[derive(Debug, Clone, Copy)]
pub struct EditPolicy {
    /// Create missing A/AAAA records.
    pub create_missing: bool,
    /// Replace several values of one name/type by one.
    pub collapse_round_robin: bool,
}

/// Builds the registrars the config names. `http` is the one agent all of them share, built
/// with the proxy from the config only.
pub fn from_config(config: &Config, http: http::Http) -> Registrars {
    let policy = EditPolicy {
        create_missing: config.general.create_missing_records,
        collapse_round_robin: config.general.collapse_round_robin,
    };
    let scrub = secrets_of(config);
    let mut list: Vec<Box<dyn Registrar>> = Vec::new();
    if let Some(settings) = &config.schlund {
        list.push(Box::new(schlund::Schlund::new(
            settings.clone(),
            policy,
            http.clone(),
            scrub.clone(),
        )));
    }
    if let Some(settings) = &config.gandi {
        list.push(Box::new(gandi::Gandi::new(
            settings.clone(),
            policy,
            http.clone(),
            scrub.clone(),
        )));
    }
    Registrars { list, http }
}

/// Every configured secret, whichever registrar it belongs to: a registrar may be sent
/// another's credentials by a wrong `url`, and then echo them.
fn secrets_of(config: &Config) -> scrub::Scrub {
    let scrub = scrub::Scrub::default();
    if let Some(settings) = &config.schlund {
        scrub.add(settings.password.expose());
        if let Some(seed) = &settings.totp_secret {
            scrub.add(seed.expose());
        }
    }
    if let Some(settings) = &config.gandi {
        match &settings.credential {
            GandiCredential::Token(secret) | GandiCredential::ApiKey(secret) => {
                scrub.add(secret.expose())
            }
        }
    }
    scrub
}
