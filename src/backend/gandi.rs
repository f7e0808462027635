//! Gandi LiveDNS v5 (gandi-livedns.md).
//!
//! Records are rrsets (one name + one type, all values). Per host and family: read the
//! rrset, answer `nochg` without writing when it already holds exactly the address, else
//! PUT the one value with an explicit TTL, because a PUT without `rrset_ttl` resets it to
//! 10800 (§4 rule 2).

pub mod settings;
mod txt;

use std::cell::RefCell;
use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::backend::http::{Http, HttpReply};
use crate::backend::scrub::Scrub;
use crate::backend::{
    BackendError, Clock, EditPolicy, PerFamily, RecordChange, RecordOutcome, Registrar, ZoneChange,
};
use crate::core::operation::{Operation, RrType};
use crate::hostname::Hostname;
use crate::log::Log;
use settings::{GandiCredential, GandiSettings};

/// Gandi's TTL bounds (§4).
const MIN_TTL: u32 = 300;
const MAX_TTL: u32 = 2_592_000;
/// TTL for records ddns-cgi creates when none is configured: short, as dynamic records are.
const CREATED_TTL: u32 = 300;
/// Pages of `GET /domains` read at most when discovering zones.
const MAX_DOMAIN_PAGES: u32 = 20;
/// Zones asked for per page of `GET /domains`.
const DOMAIN_PAGE_SIZE: usize = 100;
/// Validation errors of one answer shown in a log line; a real answer has one or two.
const ERRORS_SHOWN: usize = 8;

/// Path segments keep only unreserved characters; `@` becomes `%40`, which Gandi decodes.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A Gandi LiveDNS account.
pub struct Gandi {
    /// The account's section name: `gandi`, `gandi:work`.
    label: String,
    settings: GandiSettings,
    policy: EditPolicy,
    http: Http,
    /// Our secrets, kept out of what the API says when it is logged.
    scrub: Scrub,
    /// Zones listed by `GET /domains`, read at most once per process.
    discovered: RefCell<Option<Vec<String>>>,
    /// The rrsets [`Registrar::current`] read under the zone's lock (zone, name, type,
    /// rrset), each taken by the write that follows so one request reads it once.
    read_ahead: RefCell<Vec<ReadAhead>>,
}

/// An rrset read ahead for a write: zone, relative name, type, and the rrset (None: none).
type ReadAhead = (String, String, &'static str, Option<RrsetBody>);

/// An rrset as GET returns it and PUT sends it (§4); other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RrsetBody {
    /// The TTL; Gandi always sends it, but a missing one is not our problem to invent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrset_ttl: Option<u32>,
    /// The values, as text.
    #[serde(default)]
    pub rrset_values: Vec<String>,
}

impl RrsetBody {
    /// Reads a body; any text is handled, unusable text is an error message.
    pub fn parse(text: &str) -> Result<RrsetBody, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The JSON sent with PUT.
    pub fn render(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct DomainBody {
    fqdn: String,
}

/// Gandi's two error shapes (§6): generic `{code, message, object, cause}` and validation
/// `{status, errors: [{name, description}]}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    message: Option<String>,
    object: Option<String>,
    #[serde(default)]
    errors: Vec<ValidationError>,
}

#[derive(Deserialize)]
struct ValidationError {
    name: Option<String>,
    description: Option<String>,
}

impl ErrorBody {
    fn read(reply: &HttpReply) -> ErrorBody {
        serde_json::from_str(&reply.body).unwrap_or_default()
    }

