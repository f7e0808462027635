//! A zone's own primary name server, changed by DNS UPDATE (RFC 2136) signed with TSIG
//! (RFC 8945).
//!
//! Per zone: each requested family of each host is read first with a signed query; when
//! everything already is as asked nothing is sent. Otherwise one UPDATE carries every
//! change of the zone, each guarded by a prerequisite holding the RRset as read ("RRset
//! does not exist" when there was none), so the server applies all of it or nothing, and a
//! change made by someone else since the read fails it instead of being overwritten; then
//! the zone is read again and the UPDATE retried once. Only a reply signed by our key
//! counts as success.

pub mod settings;
pub mod transport;
pub mod tsig;
mod txt;
pub mod wire;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::backend::{
    BackendError, Clock, EditPolicy, PerFamily, RecordChange, RecordOutcome, Registrar, ZoneChange,
};
use crate::core::operation::{Operation, RrType};
use crate::hostname::Hostname;
use crate::log::Log;
use settings::Rfc2136Settings;
use transport::{Failure, Transport};
use tsig::{Key, Verdict};
use wire::{CLASS_ANY, CLASS_IN, CLASS_NONE, Message, Rr, TYPE_A, TYPE_AAAA, TYPE_CNAME};

/// TTL of a record that did not exist, when no `ttl` is configured.
const CREATED_TTL: u32 = 300;
/// UPDATE attempts per zone: the first, and one after a stale read.
const ATTEMPTS: u32 = 2;

/// Response codes (RFC 1035 §4.1.1, RFC 2136 §2.2).
const NOERROR: u8 = 0;
const FORMERR: u8 = 1;
const SERVFAIL: u8 = 2;
const NXDOMAIN: u8 = 3;
const NOTIMP: u8 = 4;
const REFUSED: u8 = 5;
const YXDOMAIN: u8 = 6;
const YXRRSET: u8 = 7;
const NXRRSET: u8 = 8;
const NOTAUTH: u8 = 9;
const NOTZONE: u8 = 10;

/// One primary name server, reached with one key.
pub struct Rfc2136 {
    label: String,
    settings: Rfc2136Settings,
    key: Key,
    policy: EditPolicy,
    transport: Box<dyn Transport>,
}

/// What a read found at a name for one type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Current {
    /// The RRset's values (none: it does not exist) and its TTL.
    Records {
        values: Vec<IpAddr>,
        ttl: Option<u32>,
    },
    /// The name is a CNAME.
    Alias,
    /// The name lies at or below a delegation to another server, named by its NS owner.
    Delegated { at: String },
}

/// What one family of one host takes.
#[derive(Debug, Clone)]
struct Step {
    rtype: u16,
    rr_name: &'static str,
    /// The RRset as read, for the prerequisite and the log.
    current: Vec<IpAddr>,
    action: Action,
}

#[derive(Debug, Clone, Copy)]
enum Action {
    /// Already as asked, with this TTL.
    Keep { ttl: u32 },
    /// Replace the RRset by this one record.
    Write { addr: IpAddr, ttl: u32 },
    /// Delete the RRset.
    Remove,
    /// Nothing there to delete.
    Nothing,
    /// Challenge TXT values added or deleted one by one (`txt.rs`).
    Edited,
}

impl Action {
    fn writes(self) -> bool {
        matches!(self, Action::Write { .. } | Action::Remove)
    }
}

/// One record's steps, or the outcome refusing it.
type Plan = Result<Vec<Step>, RecordOutcome>;

/// How an exchange ended, when not with an error for the whole zone.
enum Answer {
    /// A correctly signed NOERROR (or, for a query, NXDOMAIN).
    Done(Message),
    /// A prerequisite failed: the data changed since it was read.
    Stale,
}

impl Rfc2136 {
    /// An account from its settings, sending through `transport`.
    pub fn new(
        label: String,
        settings: Rfc2136Settings,
        policy: EditPolicy,
        transport: Box<dyn Transport>,
    ) -> Rfc2136 {
        let key = settings.key();
        Rfc2136 {
            label,
            settings,
            key,
            policy,
            transport,
        }
    }

    fn server(&self) -> String {
        self.transport.describe()
    }

    fn failure(&self, detail: String) -> BackendError {
        BackendError::NameServer {
            registrar: self.label.clone(),
            detail,
        }
    }

