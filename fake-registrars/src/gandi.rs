//! A strict fake of the Gandi LiveDNS v5 REST API (`shared/spec/gandi-livedns.md`), served over
//! real HTTP on 127.0.0.1.
//!
//! It follows the §8 checklist: only `/v5/livedns/...` exists, only `Authorization: Bearer <PAT>`
//! or `Authorization: Apikey <key>` is accepted, writes need `Content-Type: application/json`,
//! rrsets are validated as the real API validates them (TTL 300..=2592000, IPv4 for A, IPv6 for
//! AAAA, a non-empty array of values) and a PUT without `rrset_ttl` resets the TTL to 10800 (§4
//! rule 2). Every request is recorded, without its secret, so tests can assert exactly what a
//! client sent and that nothing else was written. [`GandiFault`] makes the edge misbehave.
//!
//! Links the real API points at `https://api.gandi.net/v5/livedns` (`rrset_href`, `location`,
//! `Link`) point at the fake's own [`FakeGandi::base_url`] instead, so a client can follow them.

mod api;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::server::{HttpServer, Incoming, Reply};

/// TTL the real API stores when a write carries no `rrset_ttl` (§4 rule 2), even over an
/// existing TTL: the reset hazard a client must avoid by always sending the TTL.
pub const DEFAULT_TTL: u32 = 10_800;
/// Smallest TTL the API accepts (§4); 60 is answered with a 400.
pub const MIN_TTL: u32 = 300;
/// Largest TTL the API accepts (§4): 30 days.
pub const MAX_TTL: u32 = 2_592_000;
/// Page size of `GET /domains` and `GET .../records` when `per_page` is not given. The real
/// default is not documented (§5.1); clients should always ask for a size.
pub const DEFAULT_PER_PAGE: usize = 100;

/// One rrset: every record of one name and one type, the unit the API reads and replaces
/// (§4). Names are relative to the zone (`@` is the apex), lower-case; types are upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrset {
    /// `rrset_name`: relative name, `@` for the apex, e.g. `home` or `a.b`.
    pub name: String,
    /// `rrset_type`: `A`, `AAAA`, `TXT`, ...
    pub rr_type: String,
    /// `rrset_ttl` in seconds.
    pub ttl: u32,
    /// `rrset_values`: one presentation-format string per record (TXT values quoted).
    pub values: Vec<String>,
}

impl Rrset {
    /// Builds an rrset with the name lower-cased and the type upper-cased, as the fake stores
    /// them; values are kept as given (quote TXT values yourself, as the API returns them).
    pub fn new(name: &str, rr_type: &str, ttl: u32, values: &[&str]) -> Self {
        Rrset {
            name: name.to_ascii_lowercase(),
            rr_type: rr_type.to_ascii_uppercase(),
            ttl,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }
}

/// Misbehaviour of the edge or the application, to test how a client survives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GandiFault {
    /// Behave normally.
    #[default]
    None,
    /// Answer every request `429` with the generic body (§3 rate limit); nothing is handled.
    Status429,
    /// Answer every request `500` with an HTML page as `text/html`, as a proxy in front of the
    /// API does (§3); nothing is handled.
    Status500Html,
    /// Answer every request `200` with a body that is not JSON although the `Content-Type`
    /// claims it is; nothing is handled or stored.
    NotJson,
    /// Handle the request normally (a write IS stored), then cut the JSON body in half, as when
    /// the connection breaks after the server acted. Empty bodies (204) stay empty.
    TruncatedJson,
    /// Sleep this long, then handle the request normally: a client that gave up meanwhile
    /// still gets its write applied, as with a slow real server.
    Hang(Duration),
    /// Answer PUT, POST, PATCH and DELETE with this status and the generic body (§6.1);
    /// nothing is stored. Reads are handled normally.
    FailWrites(u16),
    /// Answer every request with this status and the generic body, its `message` quoting the
    /// `Authorization` header as received, as sent and percent-encoded; nothing is handled.
    EchoCredential(u16),
    /// Answer every request with this status and the generic body, its `message` exactly this
    /// text, control characters and all; nothing is handled.
    Saying(u16, String),
    /// Answer every request with this (3xx) status and this `Location`; nothing is handled.
    Redirect(u16, String),
}