    /// The API's words for the log: scrubbed of our secrets, printable, a few errors at most.
    fn describe(&self, scrub: &Scrub) -> String {
        if !self.errors.is_empty() {
            let mut shown: Vec<String> = self
                .errors
                .iter()
                .take(ERRORS_SHOWN)
                .map(|e| {
                    format!(
                        "{}: {}",
                        scrub.show(e.name.as_deref().unwrap_or("?")),
                        scrub.show(e.description.as_deref().unwrap_or("?"))
                    )
                })
                .collect();
            if self.errors.len() > ERRORS_SHOWN {
                shown.push(format!("and {} more", self.errors.len() - ERRORS_SHOWN));
            }
            return shown.join("; ");
        }
        match &self.message {
            Some(message) => scrub.show(message),
            None => "no details".into(),
        }
    }
}

/// One family's plan for one host.
enum Step {
    /// Holds exactly the address with this TTL.
    Same { ttl: u32 },
    /// Needs one PUT with this TTL.
    Write { ttl: u32 },
}

impl Gandi {
    /// An account from its config section.
    pub fn new(
        label: String,
        settings: GandiSettings,
        policy: EditPolicy,
        http: Http,
        scrub: Scrub,
    ) -> Gandi {
        Gandi {
            label,
            settings,
            policy,
            http,
            scrub,
            discovered: RefCell::new(None),
            read_ahead: RefCell::new(Vec::new()),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&RrsetBody>,
    ) -> Result<HttpReply, BackendError> {
        let authorization = match &self.settings.credential {
            GandiCredential::Token(t) => format!("Bearer {}", t.expose()),
            GandiCredential::ApiKey(k) => format!("Apikey {}", k.expose()),
        };
        let url = format!("{}{path}", self.settings.url);
        let bytes = body.map(|b| b.render().into_bytes());
        let mut headers = vec![
            ("Authorization", authorization.as_str()),
            ("Accept", "application/json"),
        ];
        if bytes.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        self.http
            .send(&self.label, method, &url, &headers, bytes.as_deref())
    }

    /// The one place Gandi statuses become errors (§7.1 step 4). 401/403 mean our token is
    /// wrong, never the router's password; a redirect is never followed.
    fn error(&self, reply: &HttpReply, what: &str, zone: &str) -> BackendError {
        if reply.is_redirect() {
            return reply.redirect_error(&self.label, what, &self.scrub);
        }
        let body = ErrorBody::read(reply);
        match reply.status {
            401 => BackendError::CredentialsRejected {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: HTTP 401 ({}); the [{}] token is unknown or malformed: create a personal access token and put it in the config",
                    body.describe(&self.scrub),
                    self.label
                ),
            },
            403 => BackendError::CredentialsRejected {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: HTTP 403 ({}); the [{}] token has expired, lacks the permission \"Manage domain name technical configurations\", or does not cover zone {zone}: renew or widen it",
                    body.describe(&self.scrub),
                    self.label
                ),
            },
            404 => BackendError::ZoneNotFound {
                registrar: self.label.clone(),
                zone: zone.to_string(),
            },
            400 => BackendError::Rejected {
                registrar: self.label.clone(),
                detail: format!("{what}: HTTP 400: {}", body.describe(&self.scrub)),
            },
            429 => BackendError::RateLimited {
                registrar: self.label.clone(),
                detail: "HTTP 429".into(),
            },
            status => BackendError::BadResponse {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: HTTP {status}{}",
                    if body.message.is_some() {
                        format!(" ({})", body.describe(&self.scrub))
                    } else {
                        String::new()
                    }
                ),
            },
        }
    }

    fn rrset_path(zone: &str, name: &str, rr_type: &str) -> String {
        let name = if name.is_empty() { "@" } else { name };
        format!(
            "/domains/{}/records/{}/{rr_type}",
            utf8_percent_encode(zone, SEGMENT),
            utf8_percent_encode(name, SEGMENT)
        )
    }

    /// The rrset [`Registrar::current`] just read for this record, else a fresh read.
    fn read_for_write(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: &'static str,
    ) -> Result<Option<RrsetBody>, BackendError> {
        let mut ahead = self.read_ahead.borrow_mut();
        let found = ahead
            .iter()
            .position(|(z, name, t, _)| z == zone && *name == record.name && *t == rr_type);
        match found {
            Some(at) => Ok(ahead.swap_remove(at).3),
            None => {
                drop(ahead);
                self.read(zone, &record.name, rr_type, &record.host)
            }
        }
    }

    /// Reads one rrset: `Ok(None)` when the record does not exist.
    fn read(
        &self,
        zone: &str,
        name: &str,
        rr_type: &str,
        host: &Hostname,
    ) -> Result<Option<RrsetBody>, BackendError> {
        let what = format!("reading {rr_type} of {host}");
        let reply = self.send("GET", &Self::rrset_path(zone, name, rr_type), None)?;
        match reply.status {
            200 => RrsetBody::parse(&reply.body)
                .map(Some)
                .map_err(|e| BackendError::BadResponse {
                    registrar: self.label.clone(),
                    detail: format!("{what}: answer is not an rrset ({})", self.scrub.show(&e)),
                }),
            404 if ErrorBody::read(&reply).object.as_deref() == Some("dns-record") => Ok(None),
            _ => Err(self.error(&reply, &what, zone)),
        }
    }

    fn clamp_ttl(&self, ttl: u32, host: &Hostname, log: &Log) -> u32 {
        let clamped = ttl.clamp(MIN_TTL, MAX_TTL);
        if clamped != ttl {
            log.warn(format_args!(
                "{}: TTL {ttl} for {host} is outside Gandi's {MIN_TTL}..{MAX_TTL}; using {clamped}",
                self.label
            ));
        }
        clamped
    }

    /// The TTL to write: the request's, else the configured one, else `otherwise`.
    fn ttl_for(&self, record: &RecordChange, otherwise: u32, log: &Log) -> u32 {
        let ttl = record.ttl.or(self.settings.ttl).unwrap_or(otherwise);
        self.clamp_ttl(ttl, &record.host, log)
    }

    fn plan(
        &self,
        current: Option<&RrsetBody>,
        addr: IpAddr,
        record: &RecordChange,
        log: &Log,
    ) -> Step {
        let Some(current) = current else {
            return Step::Write {
                ttl: self.ttl_for(record, CREATED_TTL, log),
            };
        };
        let wanted_ttl = self.ttl_for(record, current.rrset_ttl.unwrap_or(CREATED_TTL), log);
        let holds_only = current.rrset_values.len() == 1
            && current.rrset_values[0].trim().parse::<IpAddr>().ok() == Some(addr);
        if holds_only && current.rrset_ttl == Some(wanted_ttl) {
            return Step::Same { ttl: wanted_ttl };
        }
        Step::Write { ttl: wanted_ttl }
    }

    fn apply_record(
        &self,
        zone: &str,
        record: &RecordChange,
        force: bool,
        log: &Log,
    ) -> Result<RecordOutcome, BackendError> {
        if record.operations.iter().any(Operation::is_txt) {
            return self.apply_txt(zone, record, log);
        }
        // Decide every type first, so a host refused for one type changes in none. A write
        // that fails after another type's succeeded leaves that one written; the answer is
        // 911 and no state is kept, so the next request reads both and finishes.
        let mut steps = Vec::new();
        for op in &record.operations {
            let step = match op {
                Operation::Set(addr) => self.decide_set(zone, record, *addr, force, log)?,
                Operation::Delete(rr_type) => self.decide_delete(zone, record, rr_type.name())?,
                // A dialect sends challenge values alone, handled above.
                Operation::TxtAdd(_) | Operation::TxtRemove(_) | Operation::TxtClear => continue,
                Operation::SetPrefix(_) => return Ok(RecordOutcome::unresolved(op)),
            };
            match step {
                Ok(step) => steps.push(step),
                Err(outcome) => return Ok(outcome),
            }
        }
        let mut changed = false;
        let mut replaced = PerFamily::default();
        let mut written_ttl = PerFamily::default();
        for step in steps {
            match step.action {
                Action::Keep { ttl } => written_ttl.set(step.rr_type, ttl),
                Action::Nothing => {}
                Action::Write { addr, ttl } => {
                    self.put(zone, record, step.rr_type, addr, ttl, log)?;
                    written_ttl.set(step.rr_type, ttl);
                    changed = true;
                    replaced.set(step.rr_type, step.previous);
                }
                Action::Remove => {
                    if self.delete(zone, record, step.rr_type, log)? {
                        changed = true;
                        replaced.set(step.rr_type, step.previous);
                    }
                }
            }
        }
        Ok(if changed {
            RecordOutcome::Changed {
                previous: replaced,
                written_ttl,
            }
        } else {
            RecordOutcome::Unchanged
        })
    }

    /// What setting `addr` takes, or the outcome that refuses it; `force` writes even a
    /// record that already holds it.
    fn decide_set(
        &self,
        zone: &str,
        record: &RecordChange,
        addr: IpAddr,
        force: bool,
        log: &Log,
    ) -> Result<Result<RecordStep, RecordOutcome>, BackendError> {
        let rr_type = RrType::of(addr).name();
        let known = match addr {
            IpAddr::V4(_) => record.known.v4,
            IpAddr::V6(_) => record.known.v6,
        };
        // We wrote this record last, as one value with a known TTL, and the router now
        // reports another address: one PUT does it (gandi-livedns.md §7.1). Only when a
        // read could not change the outcome: the record may have been deleted or given
        // more values by hand since, which the policies may say to refuse. A repeat of
        // the known address is read instead, since the cache window has passed.
        let read_can_refuse = !self.policy.create_missing || !self.policy.collapse_round_robin;
        if let Some(known) = known.filter(|k| k.addr != addr && !read_can_refuse) {
            let ttl = self.ttl_for(record, known.ttl, log);
            return Ok(Ok(RecordStep {
                rr_type,
                action: Action::Write { addr, ttl },
                previous: vec![known.addr.to_string()],
            }));
        }
        let current = self.read_for_write(zone, record, rr_type)?;
        match &current {
            None if !self.policy.create_missing => {
                return Ok(Err(RecordOutcome::Missing { rr_type }));
            }
            Some(c) if c.rrset_values.len() > 1 && !self.policy.collapse_round_robin => {
                return Ok(Err(RecordOutcome::RoundRobin {
                    rr_type,
                    count: c.rrset_values.len(),
                }));
            }
            _ => {}
        }
        let action = match self.plan(current.as_ref(), addr, record, log) {
            Step::Same { ttl } if force => Action::Write { addr, ttl },
            Step::Same { ttl } => Action::Keep { ttl },
            Step::Write { ttl } => Action::Write { addr, ttl },
        };
        let previous = current.map(|c| c.rrset_values).unwrap_or_default();
        Ok(Ok(RecordStep {
            rr_type,
            action,
            previous,
        }))
    }

    /// Whether there is an rrset to delete: read first, so the log can say what went and
    /// nothing is sent when nothing is there.
    fn decide_delete(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: &'static str,
    ) -> Result<Result<RecordStep, RecordOutcome>, BackendError> {
        let current = self.read(zone, &record.name, rr_type, &record.host)?;
        Ok(Ok(match current {
            None => RecordStep {
                rr_type,
                action: Action::Nothing,
                previous: Vec::new(),
            },
            Some(c) => RecordStep {
                rr_type,
                action: Action::Remove,
                previous: c.rrset_values,
            },
        }))
    }

    /// One PUT of a single value with an explicit TTL.
    fn put(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: &str,
        addr: IpAddr,
        ttl: u32,
        log: &Log,
    ) -> Result<(), BackendError> {
        let body = RrsetBody {
            rrset_ttl: Some(ttl),
            rrset_values: vec![addr.to_string()],
        };
        self.put_rrset(zone, record, rr_type, &body, log)?;
        log.debug(format_args!(
            "{}: writing {rr_type} of {}: {addr} ttl {ttl}",
            self.label, record.host
        ));
        Ok(())
    }

    /// One PUT of a whole rrset, which replaces all its values (§4 rule 3).
    fn put_rrset(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: &str,
        body: &RrsetBody,
        log: &Log,
    ) -> Result<(), BackendError> {
        let what = format!("writing {rr_type} of {}", record.host);
        let path = Self::rrset_path(zone, &record.name, rr_type);
        let reply = self.send("PUT", &path, Some(body))?;
        if !(200..300).contains(&reply.status) {
            return Err(self.error(&reply, &what, zone));
        }
        // Gandi answers 201 with a JSON message (§7.1); a success status around
        // anything else (a proxy's or edge's page) does not prove the write happened.
        if serde_json::from_str::<serde_json::Value>(&reply.body).is_err() {
            return Err(BackendError::BadResponse {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: HTTP {} without a JSON body; the change may not be stored",
                    reply.status
                ),
            });
        }
        log.debug(format_args!(
            "{}: {what}: HTTP {}",
            self.label, reply.status
        ));
        Ok(())
    }

    /// `DELETE` of one rrset (§5.9): true when it was removed, false when it was already
    /// gone (a `404` dns-record).
    fn delete(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: &str,
        log: &Log,
    ) -> Result<bool, BackendError> {
        let what = format!("deleting {rr_type} of {}", record.host);
        let path = Self::rrset_path(zone, &record.name, rr_type);
        let reply = self.send("DELETE", &path, None)?;
        log.debug(format_args!(
            "{}: {what}: HTTP {}",
            self.label, reply.status
        ));
        match reply.status {
            200 | 204 => Ok(true),
            404 if ErrorBody::read(&reply).object.as_deref() == Some("dns-record") => Ok(false),
            _ => Err(self.error(&reply, &what, zone)),
        }
    }

    fn list_zones(&self, log: &Log) -> Result<Vec<String>, BackendError> {
        if let Some(zones) = self.discovered.borrow().as_ref() {
            return Ok(zones.clone());
        }
        let mut zones = Vec::new();
        for page in 1..=MAX_DOMAIN_PAGES {
            let reply = self.send(
                "GET",
                &format!("/domains?per_page={DOMAIN_PAGE_SIZE}&page={page}"),
                None,
            )?;
            if reply.status != 200 {
                return Err(self.error(&reply, "listing zones", "(any)"));
            }
            let batch: Vec<DomainBody> =
                serde_json::from_str(&reply.body).map_err(|e| BackendError::BadResponse {
                    registrar: self.label.clone(),
                    detail: format!(
                        "listing zones: answer is not a list of domains ({})",
                        self.scrub.show(&e.to_string())
                    ),
                })?;
            // The API may serve fewer than asked for (its page limit is not documented), so
            // its own word decides whether more follow: `Total-Count`, else `Link: rel="next"`,
            // else a full page.
            let total = reply
                .header("total-count")
                .and_then(|t| t.trim().parse::<usize>().ok());
            let next_linked = reply
                .header("link")
                .is_some_and(|l| l.contains("rel=\"next\""));
            let full = batch.len() >= DOMAIN_PAGE_SIZE;
            let empty = batch.is_empty();
            zones.extend(
                batch
                    .into_iter()
                    .map(|d| d.fqdn.trim_end_matches('.').to_ascii_lowercase()),
            );
            let more = match total {
                Some(total) => zones.len() < total,
                None => next_linked || full,
            };
            if empty || !more {
                break;
            }
            if page == MAX_DOMAIN_PAGES {
                log.warn(format_args!(
                "{}: the account lists more zones than the {} read ({MAX_DOMAIN_PAGES} pages); names in the others are not found: set zones in [{}]",
                self.label,
                    zones.len(),
                    self.label
                ));
            }
        }
        *self.discovered.borrow_mut() = Some(zones.clone());
        Ok(zones)
    }
}