    /// Signs `message`, sends it and checks what comes back; `what` names it for the log,
    /// `zone` is the zone it concerns.
    fn exchange(
        &self,
        message: Vec<u8>,
        now: u64,
        what: &str,
        zone: &str,
    ) -> Result<Answer, BackendError> {
        let request = tsig::sign(message, &self.key, now);
        if request.bytes.len() > transport::MESSAGE_LIMIT {
            return Err(self.too_large(request.bytes.len(), what));
        }
        // Over UDP a forged datagram may come first: the transport waits for one whose
        // signature settles the matter.
        let settles = |bytes: &[u8]| {
            wire::decode(bytes).is_ok_and(|m| {
                m.id == request.id
                    && !matches!(
                        tsig::verify(bytes, &m, &self.key, &request, now),
                        Verdict::Unverified { .. }
                    )
            })
        };
        let reply = self
            .transport
            .exchange(&request.bytes, &settles)
            .map_err(|f| match f {
                Failure::Timeout => BackendError::Timeout {
                    registrar: self.label.clone(),
                },
                Failure::TooLarge(len) => self.too_large(len, what),
                f => self.failure(format!(
                    "{what}: no answer from {} ({f}); check the server and port keys and that the server listens there",
                    self.server()
                )),
            })?;
        let message = wire::decode(&reply).map_err(|e| {
            self.failure(format!(
                "{what}: the answer from {} is not a DNS message ({e})",
                self.server()
            ))
        })?;
        let sent = u16::from_be_bytes([request.bytes[2], request.bytes[3]]);
        if message.id != request.id
            || !message.is_reply
            || message.opcode != ((sent >> 11) & 0x0F) as u8
        {
            return Err(self.failure(format!(
                "{what}: the answer from {} does not belong to our request (another ID or opcode)",
                self.server()
            )));
        }
        let verdict = tsig::verify(&reply, &message, &self.key, &request, now);
        self.judge(message, &verdict, what, zone)
    }

    /// A message no DNS transport can carry: refused before anything is sent.
    fn too_large(&self, len: usize, what: &str) -> BackendError {
        BackendError::Rejected {
            registrar: self.label.clone(),
            detail: format!(
                "{what}: the message would be {len} bytes, more than the {} a DNS message can carry; nothing was sent; update fewer hosts of the zone in one request",
                transport::MESSAGE_LIMIT
            ),
        }
    }

    /// The one place rcodes and TSIG errors become outcomes (rfc2136-tsig.md §1.6, §2.4).
    /// Only a verified reply's rcode counts; the TSIG errors servers send unsigned by
    /// design (BADKEY, BADSIG) and the signed BADTIME are read before that (§2.4).
    fn judge(
        &self,
        m: Message,
        verdict: &Verdict,
        what: &str,
        zone: &str,
    ) -> Result<Answer, BackendError> {
        let key = &self.settings.key_name;
        let server = self.server();
        match verdict {
            Verdict::Refused { error } => {
                let fix = match *error {
                    tsig::BADSIG => format!(
                        "BADSIG: key_secret differs from the secret of key {key} on the server; copy it from the server's key file"
                    ),
                    tsig::BADKEY => format!(
                        "BADKEY: the server knows no key {key} with algorithm {}, or (Knot) its ACL does not grant this key the change; check key_name, key_algorithm and the server's key and ACL",
                        self.settings.key_algorithm.name()
                    ),
                    other => format!("TSIG error {other}"),
                };
                return Err(BackendError::CredentialsRejected {
                    registrar: self.label.clone(),
                    detail: format!("{what}: {server} rejected our signature ({fix})"),
                });
            }
            Verdict::Skew { skew } => {
                let side = if *skew < 0 { "ahead of" } else { "behind" };
                return Err(self.failure(format!(
                    "{what}: {server} refused our signature as BADTIME: this host's clock is {} s {side} the server's ({} s allowed); fix the time (NTP) on this host or the server",
                    skew.unsigned_abs(),
                    tsig::FUDGE
                )));
            }
            Verdict::Unverified { why } => return Err(self.unverified(m.rcode, why, what, zone)),
            Verdict::Valid => {}
        }
        let is_query = m.opcode == wire::OPCODE_QUERY;
        match m.rcode {
            NOERROR => Ok(Answer::Done(m)),
            NXDOMAIN if is_query => Ok(Answer::Done(m)),
            NXRRSET | YXRRSET if !is_query => Ok(Answer::Stale),
            REFUSED | NOTAUTH if is_query => Err(BackendError::NotServed {
                registrar: self.label.clone(),
                detail: format!(
                    "{server} does not serve zone {zone}; it refused to answer for it ({}); set server to the zone's primary, or fix zones",
                    rcode_name(m.rcode)
                ),
            }),
            rcode => Err(self.rcode_error(rcode, what)),
        }
    }

    /// A reply whose signature does not verify proves nothing, whatever its rcode says:
    /// anyone who can send a datagram could have forged it.
    fn unverified(&self, rcode: u8, why: &str, what: &str, zone: &str) -> BackendError {
        let key = &self.settings.key_name;
        let server = self.server();
        let hint = if rcode == NOTAUTH {
            format!(
                "; if it is genuine, {server} does not serve zone {zone} (Knot answers so unsigned): set server to the zone's primary, or fix zones"
            )
        } else {
            String::new()
        };
        self.failure(format!(
            "{what}: unverified reply from {server} (rcode {}): {why}; it proves nothing, so the change may or may not be made; check that key {key} is the server's and nothing else answers on that port{hint}",
            rcode_name(rcode)
        ))
    }

