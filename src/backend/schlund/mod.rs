//! SchlundTech / InterNetX AutoDNS XML gateway (schlund-xml-gateway.md).
//!
//! An update is a whole-zone read-modify-write: task 0205 inquires the zone, task 0202 sends
//! it back with only our values changed. All hosts of one zone in a request share one 0205
//! and at most one 0202; nothing changed → no 0202.

pub mod gateway;
pub mod settings;
pub mod txt;
pub mod xml;
pub mod zone;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::http::Http;
use crate::backend::scrub::Scrub;
use crate::backend::{
    BackendError, Clock, EditPolicy, RecordChange, RecordOutcome, Registrar, ZoneChange,
};
use crate::core::operation::RrType;
use crate::hostname::Hostname;
use crate::log::Log;
use gateway::{Auth, Reply};
use settings::SchlundSettings;
use xml::Element;

/// Candidate zones discovery asks about for one name at most: a name of nine labels. Zones
/// lie at most a few labels below a public suffix and dynamic hosts a few labels inside
/// their zone, so real names have four or five candidates; a longer name only multiplies
/// the gateway calls one request can cause.
const MAX_CANDIDATES: usize = 8;

/// Gateway calls zone discovery may make in one request, each carrying the password and a
/// fresh one-time code. Answers already known cost nothing, so this finds the zones of ten
/// hosts in ten different zones, or of any number of hosts sharing a few.
const DISCOVERY_CALLS: u32 = 20;

/// A SchlundTech account.
pub struct Schlund {
    /// The account's section name: `schlund`, `schlund:work`.
    label: String,
    settings: SchlundSettings,
    policy: EditPolicy,
    http: Http,
    /// Our secrets, kept out of what the gateway says when it is logged.
    scrub: Scrub,
    /// Names already asked about during zone discovery, and whether each is a zone: the
    /// hosts of one request mostly share their zone, and every question is a gateway call.
    zone_answers: RefCell<HashMap<String, bool>>,
    /// Gateway calls zone discovery has made in this request, up to [`DISCOVERY_CALLS`].
    discovery_calls: Cell<u32>,
    /// A zone read for [`Registrar::current`] under its lock, which the update that follows
    /// edits instead of asking again.
    inquired: RefCell<Option<(String, Element)>>,
}

impl Schlund {
    /// An account from its config section.
    pub fn new(
        label: String,
        settings: SchlundSettings,
        policy: EditPolicy,
        http: Http,
        scrub: Scrub,
    ) -> Schlund {
        Schlund {
            label,
            settings,
            policy,
            http,
            scrub,
            zone_answers: RefCell::new(HashMap::new()),
            discovery_calls: Cell::new(0),
            inquired: RefCell::new(None),
        }
    }

    /// The one-time code for `now`, read from the clock passed in. Each code made is a
    /// secret too: a gateway may quote it back.
    fn token(&self, now: SystemTime) -> Option<String> {
        let seed = self.settings.totp_secret.as_ref()?;
        // The seed was validated when the config was loaded.
        let secret = totp_rs::Secret::try_from_base32(seed.expose()).ok()?;
        let totp = totp_rs::Builder::new()
            .with_secret(secret)
            .build_noncompliant();
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let code = totp.generate(secs).to_string();
        self.scrub.add(&code);
        Some(code)
    }

