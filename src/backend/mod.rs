//! Registrars behind one trait. Each kind of registrar is one module that declares its
//! section's keys, validates them into its settings, describes them for `check-config`,
//! and builds an account from them; [`KINDS`] lists the kinds, and is the only code that
//! knows them all.
//!
//! To add a kind: write `src/backend/NAME.rs` with a [`Kind`] constant, its [`Settings`]
//! and its [`Registrar`], and add the constant to [`KINDS`].

pub mod gandi;
pub mod http;
mod resolver;
pub mod rfc2136;
pub mod schlund;
pub mod scrub;

use std::any::Any;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use crate::budget::Budget;
use crate::config::values::Values;
use crate::config::{Config, ConfigError};
use crate::core::operation::{self, Operation, RrType};
use crate::hostname::Hostname;
use crate::log::Log;
use crate::secret::Secret;

/// The change for one host name inside a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    /// The full name, for log lines.
    pub host: Hostname,
    /// Name relative to the zone; "" is the apex.
    pub name: String,
    /// What to do, at most one operation per record type; a type not named is left alone.
    pub operations: Vec<Operation>,
    /// The TTL the request asks for (within [`Registrar::ttl_range`]); it wins over the
    /// backend's configured `ttl`. `None` keeps each record's TTL.
    pub ttl: Option<u32>,
    /// What local state knows of the records from our last write. A registrar that writes
    /// record by record may then write without reading first; the others ignore it.
    pub known: PerFamily<KnownRecord>,
}

impl RecordChange {
    /// The IPv4 address to set, if any.
    pub fn v4(&self) -> Option<Ipv4Addr> {
        operation::v4(&self.operations)
    }

    /// The IPv6 address to set, if any.
    pub fn v6(&self) -> Option<Ipv6Addr> {
        operation::v6(&self.operations)
    }
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

impl<T> PerFamily<T> {
    /// Sets the value of the family of `rr_type` (`A` or `AAAA`).
    pub fn set(&mut self, rr_type: &str, value: T) {
        match rr_type {
            "A" => self.v4 = Some(value),
            _ => self.v6 = Some(value),
        }
    }