/// What one operation of a record takes, decided before anything is sent.
struct RecordStep {
    rr_type: &'static str,
    action: Action,
    /// The values it replaces or removes, for the log.
    previous: Vec<String>,
}

enum Action {
    /// Holds exactly the address already, with this TTL.
    Keep { ttl: u32 },
    /// One PUT.
    Write { addr: IpAddr, ttl: u32 },
    /// One DELETE.
    Remove,
    /// Nothing to delete.
    Nothing,
}

impl Registrar for Gandi {
    fn label(&self) -> &str {
        &self.label
    }

    fn configured_zones(&self) -> &[String] {
        &self.settings.zones
    }

    fn ttl_range(&self) -> std::ops::RangeInclusive<u32> {
        MIN_TTL..=MAX_TTL
    }

    fn current(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: RrType,
        _clock: Clock<'_>,
        _log: &Log,
    ) -> Result<Vec<String>, BackendError> {
        let rr_name = rr_type.name();
        let rrset = self.read(zone, &record.name, rr_name, &record.host)?;
        let values: Vec<String> = rrset
            .iter()
            .flat_map(|r| r.rrset_values.iter())
            .map(|v| {
                if rr_type == RrType::Txt {
                    txt::unquoted(v).to_string()
                } else {
                    v.clone()
                }
            })
            .collect();
        self.read_ahead
            .borrow_mut()
            .push((zone.to_string(), record.name.clone(), rr_name, rrset));
        Ok(values)
    }

