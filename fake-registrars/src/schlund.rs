//! A strict fake of the SchlundTech XML gateway (InterNetX AutoDNS XML API), written from
//! `shared/spec/schlund-xml-gateway.md` and its §13 checklist.
//!
//! It serves `POST /` on 127.0.0.1, answers one XML document per request exactly as the
//! gateway does (one line, `standalone="no"`, HTTP 200 also for errors), authenticates users
//! with optional TOTP, and implements zone inquire (0205, by name or as a list), full zone
//! update (0202) and bulk update (0202001) on zones it holds as ordered element trees. It
//! rejects what the real gateway rejects, so a client that passes against it has the details
//! right, and it records every request (secrets redacted) for assertions.
//!
//! ```no_run
//! use fake_registrars::schlund::{FakeSchlund, SchlundUser, FIXTURE_ZONE};
//!
//! let fake = FakeSchlund::start(
//!     vec![SchlundUser::new("1234567", "s3cret&pass", "10")],
//!     &[FIXTURE_ZONE],
//! );
//! // Point the client at fake.url(), run it, then:
//! let zone = fake.zone("example.co.uk").unwrap();
//! assert_eq!(zone.rr("home", "A")[0].value, "198.51.100.7");
//! ```

mod gateway;
mod shapes;
mod xml;
mod zone;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::server::{HttpServer, Incoming, Reply, delay};
use gateway::{Options, Store};

pub use zone::{FIXTURE_ZONE, Rr, StoredZone, fixture_zone_named};

/// A gateway account: credentials, optional 2FA and the per-task rights of spec §12.9.
#[derive(Clone, PartialEq, Eq)]
pub struct SchlundUser {
    /// `auth/user`.
    pub user: String,
    /// `auth/password`.
    pub password: String,
    /// `auth/context`, an integer as text (SchlundTech: `10`).
    pub context: String,
    /// Base32 TOTP secret; when set, every request must carry a current `auth/token`, and
    /// when unset, a request carrying any token is refused (spec §5).
    pub totp_secret: Option<String>,
    /// May run 0205 (zone inquire and list).
    pub can_inquire: bool,
    /// May run 0202 (full zone update).
    pub can_update: bool,
    /// May run 0202001 (bulk record update).
    pub can_bulk_update: bool,
}

impl SchlundUser {
    /// A user with every right and no 2FA.
    pub fn new(user: &str, password: &str, context: &str) -> Self {
        SchlundUser {
            user: user.to_string(),
            password: password.to_string(),
            context: context.to_string(),
            totp_secret: None,
            can_inquire: true,
            can_update: true,
            can_bulk_update: true,
        }
    }

    /// The same user with 2FA enabled for this base32 secret.
    pub fn with_totp(mut self, base32: &str) -> Self {
        self.totp_secret = Some(base32.to_string());
        self
    }
}

/// Secrets are never printed, so a failing assertion cannot leak them into a log.
impl fmt::Debug for SchlundUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchlundUser")
            .field("user", &self.user)
            .field("password", &"***")
            .field("context", &self.context)
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| "***"))
            .field("can_inquire", &self.can_inquire)
            .field("can_update", &self.can_update)
            .field("can_bulk_update", &self.can_bulk_update)
            .finish()
    }
}