    /// The value of the family of `rr_type` (`A` or `AAAA`).
    pub fn get(&self, rr_type: &str) -> Option<&T> {
        match rr_type {
            "A" => self.v4.as_ref(),
            _ => self.v6.as_ref(),
        }
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
    /// Write every record set even where it already holds the value (`--force`).
    pub force: bool,
}

/// What happened to one [`RecordChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// At least one type was changed (set, created or deleted).
    Changed {
        /// Per family written, the values it replaced or removed (empty when the record
        /// was created); a family left as it was is `None`. For the log and the answers
        /// that repeat the old value.
        previous: PerFamily<Vec<String>>,
        /// The TTL of each requested family's single-valued record as it now stands, where
        /// the registrar knows it, so the next change can skip a read.
        written_ttl: PerFamily<u32>,
    },
    /// Every type already was as asked (held the address; had no record to delete).
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
    /// The record is not a plain one the operation can change.
    NotPlain {
        /// `A` or `AAAA`.
        rr_type: &'static str,
        /// Why, and what to do instead, for the admin.
        why: String,
    },
    /// This record failed on its own (registrars that write record by record); the other
    /// records of the zone are unaffected.
    Failed(BackendError),
}

impl RecordOutcome {
    /// For an operation the core resolves before any backend sees it (an IPv6 prefix):
    /// refused, never guessed at.
    pub fn unresolved(op: &Operation) -> RecordOutcome {
        RecordOutcome::NotPlain {
            rr_type: op.rr_type().name(),
            why: format!(
                "`{op}` reached the backend unresolved; this is a bug in ddns-cgi, please report it"
            ),
        }
    }
}

/// A registrar failure for a whole zone. `Display` is the admin's log message: what
/// happened and what to do, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// No connection could be made (refused, DNS, TLS).
    Unreachable {
        /// Registrar label.
        registrar: String,
        /// The transport's message.
        detail: String,
    },
    /// The request's time budget (`timeout`) ran out.
    Timeout {
        /// Registrar label.
        registrar: String,
    },
    /// The registrar refused our credentials (login, two-factor code, token, rights).
    CredentialsRejected {
        /// Registrar label.
        registrar: String,
        /// What the registrar said and what to check.
        detail: String,
    },
    /// The zone does not exist in the account.
    ZoneNotFound {
        /// Registrar label.
        registrar: String,
        /// The zone asked for.
        zone: String,
    },
    /// The registrar refused the change itself.
    Rejected {
        /// Registrar label.
        registrar: String,
        /// What the registrar said.
        detail: String,
    },
    /// An answer we cannot use: server error, HTML instead of XML/JSON, truncated.
    BadResponse {
        /// Registrar label.
        registrar: String,
        /// What was wrong with it.
        detail: String,
    },
    /// Too many requests.
    RateLimited {
        /// Registrar label.
        registrar: String,
        /// How the registrar said so (`HTTP 429`).
        detail: String,
    },
    /// Finding the zone of this host would take more registrar calls than one request may
    /// make for zone discovery.
    DiscoveryLimit {
        /// Registrar label.
        registrar: String,
        /// The host whose zone was not found.
        host: String,
        /// The calls already made.
        calls: u32,
    },
    /// A name server failed us: no answer, an answer that proves nothing, its own failure,
    /// or our clock against its clock. What to fix is in `detail`.
    NameServer {
        /// Account label.
        registrar: String,
        /// What happened and what to do.
        detail: String,
    },
    /// The name server does not serve the zone, or the name lies in a zone delegated
    /// elsewhere.
    NotServed {
        /// Account label.
        registrar: String,
        /// What happened and what to do.
        detail: String,
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
            BackendError::RateLimited { registrar, detail } => write!(
                f,
                "{registrar}: the registrar's rate limit was hit ({detail}); the router will retry later"
            ),
            BackendError::DiscoveryLimit {
                registrar,
                host,
                calls,
            } => write!(
                f,
                "{registrar}: zone discovery for {host} stopped: this request already asked the registrar {calls} times, the most one request may; set zones so names are routed without asking"
            ),
            BackendError::NameServer { registrar, detail }
            | BackendError::NotServed { registrar, detail } => write!(f, "{registrar}: {detail}"),
        }
    }
}

/// One registrar account.
pub trait Registrar {
    /// The account's label for log lines, errors and lock names: its section, e.g.
    /// `schlund` or `gandi:work`.
    fn label(&self) -> &str;

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

    /// The TTLs the backend accepts; a request asking for another is refused before any
    /// call. RFC 2181's limit unless the backend has a narrower one.
    fn ttl_range(&self) -> std::ops::RangeInclusive<u32> {
        0..=2_147_483_647
    }