    fn rcode_error(&self, rcode: u8, what: &str) -> BackendError {
        let server = self.server();
        let key = &self.settings.key_name;
        let bug = |name: &str| BackendError::Rejected {
            registrar: self.label.clone(),
            detail: format!(
                "{what}: {server} answered {name}; nothing was changed; this is a bug in ddns-cgi, please report it"
            ),
        };
        match rcode {
            FORMERR => bug("FORMERR (it cannot parse our message)"),
            NOTZONE => bug("NOTZONE (a name outside the zone)"),
            YXDOMAIN | NXDOMAIN => bug("a failed name prerequisite"),
            SERVFAIL => self.failure(format!(
                "{what}: {server} failed (SERVFAIL); see its log (journal, disk, zone file)"
            )),
            NOTIMP => self.failure(format!(
                "{what}: {server} does not do DNS UPDATE (NOTIMP); set server to the zone's primary"
            )),
            REFUSED => BackendError::CredentialsRejected {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {server} refused it (REFUSED): its policy does not let key {key} change this name or type; grant it in BIND's update-policy (e.g. `grant {key} zonesub A AAAA;`, with TXT for ACME challenges) or Knot's acl update-type"
                ),
            },
            NOTAUTH => BackendError::NotServed {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {server} is not authoritative for the zone (NOTAUTH); set server to the zone's primary, or fix zones"
                ),
            },
            other => self.failure(format!(
                "{what}: {server} answered with response code {other}"
            )),
        }
    }

    /// Reads one type at one name.
    fn read(
        &self,
        zone: &str,
        host: &Hostname,
        rtype: u16,
        now: u64,
    ) -> Result<Current, BackendError> {
        let rr_name = if rtype == TYPE_A { "A" } else { "AAAA" };
        let what = format!("reading {rr_name} of {host}");
        let qname = wire::name(host.as_str())
            .map_err(|_| self.failure(format!("{what}: not a DNS name")))?;
        let id = random_id();
        let Answer::Done(m) = self.exchange(wire::query(id, &qname, rtype), now, &what, zone)?
        else {
            return Err(self.failure(format!("{what}: unexpected answer")));
        };
        if !m.authoritative {
            if let Some(ns) = m.authority.iter().find(|r| r.rtype == wire::TYPE_NS) {
                return Ok(Current::Delegated {
                    at: wire::name_text(&ns.owner),
                });
            }
            return Err(BackendError::NotServed {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {} does not answer for zone {zone} with authority; set server to the zone's primary",
                    self.server()
                ),
            });
        }
        let mine: Vec<_> = m.answers.iter().filter(|r| r.owner == qname).collect();
        if mine.iter().any(|r| r.rtype == TYPE_CNAME) {
            return Ok(Current::Alias);
        }
        let mut values = Vec::new();
        let mut ttl = None;
        for r in mine
            .iter()
            .filter(|r| r.rtype == rtype && r.class == CLASS_IN)
        {
            let addr = match (rtype, r.rdata.as_slice()) {
                (TYPE_A, &[a, b, c, d]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                (TYPE_AAAA, bytes) if bytes.len() == 16 => {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(bytes);
                    IpAddr::V6(Ipv6Addr::from(octets))
                }
                _ => return Err(self.failure(format!("{what}: a record of the wrong length"))),
            };
            ttl = Some(ttl.map_or(r.ttl, |t: u32| t.min(r.ttl)));
            if !values.contains(&addr) {
                values.push(addr);
            }
        }
        Ok(Current::Records { values, ttl })
    }

    /// Reads what each operation of `record` concerns and decides it: the steps, or the
    /// outcome that refuses the whole record (no type of a refused host is changed).
    fn decide(
        &self,
        zone: &str,
        record: &RecordChange,
        force: bool,
        now: u64,
    ) -> Result<Result<Vec<Step>, RecordOutcome>, BackendError> {
        let mut steps = Vec::new();
        for op in &record.operations {
            if let Operation::SetPrefix(_) = op {
                return Ok(Err(RecordOutcome::unresolved(op)));
            }
            let (rtype, rr_name) = match op.rr_type().name() {
                "A" => (TYPE_A, "A"),
                _ => (TYPE_AAAA, "AAAA"),
            };
            let (values, ttl) = match self.read(zone, &record.host, rtype, now)? {
                Current::Records { values, ttl } => (values, ttl),
                Current::Alias => match op {
                    Operation::Set(_) | Operation::SetPrefix(_) => {
                        return Ok(Err(RecordOutcome::Alias { rr_type: rr_name }));
                    }
                    Operation::Delete(_) => (Vec::new(), None),
                    Operation::TxtAdd(_) | Operation::TxtRemove(_) | Operation::TxtClear => {
                        return Ok(Err(RecordOutcome::unresolved(op)));
                    }
                },
                Current::Delegated { at } => {
                    return Ok(Err(RecordOutcome::Failed(BackendError::NotServed {
                        registrar: self.label.clone(),
                        detail: format!(
                            "{} lies in {at}, which is delegated to other name servers; nothing is written for it in zone {zone}: configure the server of that zone for it",
                            record.host
                        ),
                    })));
                }
            };
            let action = match op {
                Operation::Delete(_) if values.is_empty() => Action::Nothing,
                Operation::Delete(_) => Action::Remove,
                Operation::SetPrefix(_)
                | Operation::TxtAdd(_)
                | Operation::TxtRemove(_)
                | Operation::TxtClear => return Ok(Err(RecordOutcome::unresolved(op))),
                Operation::Set(addr) => {
                    if values.is_empty() && !self.policy.create_missing {
                        return Ok(Err(RecordOutcome::Missing { rr_type: rr_name }));
                    }
                    if values.len() > 1 && !self.policy.collapse_round_robin {
                        return Ok(Err(RecordOutcome::RoundRobin {
                            rr_type: rr_name,
                            count: values.len(),
                        }));
                    }
                    let wanted = record
                        .ttl
                        .or(self.settings.ttl)
                        .or(ttl)
                        .unwrap_or(CREATED_TTL);
                    if values == [*addr] && ttl == Some(wanted) && !force {
                        Action::Keep { ttl: wanted }
                    } else {
                        Action::Write {
                            addr: *addr,
                            ttl: wanted,
                        }
                    }
                }
            };
            steps.push(Step {
                rtype,
                rr_name,
                current: values,
                action,
            });
        }
        Ok(Ok(steps))
    }

    /// The prerequisites and updates of one host's writing steps.
    fn records_of(host: &[u8], steps: &[Step], prerequisites: &mut Vec<Rr>, updates: &mut Vec<Rr>) {
        for step in steps.iter().filter(|s| s.action.writes()) {
            let rr = |class, ttl, rdata| Rr {
                owner: host.to_vec(),
                rtype: step.rtype,
                class,
                ttl,
                rdata,
            };
            if step.current.is_empty() {
                prerequisites.push(rr(CLASS_NONE, 0, Vec::new()));
            }
            for value in &step.current {
                prerequisites.push(rr(CLASS_IN, 0, address_bytes(*value)));
            }
            updates.push(rr(CLASS_ANY, 0, Vec::new()));
            if let Action::Write { addr, ttl } = step.action {
                updates.push(rr(CLASS_IN, ttl, address_bytes(addr)));
            }
        }
    }

    /// One attempt: read, decide, and send the one UPDATE if anything is to change.
    fn attempt(
        &self,
        change: &ZoneChange,
        now: u64,
        log: &Log,
    ) -> Result<Option<Vec<Plan>>, BackendError> {
        let mut plans = Vec::new();
        let mut prerequisites = Vec::new();
        let mut updates = Vec::new();
        for record in &change.records {
            if record.operations.iter().any(Operation::is_txt) {
                let (plan, rrs) = self.decide_txt(&change.zone, record, now)?;
                updates.extend(rrs);
                plans.push(plan);
                continue;
            }
            let plan = self.decide(&change.zone, record, change.force, now)?;
            if let Ok(steps) = &plan {
                let owner = wire::name(record.host.as_str())
                    .map_err(|_| self.failure(format!("{} is not a DNS name", record.host)))?;
                Self::records_of(&owner, steps, &mut prerequisites, &mut updates);
            }
            plans.push(plan);
        }
        if updates.is_empty() {
            return Ok(Some(plans));
        }
        let zone = wire::name(&change.zone)
            .map_err(|_| self.failure(format!("zone {} is not a DNS name", change.zone)))?;
        let what = format!("updating zone {}", change.zone);
        let message = wire::update(random_id(), &zone, &prerequisites, &updates);
        // The TSIG record adds its own bytes.
        let size = message.len() + tsig::record_len(&self.key);
        match self.exchange(message, now, &what, &change.zone)? {
            Answer::Done(_) => {
                log.debug(format_args!(
                    "{}: {what} at {}: {} prerequisites, {} updates: NOERROR ({size} bytes, sent over {})",
                    self.label,
                    self.server(),
                    prerequisites.len(),
                    updates.len(),
                    self.transport.carrier(size).name()
                ));
                Ok(Some(plans))
            }
            Answer::Stale => {
                log.info(format_args!(
                    "{}: {what}: the records changed since they were read; reading them again",
                    self.label
                ));
                Ok(None)
            }
        }
    }

    /// Probes one zone: a signed SOA query whose answer must be the zone's own SOA.
    fn probe_zone(&self, zone: &str, now: u64) -> Result<u32, BackendError> {
        let what = format!("reading the SOA of {zone}");
        let qname =
            wire::name(zone).map_err(|_| self.failure(format!("{zone} is not a DNS name")))?;
        let Answer::Done(m) = self.exchange(
            wire::query(random_id(), &qname, wire::TYPE_SOA),
            now,
            &what,
            zone,
        )?
        else {
            return Err(self.failure(format!("{what}: unexpected answer")));
        };
        let soa = m
            .answers
            .iter()
            .find(|r| r.rtype == wire::TYPE_SOA && r.owner == qname);
        match soa {
            Some(soa) if m.authoritative => Ok(soa_serial(&soa.rdata).unwrap_or(0)),
            _ => Err(BackendError::NotServed {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {} does not serve zone {zone}; set server to the zone's primary, or fix zones",
                    self.server()
                ),
            }),
        }
    }
}