    /// Sends one task and checks the envelope. `Ok` only for `status/type == success`.
    fn call(
        &self,
        task: Element,
        what: &str,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Reply, BackendError> {
        self.send_task(task, what, clock, log, false)
    }

    /// [`Schlund::call`] for a task sent right after an accepted zone inquiry, whose login
    /// is then known to work.
    fn call_after_inquiry(
        &self,
        task: Element,
        what: &str,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Reply, BackendError> {
        self.send_task(task, what, clock, log, true)
    }

    fn send_task(
        &self,
        task: Element,
        what: &str,
        clock: Clock<'_>,
        log: &Log,
        after_inquiry: bool,
    ) -> Result<Reply, BackendError> {
        // Read now, not when the request began: the code must be current when it is sent.
        let now = clock();
        let token = self.token(now);
        let body = gateway::request_document(
            &Auth {
                user: &self.settings.username,
                password: &self.settings.password,
                context: &self.settings.context,
                token,
            },
            task,
        );
        let reply = self.http.send(
            &self.label,
            "POST",
            &self.settings.url,
            &[("Content-Type", "text/xml; charset=utf-8")],
            Some(&body),
        )?;
        if reply.is_redirect() {
            return Err(reply.redirect_error(&self.label, what, &self.scrub));
        }
        if reply.status != 200 {
            return Err(BackendError::BadResponse {
                registrar: self.label.clone(),
                detail: format!("HTTP {} for {what}; the gateway may be down", reply.status),
            });
        }
        let parsed = Reply::parse(&reply.body).map_err(|detail| BackendError::BadResponse {
            registrar: self.label.clone(),
            detail: format!("{} for {what}", self.scrub.show(&detail)),
        })?;
        log.debug(format_args!(
            "{}: {what}: {}",
            self.label,
            parsed.describe(&self.scrub)
        ));
        if parsed.is_success() {
            Ok(parsed)
        } else {
            Err(self.classify(&parsed, what, now, after_inquiry))
        }
    }

    /// The one place gateway errors become [`BackendError`]s (§6): a parser error
    /// (`EF00000`) is our own malformed request; other request-level failures (`E00000`:
    /// login, context, two-factor code) are our credentials; `EF02020` means the zone is
    /// not in the account; anything else refused the task itself.
    fn classify(
        &self,
        reply: &Reply,
        what: &str,
        now: SystemTime,
        after_inquiry: bool,
    ) -> BackendError {
        if reply.has_message("EF02020") {
            let zone = reply
                .messages
                .iter()
                .find(|m| m.code == "EF02020")
                .and_then(|m| m.object.clone())
                .unwrap_or_default();
            return BackendError::ZoneNotFound {
                registrar: self.label.clone(),
                zone: self.scrub.show(zone.trim_start_matches("zone: ")),
            };
        }
        if reply.has_message(gateway::PARSER_ERROR) {
            // The parser's message quotes the request, which holds the password: left out.
            return BackendError::Rejected {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: E00000 / EF00000 \"Parser error.\" [stid {}]; the gateway could not parse our request, which is a ddns-cgi bug: please report it with this line",
                    self.scrub.show(&reply.stid)
                ),
            };
        }
        if reply.has_message("EF00505") {
            return BackendError::CredentialsRejected {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {}; the gateway user lacks the right for this task: give it the rights for zone inquiry (0205) and zone update (0202)",
                    reply.describe(&self.scrub)
                ),
            };
        }
        if reply.code == "E00000" {
            let secs = now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let hint = if after_inquiry && self.settings.totp_secret.is_some() {
                // The login was just accepted; the likely cause is a gateway that takes each
                // one-time code only once (§5). Waiting for the next code could take 30 s,
                // so the router's own retry is left to try again.
                format!(
                    "the zone inquiry just before was accepted, so the gateway may take each one-time code only once (local UTC time {})",
                    utc(secs)
                )
            } else if self.settings.totp_secret.is_some() {
                format!(
                    "check username, password, context and totp_secret in the config, and that this host's clock is right (local UTC time {})",
                    utc(secs)
                )
            } else {
                "check username, password and context in the config (an account with two-factor login also needs totp_secret)".to_string()
            };
            return BackendError::CredentialsRejected {
                registrar: self.label.clone(),
                detail: format!("{what}: {}; {hint}", reply.describe(&self.scrub)),
            };
        }
        BackendError::Rejected {
            registrar: self.label.clone(),
            detail: format!("{what}: {}", reply.describe(&self.scrub)),
        }
    }