/// A failure to inject, so tests can check how the client copes with a broken gateway.
///
/// The transport faults (`Http500Html`, `TruncatedXml`, `NotXml`, `DeepNesting`, `Wide`, `Redirect`) record the
/// request but do not apply it: no zone changes and no TOTP code is used up; its
/// `status_code` is empty. `EchoRequest` and `RefuseSaying` do not apply it either; their
/// `status_code` is `E00000`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SchlundFault {
    /// Normal operation.
    #[default]
    None,
    /// HTTP 500 with an HTML error page, as a broken front proxy would send.
    Http500Html,
    /// HTTP 200 with the first part of the answer document only.
    TruncatedXml,
    /// HTTP 200 with a plain-text body.
    NotXml,
    /// Waits this long, then answers normally (for client timeouts).
    Hang(Duration),
    /// Inquiries are answered normally; an update (0202, 0202001) waits this long and is
    /// then answered 504 without being applied, like a front proxy giving up on a stuck
    /// back end (for a timeout between a good 0205 and its 0202).
    HangUpdates(Duration),
    /// 0202 and 0202001 answer the real `E0202002` "zone could not be updated on the name
    /// server" (spec §6); the zone stays unchanged.
    UpdateFailsE0202002,
    /// 0202 and 0202001 answer `E0202` with `EF09904`; the zone stays unchanged.
    UpdateRejectedEF09904,
    /// HTTP 200 with the answer the request would get, plus elements nested `depth` deep at
    /// `place`: well-formed, but far deeper than any gateway answer.
    DeepNesting {
        /// Where the nested elements go.
        place: Nesting,
        /// How many levels.
        depth: usize,
    },
    /// HTTP 200 with the answer the request would get, plus `count` empty elements side by
    /// side in `<result><data>`: well-formed and shallow, but more elements than any zone.
    Wide {
        /// How many.
        count: usize,
    },
    /// Every request is refused (`E00000`) with messages quoting the request as it arrived,
    /// password and token included: whole in an object value, percent-encoded, and as a JSON
    /// string.
    EchoRequest,
    /// Every request is refused (`E00000`) with one `EF01000` message of exactly this text,
    /// control characters and all.
    RefuseSaying(String),
    /// Every request is answered with this (3xx) status and `Location`, as a moved or
    /// hijacked endpoint would answer.
    Redirect {
        /// The HTTP status, e.g. 307.
        status: u16,
        /// The `Location` header's value.
        location: String,
    },
}

/// Where [`SchlundFault::DeepNesting`] puts its elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// `<a>` inside `<a>`, first in `<response>`.
    Response,
    /// `<a>` inside `<a>`, first in `<result><data>` (a `<data>` is added if the answer has
    /// none).
    Data,
    /// `<msg>` inside `<msg>`, first in `<result>`, as nested messages are sent.
    Msg,
}

/// One request as the fake saw it, without password or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRequest {
    /// `task/code`: `"0205"`, `"0202"`, `"0202001"`, or `""` if the body was not readable.
    pub task_code: String,
    /// `task/zone/name`; for a list query the `where/value`.
    pub zone_name: Option<String>,
    /// A 0205 with `<where>` (zone discovery, spec §7.2).
    pub is_list_query: bool,
    /// `auth/user`, or `""`.
    pub user: String,
    /// Whether `auth/token` was present.
    pub had_token: bool,
    /// `language`, if sent.
    pub language: Option<String>,
    /// `status/code` of the answer, e.g. `"S0205"`, `"E0205"`, `"E00000"`; empty when a
    /// transport fault replaced the answer.
    pub status_code: String,
    /// The request body with the contents of `<password>` and `<token>` replaced by `***`.
    pub body_redacted: String,
}

/// The TOTP code for a base32 secret at a Unix time, as a client must send it (6 digits,
/// leading zeros kept).
///
/// # Panics
///
/// If the secret is not valid base32.
pub fn totp_code(base32: &str, unix_secs: u64) -> String {
    gateway::totp(base32)
        .unwrap_or_else(|| panic!("TOTP secret is not base32"))
        .generate(unix_secs)
        .to_string()
}

struct State {
    store: Store,
    requests: Vec<GatewayRequest>,
    latency: Duration,
    fault: SchlundFault,
    strict_single_use: bool,
    clock_offset: i64,
}

struct Shared {
    users: Vec<SchlundUser>,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the fake down with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The running fake gateway. Dropping it stops the server.
pub struct FakeSchlund {
    server: HttpServer,
    shared: Arc<Shared>,
}

impl FakeSchlund {
    /// Starts on a free port with these users and zones (`<zone>…</zone>` texts such as
    /// [`FIXTURE_ZONE`]).
    ///
    /// # Panics
    ///
    /// If a zone or TOTP secret is invalid or no port can be bound.
    pub fn start(users: Vec<SchlundUser>, zones: &[&str]) -> FakeSchlund {
        FakeSchlund::start_on(0, users, zones)
            .unwrap_or_else(|e| panic!("cannot start the fake SchlundTech gateway: {e}"))
    }