/// The serial of SOA data, whose names (in our own decode of the whole message they may
/// be compressed) are skipped label by label; a pointer ends a name.
fn soa_serial(rdata: &[u8]) -> Option<u32> {
    let mut pos = 0;
    for _ in 0..2 {
        loop {
            let len = *rdata.get(pos)?;
            if len == 0 {
                pos += 1;
                break;
            }
            if len >= 0xC0 {
                pos += 2;
                break;
            }
            pos += 1 + usize::from(len);
        }
    }
    let b = rdata.get(pos..pos + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn address_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// An rcode's mnemonic, for log lines.
fn rcode_name(rcode: u8) -> String {
    let name = match rcode {
        NOERROR => "NOERROR",
        FORMERR => "FORMERR",
        SERVFAIL => "SERVFAIL",
        NXDOMAIN => "NXDOMAIN",
        NOTIMP => "NOTIMP",
        REFUSED => "REFUSED",
        YXDOMAIN => "YXDOMAIN",
        YXRRSET => "YXRRSET",
        NXRRSET => "NXRRSET",
        NOTAUTH => "NOTAUTH",
        NOTZONE => "NOTZONE",
        other => return other.to_string(),
    };
    name.to_string()
}

/// A message ID nobody off-path can guess.
fn random_id() -> u16 {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 2];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    u16::from_be_bytes(bytes)
}

/// The outcome of one record once its UPDATE (if any) went through.
fn outcome(plan: Plan) -> RecordOutcome {
    let steps = match plan {
        Ok(steps) => steps,
        Err(refused) => return refused,
    };
    let mut previous = PerFamily::default();
    let mut written_ttl = PerFamily::default();
    let mut changed = false;
    for step in steps {
        let values = || step.current.iter().map(ToString::to_string).collect();
        match step.action {
            Action::Keep { ttl } => written_ttl.set(step.rr_name, ttl),
            Action::Write { ttl, .. } => {
                written_ttl.set(step.rr_name, ttl);
                previous.set(step.rr_name, values());
                changed = true;
            }
            Action::Remove => {
                previous.set(step.rr_name, values());
                changed = true;
            }
            Action::Nothing => {}
            Action::Edited => changed = true,
        }
    }
    if changed {
        RecordOutcome::Changed {
            previous,
            written_ttl,
        }
    } else {
        RecordOutcome::Unchanged
    }
}

impl Registrar for Rfc2136 {
    fn label(&self) -> &str {
        &self.label
    }

    fn configured_zones(&self) -> &[String] {
        &self.settings.zones
    }

    fn probe(&self, clock: Clock<'_>, _log: &Log) -> Result<String, BackendError> {
        let mut found = Vec::new();
        for zone in &self.settings.zones {
            let serial = self.probe_zone(zone, crate::core::unix(clock()))?;
            found.push(format!("{zone} (serial {serial})"));
        }
        Ok(format!(
            "key {} accepted by {}; zones {} served",
            self.settings.key_name,
            self.server(),
            found.join(", ")
        ))
    }

    fn discover_zone(
        &self,
        _host: &Hostname,
        _clock: Clock<'_>,
        _log: &Log,
    ) -> Result<Option<String>, BackendError> {
        // zones is required: every name this server may change is routed by it.
        Ok(None)
    }

    fn current(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: RrType,
        clock: Clock<'_>,
        _log: &Log,
    ) -> Result<Vec<String>, BackendError> {
        let now = crate::core::unix(clock());
        let rtype = match rr_type {
            RrType::A => TYPE_A,
            RrType::Aaaa => TYPE_AAAA,
            RrType::Txt => return self.current_txt(zone, record, now),
        };
        Ok(match self.read(zone, &record.host, rtype, now)? {
            Current::Records { values, .. } => values.iter().map(ToString::to_string).collect(),
            // Neither holds an address to take an interface ID from; the write that
            // follows refuses the name with its own words.
            Current::Alias | Current::Delegated { .. } => Vec::new(),
        })
    }

    fn apply(
        &self,
        change: &ZoneChange,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<RecordOutcome>, BackendError> {
        for _ in 0..ATTEMPTS {
            if let Some(plans) = self.attempt(change, crate::core::unix(clock()), log)? {
                return Ok(plans.into_iter().map(outcome).collect());
            }
        }
        Err(BackendError::Rejected {
            registrar: self.label.clone(),
            detail: format!(
                "updating zone {}: the records changed again between our read and our UPDATE (or the names' data comes from a wildcard); nothing was changed; the router will retry",
                change.zone
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::{Duration, SystemTime};

    use super::transport::Protocol;
    use super::tsig::{Algorithm, Signed};
    use super::*;
    use crate::log::Level;
    use crate::secret::Secret;

    const SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    /// How a scripted reply is signed.
    #[derive(Clone, Copy)]
    enum Signing {
        /// With our key, at the request's time plus `offset` seconds, with TSIG `error`.
        Signed { offset: u64, error: u16 },
        /// Not at all.
        Unsigned,
        /// A TSIG record with this error and no MAC, as BADKEY and BADSIG replies are.
        Bare(u16),
    }

    /// One scripted reply: its rcode, the A records it answers and its signature.
    struct Reply {
        rcode: u8,
        addrs: Vec<[u8; 4]>,
        signing: Signing,
    }

    /// A reply signed as a server signs a success.
    fn reply(rcode: u8, addrs: Vec<[u8; 4]>) -> Reply {
        let signing = Signing::Signed {
            offset: 0,
            error: 0,
        };
        Reply {
            rcode,
            addrs,
            signing,
        }
    }

    fn forged(rcode: u8) -> Reply {
        Reply {
            rcode,
            addrs: vec![],
            signing: Signing::Unsigned,
        }
    }

    /// One scripted reply, from the request.
    type Script = Box<dyn Fn(&Message) -> Reply>;

    /// A server played from a script, signing its replies with the key.
    struct Scripted {
        key: Key,
        replies: RefCell<Vec<Script>>,
        /// What the exchange's `settles` said of each reply.
        settled: std::rc::Rc<RefCell<Vec<bool>>>,
    }

    impl Transport for Scripted {
        fn exchange(
            &self,
            message: &[u8],
            settles: &dyn Fn(&[u8]) -> bool,
        ) -> Result<Vec<u8>, Failure> {
            let request = wire::decode(message).unwrap();
            let tsig = request.additional.last().unwrap();
            let data = wire::TsigRdata::read(message, tsig).unwrap();
            let signed = Signed {
                bytes: message.to_vec(),
                mac: data.mac,
                id: request.id,
                time: data.time,
            };
            let script = self.replies.borrow_mut().remove(0);
            let Reply {
                rcode,
                addrs,
                signing,
            } = script(&request);
            let (qname, qtype, _) = request.questions[0].clone();
            let mut reply = wire::query(request.id, &qname, qtype);
            reply[2] = 0x80 | (request.opcode << 3) | 0x04;
            reply[3] = rcode;
            reply[7] = addrs.len() as u8;
            for a in &addrs {
                Rr {
                    owner: qname.clone(),
                    rtype: TYPE_A,
                    class: CLASS_IN,
                    ttl: 300,
                    rdata: a.to_vec(),
                }
                .write(&mut reply);
            }
            let reply = match signing {
                Signing::Signed { offset, error } => {
                    tsig::sign_reply(reply, &self.key, &signed, data.time + offset, error)
                }
                Signing::Unsigned => reply,
                Signing::Bare(error) => {
                    reply[11] += 1;
                    let rdata = wire::TsigRdata {
                        algorithm: wire::name(self.key.algorithm.name()).unwrap(),
                        time: data.time,
                        fudge: tsig::FUDGE,
                        mac: vec![],
                        original_id: request.id,
                        error,
                        other: vec![],
                    };
                    Rr {
                        owner: self.key.name.clone(),
                        rtype: wire::TYPE_TSIG,
                        class: CLASS_ANY,
                        ttl: 0,
                        rdata: rdata.to_bytes(),
                    }
                    .write(&mut reply);
                    reply
                }
            };
            self.settled.borrow_mut().push(settles(&reply));
            Ok(reply)
        }

        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    fn account(replies: Vec<Script>) -> Rfc2136 {
        let settings = Rfc2136Settings {
            server: "192.0.2.53".into(),
            port: 53,
            key_name: "ddns-key".into(),
            key_secret: Secret::new(SECRET),
            key_algorithm: Algorithm::Sha256,
            zones: vec!["example.com".into()],
            ttl: None,
            transport: Protocol::Tcp,
        };
        let scripted = Scripted {
            key: settings.key(),
            replies: RefCell::new(replies),
            settled: Default::default(),
        };
        let policy = EditPolicy {
            create_missing: false,
            collapse_round_robin: false,
            rewrite: false,
        };
        Rfc2136::new("rfc2136".into(), settings, policy, Box::new(scripted))
    }

    fn change() -> ZoneChange {
        ZoneChange {
            zone: "example.com".into(),
            force: false,
            records: vec![RecordChange {
                host: "home.example.com".parse().unwrap(),
                name: "home".into(),
                operations: vec![Operation::Set("84.17.5.9".parse().unwrap())],
                known: PerFamily::default(),
                ttl: None,
            }],
        }
    }

    fn run(replies: Vec<Script>) -> Result<Vec<RecordOutcome>, BackendError> {
        let account = account(replies);
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let clock = || SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        account.apply(&change(), &clock, &log)
    }

    #[test]
    fn a_stale_read_is_read_again_and_the_update_retried_once() {
        let prerequisite = std::rc::Rc::new(RefCell::new(Vec::new()));
        let p = prerequisite.clone();
        let result = run(vec![
            Box::new(|_| reply(NOERROR, vec![[192, 0, 2, 1]])),
            Box::new(|_| reply(NXRRSET, vec![])),
            Box::new(|_| reply(NOERROR, vec![[198, 51, 100, 1]])),
            Box::new(move |m: &Message| {
                p.borrow_mut()
                    .extend(m.answers.iter().map(|r| r.rdata.clone()));
                reply(NOERROR, vec![])
            }),
        ]);
        let outcomes = result.unwrap();
        match &outcomes[0] {
            RecordOutcome::Changed {
                previous,
                written_ttl,
            } => {
                assert_eq!(previous.v4, Some(vec!["198.51.100.1".to_string()]));
                assert_eq!(written_ttl.v4, Some(300));
            }
            other => panic!("{other:?}"),
        }
        // The retry's prerequisite holds what the second read found.
        assert_eq!(*prerequisite.borrow(), vec![vec![198, 51, 100, 1]]);
    }

    #[test]
    fn stale_twice_changes_nothing_and_says_so() {
        let result = run(vec![
            Box::new(|_| reply(NOERROR, vec![])),
            Box::new(|_| reply(YXRRSET, vec![])),
            Box::new(|_| reply(NOERROR, vec![[192, 0, 2, 1]])),
            Box::new(|_| reply(NXRRSET, vec![])),
        ]);
        // create_missing is off: the first read's empty RRset refuses the host at once.
        assert_eq!(
            result.unwrap(),
            vec![RecordOutcome::Missing { rr_type: "A" }]
        );

        let result = run(vec![
            Box::new(|_| reply(NOERROR, vec![[192, 0, 2, 1]])),
            Box::new(|_| reply(NXRRSET, vec![])),
            Box::new(|_| reply(NOERROR, vec![[192, 0, 2, 2]])),
            Box::new(|_| reply(NXRRSET, vec![])),
        ]);
        let error = result.unwrap_err();
        assert!(matches!(error, BackendError::Rejected { .. }));
        assert!(
            error
                .to_string()
                .contains("changed again between our read and our UPDATE")
        );
    }

    /// `change` applied with `replies`; the result, and what `settles` said of each reply.
    fn run_change(
        replies: Vec<Script>,
        change: &ZoneChange,
    ) -> (Result<Vec<RecordOutcome>, BackendError>, Vec<bool>) {
        let settled = std::rc::Rc::new(RefCell::new(Vec::new()));
        let mut account = account(vec![]);
        account.transport = Box::new(Scripted {
            key: account.key.clone(),
            replies: RefCell::new(replies),
            settled: settled.clone(),
        });
        let log = Log::to(Level::Error, Box::new(std::io::sink()));
        let clock = || SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let result = account.apply(change, &clock, &log);
        let said = settled.borrow().clone();
        (result, said)
    }

    /// The error one UPDATE reply makes, after a read that found 192.0.2.1.
    fn update_error(update: Reply) -> (BackendError, Vec<bool>) {
        let update = RefCell::new(Some(update));
        let (result, settled) = run_change(
            vec![
                Box::new(|_| reply(NOERROR, vec![[192, 0, 2, 1]])),
                Box::new(move |_| update.borrow_mut().take().unwrap()),
            ],
            &change(),
        );
        (result.unwrap_err(), settled)
    }

    #[test]
    fn each_update_rcode_has_its_error_and_tells_the_admin_what_to_do() {
        let cases: [(u8, &str, &str); 6] = [
            (
                SERVFAIL,
                "NameServer",
                "updating zone example.com: scripted failed (SERVFAIL); see its log (journal, disk, zone file)",
            ),
            (
                NOTIMP,
                "NameServer",
                "scripted does not do DNS UPDATE (NOTIMP); set server to the zone's primary",
            ),
            (
                FORMERR,
                "Rejected",
                "scripted answered FORMERR (it cannot parse our message); nothing was changed; this is a bug in ddns-cgi",
            ),
            (
                NOTZONE,
                "Rejected",
                "scripted answered NOTZONE (a name outside the zone)",
            ),
            (
                REFUSED,
                "CredentialsRejected",
                "scripted refused it (REFUSED): its policy does not let key ddns-key change this name or type",
            ),
            (
                NOTAUTH,
                "NotServed",
                "scripted is not authoritative for the zone (NOTAUTH)",
            ),
        ];
        for (rcode, variant, text) in cases {
            let (error, settled) = update_error(reply(rcode, vec![]));
            assert!(format!("{error:?}").starts_with(variant), "{error:?}");
            assert!(error.to_string().contains(text), "{rcode}: {error}");
            assert_eq!(settled, [true, true]);
        }
    }

    #[test]
    fn badtime_tells_the_skew_and_badkey_sent_bare_names_the_key() {
        let (error, _) = update_error(Reply {
            signing: Signing::Signed {
                offset: 3600,
                error: tsig::BADTIME,
            },
            ..reply(NOTAUTH, vec![])
        });
        assert!(matches!(error, BackendError::NameServer { .. }));
        assert!(
            error.to_string().contains(
                "scripted refused our signature as BADTIME: this host's clock is 3600 s behind the server's (300 s allowed); fix the time (NTP)"
            ),
            "{error}"
        );
        assert_eq!(
            crate::core::Outcome::of_error(&error),
            crate::core::Outcome::ServerSide
        );

        // Servers send BADKEY and BADSIG unsigned by design (rfc2136-tsig.md §2.4).
        for (code, text) in [
            (
                tsig::BADKEY,
                "(BADKEY: the server knows no key ddns-key with algorithm hmac-sha256",
            ),
            (
                tsig::BADSIG,
                "(BADSIG: key_secret differs from the secret of key ddns-key",
            ),
        ] {
            let (error, settled) = update_error(Reply {
                signing: Signing::Bare(code),
                ..reply(NOTAUTH, vec![])
            });
            assert!(matches!(error, BackendError::CredentialsRejected { .. }));
            assert!(error.to_string().contains(text), "{error}");
            assert_eq!(settled, [true, true]);
        }
    }

    #[test]
    fn an_unverified_reply_never_decides_the_answer() {
        for rcode in [NOTAUTH, REFUSED, NOERROR, NXRRSET, SERVFAIL] {
            let (error, settled) = update_error(forged(rcode));
            assert!(
                matches!(error, BackendError::NameServer { .. }),
                "{rcode}: {error:?}"
            );
            let text = error.to_string();
            assert!(
                text.contains(&format!(
                    "updating zone example.com: unverified reply from scripted (rcode {}): the answer is not signed; it proves nothing",
                    rcode_name(rcode)
                )),
                "{text}"
            );
            assert_eq!(
                text.contains("does not serve zone example.com (Knot answers so unsigned)"),
                rcode == NOTAUTH,
                "{text}"
            );
            // The transport was told this reply settles nothing.
            assert_eq!(settled, [true, false]);
        }
        // A forged read is no answer either, and no reason to call the zone unserved.
        let (result, _) = run_change(vec![Box::new(|_| forged(NOTAUTH))], &change());
        let error = result.unwrap_err();
        assert!(
            matches!(error, BackendError::NameServer { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(
            "reading A of home.example.com: unverified reply from scripted (rcode NOTAUTH)"
        ));
    }

    #[test]
    fn a_read_refused_or_notauth_means_the_server_does_not_serve_the_zone() {
        for (rcode, name) in [(REFUSED, "REFUSED"), (NOTAUTH, "NOTAUTH")] {
            let (result, settled) =
                run_change(vec![Box::new(move |_| reply(rcode, vec![]))], &change());
            let error = result.unwrap_err();
            assert!(matches!(error, BackendError::NotServed { .. }), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!(
                    "rfc2136: scripted does not serve zone example.com; it refused to answer for it ({name}); set server to the zone's primary, or fix zones"
                )
            );
            assert_eq!(settled, [true]);
        }
    }

    #[test]
    fn a_message_too_long_for_dns_is_never_sent() {
        let hosts = 800;
        let mut big = change();
        big.records = (0..hosts)
            .map(|i| RecordChange {
                host: format!("host{i}.example.com").parse().unwrap(),
                name: format!("host{i}"),
                operations: vec![Operation::Set("84.17.5.9".parse().unwrap())],
                known: PerFamily::default(),
                ttl: None,
            })
            .collect();
        // One reply per read, and none for an UPDATE.
        let replies: Vec<Script> = (0..hosts)
            .map(|_| Box::new(|_: &Message| reply(NOERROR, vec![[192, 0, 2, 1]])) as Script)
            .collect();
        let (result, settled) = run_change(replies, &big);
        let error = result.unwrap_err();
        assert!(matches!(error, BackendError::Rejected { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("updating zone example.com: the message would be ")
                && text.contains(
                    " bytes, more than the 65535 a DNS message can carry; nothing was sent"
                ),
            "{text}"
        );
        assert_eq!(settled.len(), hosts, "only the reads were exchanged");
        assert_eq!(
            crate::core::Outcome::of_error(&error),
            crate::core::Outcome::Rejected
        );
    }

    #[test]
    fn an_unsigned_noerror_is_no_success() {
        let acc = account(vec![]);
        let qname = wire::name("home.example.com").unwrap();
        let request = tsig::sign(wire::query(1, &qname, TYPE_A), &acc.key, 100);
        let mut reply = wire::query(1, &qname, TYPE_A);
        reply[2] = 0x84;
        let m = wire::decode(&reply).unwrap();
        let verdict = tsig::verify(&reply, &m, &acc.key, &request, 100);
        assert!(matches!(
            acc.judge(m, &verdict, "reading", "example.com"),
            Err(BackendError::NameServer { .. })
        ));
    }
}