    /// The values of one record type of a host as the registrar has them now, for an
    /// operation whose result depends on them (an IPv6 prefix keeps the host's interface
    /// ID). Called under the zone's lock, before `apply`.
    fn current(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: RrType,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<String>, BackendError>;

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

/// The configured registrar accounts, in config order.
pub struct Registrars {
    /// Each account.
    pub list: Vec<Box<dyn Registrar>>,
    /// The request's time budget all of them spend, and the count of calls for the log.
    pub budget: Budget,
}

impl Registrars {
    /// The account at `index` (as [`Registrars::locate`] returned it).
    pub fn account(&self, index: usize) -> &dyn Registrar {
        self.list[index].as_ref()
    }

    /// Finds the account and zone of a name: the longest configured zone first; else each
    /// account without configured zones is asked, in config order.
    pub fn locate(
        &self,
        name: &Hostname,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Option<(usize, String)>, BackendError> {
        let configured = self
            .list
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.configured_zones().iter().map(move |z| (i, z)))
            .filter(|(_, z)| name.is_within(z))
            .max_by_key(|(_, z)| z.len());
        if let Some((index, zone)) = configured {
            return Ok(Some((index, zone.clone())));
        }
        for (index, registrar) in self.list.iter().enumerate() {
            if !registrar.configured_zones().is_empty() {
                continue;
            }
            if let Some(zone) = registrar.discover_zone(name, clock, log)? {
                return Ok(Some((index, zone)));
            }
        }
        Ok(None)
    }
}

/// Options every registrar shares, from `[default]`.
#[derive(Debug, Clone, Copy)]
pub struct EditPolicy {
    /// Create missing A/AAAA records.
    pub create_missing: bool,
    /// Replace several values of one name/type by one.
    pub collapse_round_robin: bool,
    /// Write a record even where it already holds the value (set per request: `--force`).
    pub rewrite: bool,
}

/// The kind whose account a ws.ddns file keeps in `[default]` (and `[DEFAULT]`).
pub const IN_DEFAULT: &Kind = &schlund::settings::KIND;

/// Every kind of registrar, in the order their accounts are asked to discover zones.
pub const KINDS: &[&Kind] = &[
    &schlund::settings::KIND,
    &gandi::settings::KIND,
    &rfc2136::settings::KIND,
];

/// A kind of registrar: its section name, its keys, and how its settings are read.
#[derive(Debug)]
pub struct Kind {
    /// The section name: `[NAME]` and `[NAME:ACCOUNT]`.
    pub name: &'static str,
    /// The registrar's name, for messages.
    pub brand: &'static str,
    /// What `check-config` shows beside the section.
    pub title: &'static str,
    /// Every key its sections take.
    pub keys: &'static [&'static str],
    /// The keys saying where the registrar is and who we are to it; a section must set
    /// them itself, never inherit them from `[DEFAULT]` (which holds the ws.ddns account).
    pub bound_keys: &'static [&'static str],
    /// Validates a section into settings.
    pub parse: fn(&Values<'_>) -> Result<Box<dyn Settings>, ConfigError>,
}

/// One account's validated settings.
pub trait Settings: fmt::Debug {
    /// The zones the section lists; empty → found by asking the registrar.
    fn zones(&self) -> &[String];
    /// Appends the `key = value` lines `check-config` prints, secrets as `***`.
    fn describe(&self, out: &mut String);
    /// Every secret, so no registrar's text can show it.
    fn secrets(&self) -> Vec<&Secret>;
    /// The account, for one request.
    fn connect(&self, label: &str, shared: &Shared) -> Box<dyn Registrar>;
    /// For tests and tools that know the kind.
    fn as_any(&self) -> &dyn Any;
}

/// What every account of a request shares.
pub struct Shared {
    /// `[default]`'s edit policy.
    pub policy: EditPolicy,
    /// The one HTTP agent, spending the request's budget.
    pub http: http::Http,
    /// Every configured secret.
    pub scrub: scrub::Scrub,
}

/// Builds the accounts the config names. `http` is the one agent all of them share, built
/// with the proxy from the config only.
pub fn from_config(config: &Config, http: http::Http) -> Registrars {
    let scrub = secrets_of(config);
    let shared = Shared {
        policy: EditPolicy {
            create_missing: config.general.create_missing_records,
            collapse_round_robin: config.general.collapse_round_robin,
            rewrite: false,
        },
        http: http.scrubbing(&scrub),
        scrub,
    };
    let list = config
        .accounts
        .iter()
        .map(|account| account.settings.connect(&account.label, &shared))
        .collect();
    Registrars {
        list,
        budget: shared.http.budget(),
    }
}

/// Every configured secret, whichever registrar it belongs to: a registrar may be sent
/// another's credentials by a wrong `url`, and then echo them.
fn secrets_of(config: &Config) -> scrub::Scrub {
    let scrub = scrub::Scrub::default();
    for account in &config.accounts {
        for secret in account.settings.secrets() {
            scrub.add(secret.expose());
        }
    }
    scrub
}

/// `yes` or `no`, as the config writes them.
pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// A `zones` list as `check-config` shows it.
pub fn zones_shown(zones: &[String]) -> String {
    if zones.is_empty() {
        "(found by asking the registrar)".into()
    } else {
        zones.join(" ")
    }
}