    /// Task 0205 as a list query: how many zones match `name` (§7.2).
    fn count_zones(
        &self,
        name: &str,
        operator: &str,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<u64, BackendError> {
        let task = Element::new("task")
            .child_el(Element::with_text("code", "0205"))
            .child_el(
                Element::new("view")
                    .child_el(Element::with_text("children", "1"))
                    .child_el(Element::with_text("limit", "1")),
            )
            .child_el(
                Element::new("where")
                    .child_el(Element::with_text("key", "name"))
                    .child_el(Element::with_text("operator", operator))
                    .child_el(Element::with_text("value", name)),
            );
        let reply = self.call(task, &format!("zone search for {name}"), clock, log)?;
        Ok(reply
            .data
            .as_ref()
            .and_then(|d| d.child_text("summary"))
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0))
    }

    fn inquire(&self, zone: &str, clock: Clock<'_>, log: &Log) -> Result<Element, BackendError> {
        let task = Element::new("task")
            .child_el(Element::with_text("code", "0205"))
            .child_el(Element::new("zone").child_el(Element::with_text("name", zone)));
        let reply = self.call(task, &format!("zone inquiry for {zone}"), clock, log)?;
        reply
            .data
            .and_then(|d| d.child("zone").cloned())
            .ok_or_else(|| BackendError::BadResponse {
                registrar: self.label.clone(),
                detail: format!("zone inquiry for {zone} succeeded but returned no <zone>"),
            })
    }
}

impl Registrar for Schlund {
    fn label(&self) -> &str {
        &self.label
    }

    fn configured_zones(&self) -> &[String] {
        &self.settings.zones
    }

    fn ttl_range(&self) -> std::ops::RangeInclusive<u32> {
        settings::TTL_RANGE
    }