    fn probe(&self, _clock: Clock<'_>, log: &Log) -> Result<String, BackendError> {
        if self.settings.zones.is_empty() {
            let zones = self.list_zones(log)?;
            return Ok(format!("token accepted; {} zones visible", zones.len()));
        }
        for zone in &self.settings.zones {
            let path = format!("/domains/{}", utf8_percent_encode(zone, SEGMENT));
            let reply = self.send("GET", &path, None)?;
            if reply.status != 200 {
                return Err(self.error(&reply, &format!("reading zone {zone}"), zone));
            }
        }
        Ok(format!(
            "token accepted; zones {} found",
            self.settings.zones.join(", ")
        ))
    }

    fn discover_zone(
        &self,
        host: &Hostname,
        _clock: Clock<'_>,
        log: &Log,
    ) -> Result<Option<String>, BackendError> {
        let zones = self.list_zones(log)?;
        let found = zones
            .iter()
            .filter(|z| host.is_within(z))
            .max_by_key(|z| z.len())
            .cloned();
        if let Some(zone) = &found {
            log.debug(format_args!(
                "{}: {host} is in zone {zone}; set zones = {zone} to skip the listing",
                self.label
            ));
        }
        Ok(found)
    }

    fn apply(
        &self,
        change: &ZoneChange,
        _clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<RecordOutcome>, BackendError> {
        let mut outcomes = Vec::new();
        for record in &change.records {
            match self.apply_record(&change.zone, record, change.force, log) {
                Ok(outcome) => outcomes.push(self.scrub.outcome(outcome)),
                // The zone itself is gone or our token is refused: every host fails alike.
                Err(
                    e @ (BackendError::ZoneNotFound { .. }
                    | BackendError::CredentialsRejected { .. }),
                ) => return Err(e),
                Err(e) => outcomes.push(RecordOutcome::Failed(e)),
            }
        }
        // A read for a record that turned out to need no write is not kept for later.
        self.read_ahead.borrow_mut().clear();
        Ok(outcomes)
    }
}