/// One request as the fake received it, for assertions on what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query exactly as sent, e.g. `/v5/livedns/domains/example.com/records/%40/A`.
    pub path: String,
    /// Scheme word of the `Authorization` header (`Bearer`, `Apikey`, ...), `(malformed)` when
    /// it does not look like one, `None` without the header. Never the secret.
    pub auth_scheme: Option<String>,
    /// The `Content-Type` header as sent.
    pub content_type: Option<String>,
    /// The body as sent.
    pub body: String,
    /// The status the fake answered; 0 while the request is still being answered.
    pub status: u16,
    /// All headers as sent, except that the secret in `Authorization` and `X-Api-Key` is
    /// replaced by `***`; lets tests check `Accept`, `User-Agent` and the like.
    pub headers: Vec<(String, String)>,
}

/// The zone fixture of the spec (§5.3) plus the records the ddns-cgi tests need: `home` with
/// A and AAAA, a multi-label name `a.b`, and a round-robin `rr` with two A values.
pub fn fixture_zone() -> (&'static str, Vec<Rrset>) {
    (
        "example.com",
        vec![
            Rrset::new("@", "A", 600, &["203.0.113.10"]),
            Rrset::new(
                "@",
                "MX",
                10_800,
                &["10 spool.mail.gandi.net.", "50 fb.mail.gandi.net."],
            ),
            Rrset::new(
                "@",
                "TXT",
                10_800,
                &["\"v=spf1 include:_mailcust.gandi.net ?all\""],
            ),
            Rrset::new("www", "CNAME", 10_800, &["webredir.vip.gandi.net."]),
            Rrset::new("home", "A", 300, &["198.51.100.7"]),
            Rrset::new("home", "AAAA", 300, &["2001:db8:85a3::8a2e:370:7334"]),
            Rrset::new("a.b", "A", 300, &["198.51.100.8"]),
            Rrset::new("rr", "A", 300, &["198.51.100.20", "198.51.100.21"]),
        ],
    )
}

/// A running fake LiveDNS server on 127.0.0.1. Stops when dropped.
pub struct FakeGandi {
    server: HttpServer,
    shared: Arc<Shared>,
}

/// Rrsets of one zone keyed by (lower-case name, upper-case type).
type Zone = BTreeMap<(String, String), Rrset>;

/// Everything the request threads share.
struct Shared {
    state: Mutex<State>,
    log: Mutex<RequestLog>,
    /// `http://127.0.0.1:PORT/v5/livedns`, known once the socket is bound.
    base: OnceLock<String>,
}

/// Credentials, zones and switches.
#[derive(Default)]
struct State {
    tokens: BTreeSet<String>,
    expired_tokens: BTreeSet<String>,
    api_keys: BTreeSet<String>,
    /// PAT → the only zones it may see.
    scopes: BTreeMap<String, BTreeSet<String>>,
    zones: BTreeMap<String, Zone>,
    latency: Duration,
    fault: GandiFault,
    /// Largest page served, whatever `per_page` asks for; the real limit is unknown (§5.1).
    max_per_page: Option<usize>,
}

/// Requests in arrival order; each carries a sequence number so its status can be filled in
/// when the answer is ready, even after other requests arrived.
#[derive(Default)]
struct RequestLog {
    next: u64,
    entries: Vec<(u64, ApiRequest)>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the fake's state from the other assertions.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL for links in answers; falls back on the `Host` header for a request that
    /// raced the bind.
    fn base(&self, req: &Incoming) -> String {
        match self.base.get() {
            Some(base) => base.clone(),
            None => format!(
                "http://{}/v5/livedns",
                req.header("Host").unwrap_or("127.0.0.1")
            ),
        }
    }