    /// Starts on a given port (0 = any), for the demo stack that needs a fixed one.
    ///
    /// Fails with `InvalidInput` for a zone that is not a well-formed `<zone>` with a name,
    /// or a TOTP secret that is not base32.
    pub fn start_on(
        port: u16,
        users: Vec<SchlundUser>,
        zones: &[&str],
    ) -> std::io::Result<FakeSchlund> {
        let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
        let zones = zones
            .iter()
            .map(|xml| StoredZone::parse(xml).map_err(|e| invalid(format!("zone: {e}"))))
            .collect::<std::io::Result<Vec<_>>>()?;
        if let Some(user) = users.iter().find(|u| {
            u.totp_secret
                .as_deref()
                .is_some_and(|s| gateway::totp(s).is_none())
        }) {
            return Err(invalid(format!(
                "TOTP secret of user {} is not base32",
                user.user
            )));
        }
        let shared = Arc::new(Shared {
            users,
            state: Mutex::new(State {
                store: Store {
                    zones,
                    ..Store::default()
                },
                requests: Vec::new(),
                latency: Duration::ZERO,
                fault: SchlundFault::None,
                strict_single_use: false,
                clock_offset: 0,
            }),
        });
        let handler_state = Arc::clone(&shared);
        let server = HttpServer::start(port, move |incoming| handle(&handler_state, incoming))?;
        Ok(FakeSchlund { server, shared })
    }

    /// `http://127.0.0.1:PORT/`, the gateway URL to configure in a client.
    pub fn url(&self) -> String {
        format!("{}/", self.server.base_url())
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// A snapshot of the stored zone with that name (the first, if several share it).
    pub fn zone(&self, name: &str) -> Option<StoredZone> {
        self.shared
            .lock()
            .store
            .zones
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(name))
            .cloned()
    }

    /// A snapshot of the zone with that name on that primary name server.
    pub fn zone_on(&self, name: &str, system_ns: &str) -> Option<StoredZone> {
        self.shared
            .lock()
            .store
            .zones
            .iter()
            .find(|z| {
                z.name().eq_ignore_ascii_case(name) && z.system_ns().as_deref() == Some(system_ns)
            })
            .cloned()
    }

    /// Snapshots of every stored zone, in order.
    pub fn zones(&self) -> Vec<StoredZone> {
        self.shared.lock().store.zones.clone()
    }

    /// Stores a zone, replacing the one with the same name and `system_ns`, to model an edit
    /// made elsewhere (web interface, another client) between a client's requests.
    ///
    /// # Panics
    ///
    /// If `zone_xml` is not a well-formed `<zone>` with a name.
    pub fn put_zone(&self, zone_xml: &str) {
        let zone =
            StoredZone::parse(zone_xml).unwrap_or_else(|e| panic!("put_zone: invalid zone: {e}"));
        let mut state = self.shared.lock();
        let zones = &mut state.store.zones;
        match zones.iter_mut().find(|z| {
            z.name().eq_ignore_ascii_case(&zone.name()) && z.system_ns() == zone.system_ns()
        }) {
            Some(existing) => *existing = zone,
            None => zones.push(zone),
        }
    }

    /// Every `POST /` so far, in arrival order (requests refused with 404/405 are not
    /// gateway requests and are not recorded).
    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Delay before each request is handled. Requests run on their own threads and the
    /// delay holds no lock, so concurrent requests overlap as they would at the registrar.
    pub fn set_latency(&self, d: Duration) {
        self.shared.lock().latency = d;
    }

    /// Injects a failure for all following requests, until set back to [`SchlundFault::None`].
    pub fn set_fault(&self, f: SchlundFault) {
        self.shared.lock().fault = f;
    }

    /// When on, a TOTP code (its time step) accepted once for a user is refused afterwards
    /// with `EF09903`; the real gateway's behaviour is unknown (spec §5).
    pub fn set_strict_single_use(&self, on: bool) {
        self.shared.lock().strict_single_use = on;
    }

    /// Shifts the fake's clock for TOTP checks by this many seconds, to test clock skew.
    pub fn set_clock_offset(&self, secs: i64) {
        self.shared.lock().clock_offset = secs;
    }

