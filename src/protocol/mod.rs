//! Request dialects. A dialect says which paths it serves, turns a CGI request into
//! credentials and a neutral [`UpdateRequest`], and renders the neutral outcomes into its
//! own status, headers, content type and body; everything between is shared.
//!
//! To add a dialect: write `src/protocol/NAME.rs` implementing [`Dialect`], and add it to
//! [`DIALECTS`].

pub mod acme;
pub mod dyndns;
pub mod gandi_dyndns;
pub mod noip;
pub mod params;

use crate::auth::{AuthFailure, Claim, Principal};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::core::{Outcome, Replaced, UpdateRequest, Words};

/// Every dialect, in the order their routes are tried. The first serves the bare script.
pub const DIALECTS: &[&dyn Dialect] = &[
    &noip::NoIp,
    &gandi_dyndns::GandiDyndns,
    &dyndns::Dyndns,
    &acme::Acme,
];

/// The yes/no switches of a `[dialect:NAME]` section that are on, and its text settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switches {
    on: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
}

impl Switches {
    /// The switches that are on.
    pub fn new(on: Vec<&'static str>) -> Switches {
        Switches {
            on,
            values: Vec::new(),
        }
    }

    /// The same switches with the text settings that are set.
    pub fn with_values(mut self, values: Vec<(&'static str, String)>) -> Switches {
        self.values = values;
        self
    }

    /// The text setting `key`, if set (trimmed, not empty).
    pub fn value(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` is on.
    pub fn is_on(&self, key: &str) -> bool {
        self.on.contains(&key)
    }

    /// The switches that are on, for `check-config`.
    pub fn on(&self) -> &[&'static str] {
        &self.on
    }
}

/// A request the dialect understood: the neutral request, and what the dialect keeps for
/// its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What to do.
    pub update: UpdateRequest,
    /// What the answer repeats back (NoIP: the addresses exactly as sent).
    pub echo: String,
}

/// Why a whole request is refused before any host is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A method the dialect does not take.
    MethodNotAllowed,
    /// No principal.
    Unauthenticated(AuthFailure),
    /// No host name in the request.
    NoHostname,
    /// More host names than `max_hostnames`.
    TooManyHosts {
        /// How many were sent.
        count: usize,
        /// The configured limit.
        max: usize,
    },
    /// Something the dialect can ask for but ddns-cgi is not set up to do (NoIP's
    /// `offline=YES` without `delete_on_offline`).
    NotOffered,
    /// The server cannot work (config missing or invalid).
    ServerError,
}

/// One request dialect.
pub trait Dialect: Sync {
    /// Its name in `[dialect:NAME]` sections.
    fn name(&self) -> &'static str;

    /// The yes/no keys its `[dialect:NAME]` section may hold, all off by default.
    fn switches(&self) -> &'static [&'static str];

    /// The text keys its `[dialect:NAME]` section may hold besides the switches.
    fn settings(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks its section once the config is read: `is_user` says whether a `[user:NAME]`
    /// section exists. A problem names the key and what to fix.
    fn check_settings(
        &self,
        _switches: &Switches,
        _is_user: &dyn Fn(&str) -> bool,
    ) -> Result<(), (&'static str, String)> {
        Ok(())
    }

    /// An answer that needs no principal (a liveness check), for `route`.
    fn public(&self, _route: &str, _request: &CgiRequest) -> Option<CgiResponse> {
        None
    }

    /// The answer as sent, after `render` or `refuse`, given the section's switches.
    fn finish(&self, response: CgiResponse, _switches: &Switches) -> CgiResponse {
        response
    }

    /// The paths it serves, relative to the web root (`/nic/update`). A `*` segment stands
    /// for any one segment (`/delete-by-path/*/*`); [`captures`] gives what it stood for.
    fn routes(&self) -> &'static [&'static str];

    /// The credentials the request carries, as far as `switches` let it read them, or a
    /// refusal (such as a method it does not take) that needs no principal.
    fn credentials(&self, request: &CgiRequest, switches: &Switches)
    -> Result<Vec<Claim>, Refusal>;

    /// The request for `principal`, arriving on `route` (one of [`Dialect::routes`]).
    fn parse(
        &self,
        request: &CgiRequest,
        route: &str,
        principal: &Principal,
        general: &General,
    ) -> Result<Parsed, Refusal>;

    /// [`Dialect::parse`] for a dialect whose parsing depends on its `[dialect:NAME]`
    /// switches; the others keep the plain one.
    fn parse_switched(
        &self,
        request: &CgiRequest,
        route: &str,
        principal: &Principal,
        general: &General,
        _switches: &Switches,
    ) -> Result<Parsed, Refusal> {
        self.parse(request, route, principal, general)
    }

    /// Its word for each outcome, for the admin's log lines.
    fn words(&self) -> Words;

    /// Its answer for the outcomes, one per requested host in request order.
    fn render(&self, parsed: &Parsed, outcomes: &[Outcome]) -> CgiResponse;

    /// [`Dialect::render`] for a dialect whose answer repeats the values a change
    /// replaced, given per host beside its outcome; the others keep the plain one.
    fn render_replaced(
        &self,
        parsed: &Parsed,
        outcomes: &[Outcome],
        _replaced: &[Replaced],
    ) -> CgiResponse {
        self.render(parsed, outcomes)
    }

    /// Its answer for a refused request; `realm` is the Basic-auth realm.
    fn refuse(&self, refusal: &Refusal, realm: &str) -> CgiResponse;

    /// Its word for a refusal, for the admin's log lines.
    fn refusal_word(&self, refusal: &Refusal) -> &'static str;
}

/// Picks the dialect and route of a request by its path relative to the web root: the
/// script's own path (`SCRIPT_NAME`) followed by `PATH_INFO`. Either mounting works: one
/// mount per path (`SCRIPT_NAME=/nic/update`, empty `PATH_INFO`), or the binary mounted once
/// under a prefix (`SCRIPT_NAME=/ddns`, `PATH_INFO=/nic/update`). A path that ends in a
/// route, on a segment boundary, is that route; the bare script (no `PATH_INFO`) is the first
/// dialect's first route. Empty, `.` and `..` segments match nothing; a `*` in a route
/// matches one segment.
pub fn route(script_name: &str, path_info: &str) -> Option<(&'static dyn Dialect, &'static str)> {
    let info = if path_info == "/" { "" } else { path_info };
    // RFC 3875 §4.1.5: PATH_INFO is empty or starts with `/`; nothing else is a path.
    if !info.is_empty() && !info.starts_with('/') {
        return None;
    }
    let path = format!("{script_name}{info}");
    if path
        .split('/')
        .skip(1)
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return None;
    }
    let mut best: Option<(&'static dyn Dialect, &'static str)> = None;
    for dialect in DIALECTS {
        for route in dialect.routes() {
            if ends_in(&path, route) && best.is_none_or(|(_, b)| route.len() > b.len()) {
                best = Some((*dialect, route));
            }
        }
    }
    match best {
        Some(found) => Some(found),
        None if info.is_empty() => DIALECTS.first().map(|d| (*d, d.routes()[0])),
        None => None,
    }
}

/// Whether `path` ends in `route` on a segment boundary, `*` standing for any one segment.
/// Allocates nothing: every request tries every route.
fn ends_in(path: &str, route: &str) -> bool {
    let wanted = route.bytes().filter(|b| *b == b'/').count();
    if path.bytes().filter(|b| *b == b'/').count() < wanted {
        return false;
    }
    route
        .rsplit('/')
        .zip(path.rsplit('/'))
        .take(wanted)
        .all(|(want, got)| want == "*" || want == got)
}

/// What the `*` segments of `route` stood for, if `path` ends in `route` on a segment
/// boundary.
pub fn captures<'p>(path: &'p str, route: &str) -> Option<Vec<&'p str>> {
    let pattern: Vec<&str> = route.split('/').skip(1).collect();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let tail = segments.get(segments.len().checked_sub(pattern.len())?..)?;
    let mut found = Vec::new();
    for (want, got) in pattern.iter().zip(tail) {
        match *want {
            "*" => found.push(*got),
            literal if literal == *got => {}
            _ => return None,
        }
    }
    Some(found)
}

/// The answer for a path no dialect serves.
pub fn not_found() -> CgiResponse {
    CgiResponse::text(404, "not found\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_in_agrees_with_captures() {
        let paths = [
            "/nic/update",
            "/ddns/nic/update",
            "/update",
            "/x/update-by-path/s/h",
            "/",
            "",
            "/a//b",
        ];
        let routes = [
            "/nic/update",
            "/update",
            "/update-by-path/*/*",
            "/*",
            "/acme/present",
        ];
        for path in paths {
            for route in routes {
                assert_eq!(
                    ends_in(path, route),
                    captures(path, route).is_some(),
                    "{path} {route}"
                );
            }
        }
    }