    fn current(
        &self,
        zone: &str,
        record: &RecordChange,
        rr_type: RrType,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<String>, BackendError> {
        let inquired = match self.inquired.take() {
            Some((name, zone_el)) if name == zone => zone_el,
            _ => self.inquire(zone, clock, log)?,
        };
        let values = zone::values(&inquired, &record.name, rr_type.name());
        *self.inquired.borrow_mut() = Some((zone.to_string(), inquired));
        Ok(values)
    }

    fn probe(&self, clock: Clock<'_>, log: &Log) -> Result<String, BackendError> {
        let mut found = Vec::new();
        let names: Vec<&str> = if self.settings.zones.is_empty() {
            vec!["*"]
        } else {
            self.settings.zones.iter().map(String::as_str).collect()
        };
        for name in names {
            let operator = if name == "*" { "like" } else { "eq" };
            let count = self.count_zones(name, operator, clock, log)?;
            if name != "*" && count == 0 {
                return Err(BackendError::ZoneNotFound {
                    registrar: self.label.clone(),
                    zone: name.to_string(),
                });
            }
            found.push(if name == "*" {
                format!("{count} zones visible")
            } else {
                format!("zone {name} found")
            });
        }
        Ok(format!("login accepted; {}", found.join(", ")))
    }

    fn discover_zone(
        &self,
        host: &Hostname,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Option<String>, BackendError> {
        let candidates = host.zone_candidates();
        if candidates.len() > MAX_CANDIDATES {
            log.warn(format_args!(
                "{}: {host} has {} labels, more than zone discovery looks through ({}); set zones to the zone that holds it",
                self.label,
                candidates.len() + 1,
                MAX_CANDIDATES + 1
            ));
            return Ok(None);
        }
        for candidate in candidates {
            let known = self.zone_answers.borrow().get(candidate).copied();
            let is_zone = match known {
                Some(answer) => answer,
                None => {
                    let spent = self.discovery_calls.get();
                    if spent >= DISCOVERY_CALLS {
                        return Err(BackendError::DiscoveryLimit {
                            registrar: self.label.clone(),
                            host: host.to_string(),
                            calls: spent,
                        });
                    }
                    self.discovery_calls.set(spent + 1);
                    let answer = self.count_zones(candidate, "eq", clock, log)? > 0;
                    self.zone_answers
                        .borrow_mut()
                        .insert(candidate.to_string(), answer);
                    answer
                }
            };
            if is_zone {
                log.debug(format_args!(
                    "{}: {host} is in zone {candidate}; set zones = {candidate} to skip this search",
                    self.label
                ));
                return Ok(Some(candidate.to_string()));
            }
        }
        Ok(None)
    }

    fn apply(
        &self,
        change: &ZoneChange,
        clock: Clock<'_>,
        log: &Log,
    ) -> Result<Vec<RecordOutcome>, BackendError> {
        let inquired = match self.inquired.take() {
            Some((name, zone_el)) if name == change.zone => zone_el,
            _ => self.inquire(&change.zone, clock, log)?,
        };
        let mut edited = zone::for_update(&inquired);
        let outcomes: Vec<RecordOutcome> = change
            .records
            .iter()
            .map(|record| {
                let policy = EditPolicy {
                    rewrite: change.force,
                    ..self.policy
                };
                zone::apply(&mut edited, record, policy, self.settings.ttl)
            })
            .map(|outcome| self.scrub.outcome(outcome))
            .collect();
        if !outcomes
            .iter()
            .any(|o| matches!(o, RecordOutcome::Changed { .. }))
        {
            return Ok(outcomes);
        }
        if change
            .records
            .iter()
            .any(|r| r.name.is_empty() && r.v4().is_some())
            && edited.child_text("www_include").as_deref() == Some("1")
        {
            log.info(format_args!(
                "{}: zone {} has www_include = 1, so www.{} follows the new apex address",
                self.label, change.zone, change.zone
            ));
        }
        let task = Element::new("task")
            .child_el(Element::with_text("code", "0202"))
            .child_el(edited);
        self.call_after_inquiry(
            task,
            &format!("zone update for {}", change.zone),
            clock,
            log,
        )?;
        Ok(outcomes)
    }
}

/// `YYYY-MM-DD HH:MM:SS` UTC, for the clock hint in two-factor errors.
fn utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_795_000_000), "2026-11-18 11:06:40");
    }

    #[test]
    fn a_parser_error_is_not_blamed_on_the_credentials() {
        let config = crate::config::Config::parse_str(
            "[default]\nusername = 1234567\npassword = p\n",
            std::path::Path::new("unit.ini"),
        )
        .unwrap();
        let schlund = Schlund::new(
            "schlund".into(),
            config
                .settings_of::<SchlundSettings>("schlund")
                .unwrap()
                .clone(),
            EditPolicy {
                create_missing: false,
                collapse_round_robin: false,
                rewrite: false,
            },
            Http::new(
                &config.general,
                crate::budget::Budget::new(config.general.timeout),
            )
            .unwrap(),
            Scrub::default(),
        );
        let reply = |msg: &str| {
            Reply::parse(&format!(
                "<response><result><data/><status><code>E00000</code><text>Errors occurred during processing.</text><type>error</type></status>{msg}</result><stid>x</stid></response>"
            ))
            .unwrap()
        };
        // The parser's message quotes our request, password included.
        let parser = reply(
            "<msg><code>EF00000</code><text>Parser error.</text><type>error</type><object><type>XML parser</type><value>The reference to entity \"s3cretpart\" must end with the ';' delimiter.</value></object></msg>",
        );
        let error = schlund.classify(&parser, "zone inquiry for example.com", UNIX_EPOCH, false);
        assert!(matches!(error, BackendError::Rejected { .. }), "{error:?}");
        assert!(
            error.to_string().contains("could not parse our request"),
            "{error}"
        );
        assert!(!error.to_string().contains("s3cretpart"), "{error}");
        let login = reply(
            "<msg><code>EF09901</code><text>User does not exist or password incorrect</text><type>error</type></msg>",
        );
        let error = schlund.classify(&login, "zone inquiry for example.com", UNIX_EPOCH, false);
        assert!(
            matches!(error, BackendError::CredentialsRejected { .. }),
            "{error:?}"
        );
    }
}