    fn record_arrival(&self, req: &Incoming) -> u64 {
        let entry = ApiRequest {
            method: req.method.clone(),
            path: req.url.clone(),
            auth_scheme: req.header("Authorization").map(auth_scheme),
            content_type: req.header("Content-Type").map(str::to_string),
            body: req.body.clone(),
            status: 0,
            headers: req
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), redact(name, value)))
                .collect(),
        };
        let mut log = self.log();
        let seq = log.next;
        log.next += 1;
        log.entries.push((seq, entry));
        seq
    }

    fn record_status(&self, seq: u64, status: u16) {
        let mut log = self.log();
        // Absent when the log was cleared while the request was being answered.
        if let Some((_, entry)) = log.entries.iter_mut().rev().find(|(s, _)| *s == seq) {
            entry.status = status;
        }
    }

    /// The whole request path: record, delay, fault, API.
    fn serve(&self, req: Incoming) -> Reply {
        let seq = self.record_arrival(&req);
        let (latency, fault) = {
            let state = self.state();
            (state.latency, state.fault.clone())
        };
        crate::server::delay(latency);
        let reply = match fault {
            GandiFault::None => api::handle(self, &req),
            GandiFault::Status429 => api::generic_error(429),
            GandiFault::Status500Html => Reply::new(
                500,
                "text/html",
                "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\
                 <body><h1>Internal Server Error</h1><p>The server encountered an internal \
                 error.</p></body></html>\n",
            ),
            GandiFault::NotJson => Reply::new(
                200,
                api::SUCCESS_CONTENT_TYPE,
                "<html><body>Service temporarily unavailable</body></html>",
            ),
            GandiFault::TruncatedJson => {
                let mut reply = api::handle(self, &req);
                let cut = reply.body.len() / 2;
                let cut = (0..=cut)
                    .rev()
                    .find(|&i| reply.body.is_char_boundary(i))
                    .unwrap_or(0);
                reply.body.truncate(cut);
                reply
            }
            GandiFault::Hang(pause) => {
                crate::server::delay(pause);
                api::handle(self, &req)
            }
            GandiFault::EchoCredential(status) => {
                let header = req.header("Authorization").unwrap_or("");
                let encoded = percent_encoding::utf8_percent_encode(
                    header,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                api::error_saying(
                    status,
                    &format!("Authorization header {header} (as received: {encoded}) refused"),
                )
            }
            GandiFault::Saying(status, text) => api::error_saying(status, &text),
            GandiFault::Redirect(status, location) => {
                Reply::new(status, "text/html", "<html><body>Moved</body></html>\n")
                    .with_header("Location", &location)
            }
            GandiFault::FailWrites(status) => {
                if matches!(req.method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE") {
                    api::generic_error(status)
                } else {
                    api::handle(self, &req)
                }
            }
        };
        self.record_status(seq, reply.status);
        reply
    }
}

/// The scheme word of an `Authorization` value, never the credential itself.
fn auth_scheme(value: &str) -> String {
    let word = match value.split_once(' ') {
        Some((scheme, _)) => scheme,
        None if ["bearer", "apikey", "basic"].contains(&value.to_ascii_lowercase().as_str()) => {
            value
        }
        None => "",
    };
    if !word.is_empty() && word.len() <= 16 && word.bytes().all(|b| b.is_ascii_alphabetic()) {
        word.to_string()
    } else {
        "(malformed)".to_string()
    }
}

/// A header value fit for the request log.
fn redact(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("Authorization") {
        format!("{} ***", auth_scheme(value))
    } else if name.eq_ignore_ascii_case("X-Api-Key") {
        "***".to_string()
    } else {
        value.to_string()
    }
}

impl FakeGandi {
    /// Starts the fake on a port the OS picks, accepting the given bearer PATs and serving the
    /// given zones. Panics if 127.0.0.1 cannot be bound, which no test can recover from.
    pub fn start(tokens: &[&str], zones: Vec<(&str, Vec<Rrset>)>) -> FakeGandi {
        match FakeGandi::start_on(0, tokens, zones) {
            Ok(fake) => fake,
            Err(e) => panic!("cannot bind the fake Gandi server on 127.0.0.1: {e}"),
        }
    }