    fn routed(script_name: &str, path_info: &str) -> Option<&'static str> {
        route(script_name, path_info).map(|(_, r)| r)
    }

    #[test]
    fn routes_known_paths_only() {
        for path in ["", "/", "/nic/update", "/v3/update", "/update"] {
            assert!(routed("/nic/update", path).is_some(), "{path}");
            assert!(routed("", path).is_some(), "{path}");
        }
        for path in ["/nic/update/", "/admin", "/nic/../update", "/NIC/UPDATE"] {
            assert_eq!(routed("", path), None, "{path}");
            assert_eq!(routed("/nic/update", path), None, "{path}");
        }
    }

    #[test]
    fn both_mounting_styles_reach_every_route() {
        let cases = [
            ("/nic/update", "", Some("/nic/update")),
            ("/nic/delete", "", Some("/nic/delete")),
            ("/v3/update", "/", Some("/v3/update")),
            ("/update", "", Some("/update")),
            ("/ddns", "/nic/update", Some("/nic/update")),
            ("/ddns", "/nic/delete", Some("/nic/delete")),
            ("/cgi-bin/ddns-cgi.cgi", "/nic/delete", Some("/nic/delete")),
            ("/ddns/ddns-cgi.cgi", "/v3/update", Some("/v3/update")),
            // The bare script is a NoIP update, as it always was.
            ("/ddns/ddns-cgi.cgi", "", Some("/nic/update")),
            ("/cgi-bin/ddns-cgi", "/", Some("/nic/update")),
            // Nothing sneaks through around a route.
            ("/nic/update", "/../admin", None),
            ("/ddns", "/nic/update/../admin", None),
            ("/ddns", "/admin/nic/update/x", None),
            ("/ddns", "/x/../nic/update", None),
            ("/ddns", "//nic/update", None),
            ("/ddns", "/nic/./update", None),
            ("/ddns", "/nic/updates", None),
            ("/ddns", "/xnic/delete", None),
            ("/nic/delete", "/x", None),
            ("/nic/update", " /nic/update", None),
            ("/ddns", "nic/update", None),
            // Routes with segments of their own, in either mounting.
            (
                "/ddns",
                "/update-by-path/s3cretKey/h.example.com",
                Some("/update-by-path/*/*"),
            ),
            (
                "/update-by-path",
                "/s3cretKey/h.example.com/1.2.3.4",
                Some("/update-by-path/*/*/*"),
            ),
            (
                "",
                "/update-by-path/k/h/1.2.3.4/::1",
                Some("/update-by-path/*/*/*/*"),
            ),
            (
                "/ddns",
                "/delete-by-path/k/h.example.com",
                Some("/delete-by-path/*/*"),
            ),
            ("/ddns", "/update-by-query", Some("/update-by-query")),
            ("/ddns", "/update-by-path/k", None),
            ("/ddns", "/update-by-path/k/h/1/2/3", None),
            ("/ddns", "/update-by-path/k/h/", None),
            ("/ddns", "/update-by-path//h", None),
            ("/ddns", "/update-by-path/../h", None),
            ("/ddns", "/update-by-path/k/./h", None),
            ("/ddns", "/delete-by-path/k/h/1.2.3.4", None),
            // lego's httpreq endpoint, in either mounting.
            ("/acme/present", "", Some("/acme/present")),
            ("/ddns", "/acme/cleanup", Some("/acme/cleanup")),
            ("/ddns", "/acme/present/x", None),
            ("/ddns", "/present", None),
        ];
        for (script, info, expected) in cases {
            assert_eq!(routed(script, info), expected, "{script} + {info}");
        }
    }
}