    /// The Unix time the fake checks TOTP codes against (wall clock plus the offset).
    pub fn totp_time(&self) -> u64 {
        let offset = self.shared.lock().clock_offset;
        unix_now().saturating_add_signed(offset)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn handle(shared: &Shared, incoming: Incoming) -> Reply {
    // Only `POST /` is the gateway (spec §13); anything else gets a bare HTTP error.
    if incoming.path() != "/" {
        return Reply::new(404, "text/plain; charset=utf-8", "Not Found\n");
    }
    if incoming.method != "POST" {
        return Reply::new(405, "text/plain; charset=utf-8", "Method Not Allowed\n")
            .with_header("Allow", "POST");
    }
    let (latency, fault) = {
        let state = shared.lock();
        (state.latency, state.fault.clone())
    };
    delay(latency);
    if let SchlundFault::Hang(d) = fault {
        delay(d);
    }

    let mut state = shared.lock();
    let now = unix_now();
    let options = Options {
        users: &shared.users,
        fault: &fault,
        strict_single_use: state.strict_single_use,
        totp_now: now.saturating_add_signed(state.clock_offset),
        now,
    };
    let stuck_update = match fault {
        SchlundFault::HangUpdates(d) => {
            let mut scratch = state.store.clone();
            let (_, record) = gateway::process(&mut scratch, &options, &incoming.body);
            record.task_code.starts_with("0202").then_some(d)
        }
        _ => None,
    };
    let transport_fault = stuck_update.is_some()
        || matches!(
            fault,
            SchlundFault::Http500Html
                | SchlundFault::TruncatedXml
                | SchlundFault::NotXml
                | SchlundFault::DeepNesting { .. }
                | SchlundFault::Wide { .. }
                | SchlundFault::EchoRequest
                | SchlundFault::RefuseSaying(_)
                | SchlundFault::Redirect { .. }
        );
    let (body, mut record) = if transport_fault {
        // Worked out on a copy, so nothing is applied, and then thrown away.
        let mut scratch = state.store.clone();
        let answer = gateway::process(&mut scratch, &options, &incoming.body);
        state.store.stid_counter = scratch.stid_counter;
        answer
    } else {
        gateway::process(&mut state.store, &options, &incoming.body)
    };
    if transport_fault {
        record.status_code = match fault {
            SchlundFault::EchoRequest | SchlundFault::RefuseSaying(_) => "E00000".to_string(),
            _ => String::new(),
        };
    }
    state.requests.push(record);
    drop(state);
    if let Some(d) = stuck_update {
        delay(d);
        return Reply::new(
            504,
            "text/html; charset=iso-8859-1",
            "<html><head><title>504 Gateway Time-out</title></head><body><h1>Gateway Time-out</h1></body></html>\n",
        );
    }

    answer_with(fault, body, &incoming.body)
}

/// What is sent for the answer document `body` of `request` under a fault.
fn answer_with(fault: SchlundFault, body: String, request: &str) -> Reply {
    let xml = |body: String| Reply::new(200, "text/xml;charset=UTF-8", body);
    match fault {
        SchlundFault::Http500Html => Reply::new(
            500,
            "text/html; charset=iso-8859-1",
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n\
             <title>500 Internal Server Error</title>\n</head><body>\n\
             <h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n\
             </body></html>\n",
        ),
        SchlundFault::NotXml => Reply::new(
            200,
            "text/plain; charset=utf-8",
            "Service temporarily unavailable, please try again later.\n",
        ),
        SchlundFault::TruncatedXml => {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            xml(body[..cut].to_string())
        }
        SchlundFault::DeepNesting { place, depth } => xml(shapes::nest(&body, place, depth)),
        SchlundFault::Wide { count } => xml(shapes::widen(&body, count)),
        SchlundFault::EchoRequest => xml(shapes::echo(request, shapes::stid_of(&body))),
        SchlundFault::Redirect { status, location } => Reply::new(
            status,
            "text/html; charset=iso-8859-1",
            format!("<html><body><p>The document has moved <a href=\"{location}\">here</a>.</p></body></html>\n"),
        )
        .with_header("Location", &location),
        SchlundFault::RefuseSaying(text) => {
            xml(shapes::refusal_saying(&text, shapes::stid_of(&body)))
        }
        _ => xml(body),
    }
}