    /// Like [`FakeGandi::start`] on a chosen port, for the demo stack where the port is
    /// configured ahead of time.
    pub fn start_on(
        port: u16,
        tokens: &[&str],
        zones: Vec<(&str, Vec<Rrset>)>,
    ) -> std::io::Result<FakeGandi> {
        let mut state = State {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            ..State::default()
        };
        for (fqdn, rrsets) in zones {
            state
                .zones
                .insert(fqdn.to_ascii_lowercase(), zone_of(rrsets));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            log: Mutex::new(RequestLog::default()),
            base: OnceLock::new(),
        });
        if port != 0 {
            let _ = shared.base.set(base_for(port));
        }
        let serving = Arc::clone(&shared);
        let server = HttpServer::start(port, move |req| serving.serve(req))?;
        let _ = shared.base.set(base_for(server.port()));
        Ok(FakeGandi { server, shared })
    }

    /// `http://127.0.0.1:PORT/v5/livedns`: what a client's base-URL setting must be.
    pub fn base_url(&self) -> String {
        base_for(self.server.port())
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Accepts one more bearer PAT.
    pub fn add_token(&self, token: &str) {
        self.shared.state().tokens.insert(token.to_string());
    }

    /// Makes a PAT known but expired: `Bearer <token>` is answered 403 HTTPForbidden (§2),
    /// even if the token was also added as valid.
    pub fn add_expired_token(&self, token: &str) {
        self.shared.state().expired_tokens.insert(token.to_string());
    }

    /// Accepts a legacy key as `Authorization: Apikey <key>` (§2: deprecated, still honoured).
    pub fn add_api_key(&self, key: &str) {
        self.shared.state().api_keys.insert(key.to_string());
    }

    /// Restricts a PAT to some zones (and makes it valid if it was not): any other zone,
    /// existing or not, is answered 403, and `GET /domains` lists only these.
    pub fn restrict_token(&self, token: &str, zones: &[&str]) {
        let mut state = self.shared.state();
        state.tokens.insert(token.to_string());
        state.scopes.insert(
            token.to_string(),
            zones.iter().map(|z| z.to_ascii_lowercase()).collect(),
        );
    }

    /// Adds a zone, replacing any zone of that name.
    pub fn add_zone(&self, fqdn: &str, rrsets: Vec<Rrset>) {
        self.shared
            .state()
            .zones
            .insert(fqdn.to_ascii_lowercase(), zone_of(rrsets));
    }

    /// Creates or replaces an rrset behind the API's back, e.g. to play an admin editing the
    /// zone in the web UI between a client's read and write. Returns false if the zone does
    /// not exist.
    pub fn put_rrset(&self, zone: &str, rrset: Rrset) -> bool {
        let rrset = normalized(rrset);
        match self
            .shared
            .state()
            .zones
            .get_mut(&zone.to_ascii_lowercase())
        {
            Some(records) => {
                records.insert((rrset.name.clone(), rrset.rr_type.clone()), rrset);
                true
            }
            None => false,
        }
    }

    /// Removes an rrset behind the API's back; returns it if it existed.
    pub fn remove_rrset(&self, zone: &str, name: &str, rr_type: &str) -> Option<Rrset> {
        self.shared
            .state()
            .zones
            .get_mut(&zone.to_ascii_lowercase())?
            .remove(&key(name, rr_type))
    }

    /// The stored rrset, looked up as the API does (name case-insensitive, type upper-cased).
    pub fn rrset(&self, zone: &str, name: &str, rr_type: &str) -> Option<Rrset> {
        self.shared
            .state()
            .zones
            .get(&zone.to_ascii_lowercase())?
            .get(&key(name, rr_type))
            .cloned()
    }

    /// Every rrset of a zone, sorted by (name, type); empty for an unknown zone.
    pub fn rrsets(&self, zone: &str) -> Vec<Rrset> {
        self.shared
            .state()
            .zones
            .get(&zone.to_ascii_lowercase())
            .map(|records| records.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared
            .log()
            .entries
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Only the PUT, POST, PATCH and DELETE requests so far: what must stay empty when a client
    /// is expected not to write.
    pub fn writes(&self) -> Vec<ApiRequest> {
        self.requests()
            .into_iter()
            .filter(|r| matches!(r.method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE"))
            .collect()
    }

    /// Forgets the recorded requests, e.g. after a test's setup calls.
    pub fn clear_requests(&self) {
        self.shared.log().entries.clear();
    }

    /// Delays every answer by `d`; requests are still answered concurrently.
    pub fn set_latency(&self, d: Duration) {
        self.shared.state().latency = d;
    }

    /// Switches the misbehaviour for the following requests.
    pub fn set_fault(&self, f: GandiFault) {
        self.shared.state().fault = f;
    }

    /// Serves at most `n` items per page of a list, whatever `per_page` asks for, as an API
    /// with a lower page-size limit than the client assumes would (§5.1: the limit is
    /// unknown). `Total-Count` and `Link` still describe the pages really served.
    pub fn set_max_per_page(&self, n: usize) {
        self.shared.state().max_per_page = Some(n.max(1));
    }
}

fn base_for(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v5/livedns")
}

/// The storage key of an rrset: names are case-insensitive, types upper-case (§4 rule 4).
fn key(name: &str, rr_type: &str) -> (String, String) {
    (name.to_ascii_lowercase(), rr_type.to_ascii_uppercase())
}

fn normalized(rrset: Rrset) -> Rrset {
    let (name, rr_type) = key(&rrset.name, &rrset.rr_type);
    Rrset {
        name,
        rr_type,
        ..rrset
    }
}

fn zone_of(rrsets: Vec<Rrset>) -> Zone {
    rrsets
        .into_iter()
        .map(normalized)
        .map(|r| ((r.name.clone(), r.rr_type.clone()), r))
        .collect()
}
