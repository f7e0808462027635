//! ddns-cgi: a dynamic-DNS update endpoint run as a CGI program.
//!
//! A request flows one way: CGI environment ([`cgi`]) → dialect chosen by path and parse
//! ([`protocol`]) → authenticate ([`auth`]) → authorize → plan → apply ([`core`], through the
//! registrar accounts of [`backend`]) → neutral outcomes → the dialect's answer. Only `main`
//! and the apply stage touch the outside world; everything else takes values and returns
//! values.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod address;
pub mod auth;
pub mod backend;
pub mod budget;
pub mod cgi;
pub mod cidr;
pub mod cli;
pub mod client;
pub mod config;
pub mod core;
pub mod files;
pub mod hostname;
pub mod lock;
pub mod log;
pub mod prefix;
pub mod protocol;
pub mod secret;
pub mod state;

use std::time::Instant;

use backend::{Clock, Registrars};
use cgi::{CgiRequest, CgiResponse};
use config::Config;
use log::{Log, printable};
use protocol::{Dialect, Refusal};
use state::Store;

/// What a request is answered with besides the config and the request: the accounts, the
/// clock, the log, and what is left to finish once the answer is out.
pub struct Edges<'a> {
    /// The registrar accounts.
    pub registrars: &'a Registrars,
    /// The wall clock.
    pub clock: Clock<'a>,
    /// Where log lines go.
    pub log: &'a Log,
    /// The zones' locks, for `main` to finish after writing the answer.
    pub pending: &'a core::Pending,
}

/// Answers one CGI request, and logs one summary line for it. The locks of the zones it
/// changed are left in `edges.pending`, to be finished after the answer is written.
pub fn handle(config: &Config, request: &CgiRequest, edges: &Edges<'_>) -> CgiResponse {
    let started = Instant::now();
    let (registrars, log) = (edges.registrars, edges.log);
    let (mut response, details, principal) =
        match protocol::route(&request.script_name, &request.path_info) {
            Some((dialect, route)) => {
                let (response, details, principal) = answer(dialect, route, config, request, edges);
                let switches = config.switches(dialect.name());
                (dialect.finish(response, &switches), details, principal)
            }
            None => (protocol::not_found(), Vec::new(), None),
        };
    // Who the request acted for: the principal once authenticated, else the web server's
    // user, if any. A user name claimed with a wrong password is not shown as the user.
    let user = principal.or_else(|| request.remote_user.clone());
    response.head_only = request.method == "HEAD";
    log.info(format_args!(
        "{} {} user={} from={} agent={} query={}: {} -> {} {} | {} registrar calls | {} ms",
        printable(&request.method),
        printable(&shown_path(request)),
        printable(user.as_deref().unwrap_or("-")),
        printable(request.remote_addr.as_deref().unwrap_or("-")),
        printable(request.user_agent.as_deref().unwrap_or("-")),
        printable(&redact_query(&request.query)),
        if details.is_empty() {
            "-".to_string()
        } else {
            details.join("; ")
        },
        response.status,
        printable(response.body.trim_end()),
        registrars.budget.calls(),
        started.elapsed().as_millis()
    ));
    response
}

/// The dialect's answer: credentials → principal → parsed request → core → rendering.
fn answer(
    dialect: &dyn Dialect,
    route: &str,
    config: &Config,
    request: &CgiRequest,
    edges: &Edges<'_>,
) -> (CgiResponse, core::Details, Option<String>) {
    let (clock, log) = (edges.clock, edges.log);
    let general = &config.general;
    let refuse = |refusal: Refusal| (dialect.refuse(&refusal, &general.realm), Vec::new(), None);
    if let Some(response) = dialect.public(route, request) {
        return (response, Vec::new(), None);
    }
    let store = Store::new(&general.state_dir);
    let principal = match authenticate(dialect, config, request, &store, clock, log) {
        Ok(principal) => principal,
        Err(refusal) => return refuse(refusal),
    };
    let switches = config.switches(dialect.name());
    let parsed = match dialect.parse_switched(request, route, &principal, general, &switches) {
        Ok(parsed) => parsed,
        Err(refusal) => {
            if refusal == Refusal::NoHostname {
                log.warn(format_args!(
                    "user {}: the request names no host name; answering {}",
                    printable(principal.name()),
                    dialect.refusal_word(&refusal)
                ));
            }
            if let Refusal::TooManyHosts { count, max } = refusal {
                log.warn(format_args!(
                    "user {}: {count} host names in one request, more than max_hostnames = {max}; answering {}",
                    printable(principal.name()),
                    dialect.refusal_word(&refusal)
                ));
            }
            return refuse(refusal);
        }
    };
    let context = core::Context {
        acl: &config.acl,
        general,
        registrars: edges.registrars,
        store: &store,
        clock: edges.clock,
        log,
        words: dialect.words(),
        pending: edges.pending,
    };
    let head = request.method == "HEAD";
    let ran = core::run(&parsed.update, &principal, &context, head);
    (
        dialect.render_replaced(&parsed, &ran.outcomes, &ran.replaced),
        ran.details,
        Some(principal.name().to_string()),
    )
}

/// The request's principal, or the refusal to answer, logged once.
fn authenticate(
    dialect: &dyn Dialect,
    config: &Config,
    request: &CgiRequest,
    store: &Store,
    clock: Clock<'_>,
    log: &Log,
) -> Result<auth::Principal, Refusal> {
    let claims = dialect.credentials(request, &config.switches(dialect.name()));
    let checker = auth::Checker {
        credentials: &config.credentials,
        store,
        source: request.remote_addr.as_deref(),
        now: clock()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        log,
    };
    let failure = match claims.map(|claims| auth::authenticate(&claims, &checker)) {
        Ok(Ok(principal)) => return Ok(principal),
        Ok(Err(auth::AuthError::Refused(failure))) => failure,
        Ok(Err(auth::AuthError::Unavailable(problem))) => {
            let refusal = Refusal::ServerError;
            log.error(format_args!(
                "{problem}; answering {}",
                dialect.refusal_word(&refusal)
            ));
            return Err(refusal);
        }
        Err(Refusal::Unauthenticated(failure)) => failure,
        Err(refusal) => return Err(refusal),
    };
    let refusal = Refusal::Unauthenticated(failure.clone());
    log.warn(format_args!(
        "{failure}; answering {}",
        dialect.refusal_word(&refusal)
    ));
    Err(refusal)
}

/// `PATH_INFO` as the summary line shows it: the segment after a route that carries a
/// secret in its path (`/update-by-path/<secret>/…`) is `***`, in either mounting (the
/// route in `SCRIPT_NAME` or in `PATH_INFO`). Such a route mounted whole as `SCRIPT_NAME`
/// (Apache's `ScriptAliasMatch`) is shown as that.
fn shown_path(request: &CgiRequest) -> String {
    let whole = protocol::dyndns::SECRET_ROUTES
        .iter()
        .any(|r| request.script_name.starts_with(&format!("{r}/")));
    if request.path_info.is_empty() && !whole {
        return "/".to_string();
    }
    let script: Vec<&str> = match whole && request.path_info.is_empty() {
        true => Vec::new(),
        false => request.script_name.split('/').skip(1).collect(),
    };
    let info: Vec<&str> = match whole && request.path_info.is_empty() {
        true => request.script_name.split('/').skip(1).collect(),
        false => request.path_info.split('/').skip(1).collect(),
    };
    let all: Vec<&str> = script.iter().chain(&info).copied().collect();
    let shown: Vec<&str> = (0..all.len())
        .skip(script.len())
        .map(|i| {
            let after_secret_route = i > 0
                && protocol::dyndns::SECRET_ROUTES
                    .iter()
                    .any(|r| r.trim_start_matches('/') == all[i - 1]);
            if after_secret_route { "***" } else { all[i] }
        })
        .collect();
    format!("/{}", shown.join("/"))
}

/// Parameters whose values a log line may show; they say what was asked, never who proves it.
const LOGGED_PARAMETERS: &[&str] = &[
    "hostname",
    "myip",
    "myipv6",
    "myipv4",
    "ip",
    "ipv6",
    "offline",
    "wildcard",
    "mx",
    "backmx",
    "system",
    "username",
    "user",
    "domain",
    "host",
    "fqdn",
    "zone_name",
    "record_name",
    "ipv4",
    "ip_1",
    "ip_2",
    "ttl",
];

/// Query strings may carry a password under any name (`password=`, `pass=`, `passwd=` in
/// router URL templates), and a FritzBox sends its password unescaped, so `password=ab&cd`
/// is one password. Only known parameters keep their values; any other value, and every
/// piece after it up to the next known parameter, is replaced by `***`.
fn redact_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut hiding = false;
    query
        .split('&')
        .map(|pair| {
            let (key, has_value) = match pair.split_once('=') {
                Some((key, _)) => (key, true),
                None => (pair, false),
            };
            let name = percent_encoding::percent_decode_str(key)
                .decode_utf8_lossy()
                .trim()
                .to_ascii_lowercase();
            if LOGGED_PARAMETERS.contains(&name.as_str()) {
                hiding = false;
                pair.to_string()
            } else if hiding || !has_value {
                hiding = true;
                "***".to_string()
            } else {
                hiding = true;
                format!("{key}=***")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The answer when the config cannot be loaded, in the words of the dialect the path
/// belongs to (the first dialect's for an unknown path), and its word for the log line.
pub fn config_failure(request: &CgiRequest) -> (CgiResponse, &'static str) {
    let dialect = protocol::route(&request.script_name, &request.path_info)
        .map_or(protocol::DIALECTS[0], |(dialect, _)| dialect);
    let refusal = Refusal::ServerError;
    (
        dialect.refuse(&refusal, "ddns"),
        dialect.refusal_word(&refusal),
    )
}

#[cfg(test)]
mod tests {
    use super::{redact_query, shown_path};

    #[test]
    fn path_secrets_are_never_shown() {
        let cases = [
            (
                "/ddns",
                "/update-by-path/TopSecret1/h.example.com",
                "/update-by-path/***/h.example.com",
            ),
            (
                "/update-by-path",
                "/TopSecret1/h.example.com/1.2.3.4",
                "/***/h.example.com/1.2.3.4",
            ),
            ("/delete-by-path", "/TopSecret1/h", "/***/h"),
            ("", "/delete-by-path/TopSecret1/h", "/delete-by-path/***/h"),
            ("/ddns", "/nic/update", "/nic/update"),
            ("/nic/update", "", "/"),
            (
                "/update-by-path/TopSecret1/h/::1",
                "",
                "/update-by-path/***/h/::1",
            ),
        ];
        for (script_name, path_info, shown) in cases {
            let request = crate::cgi::CgiRequest {
                script_name: script_name.into(),
                path_info: path_info.into(),
                ..Default::default()
            };
            assert_eq!(shown_path(&request), shown, "{script_name} + {path_info}");
        }
    }

    #[test]
    fn only_known_parameters_keep_their_values() {
        let cases = [
            (
                "hostname=h.example.com&myip=84.1.1.1",
                "hostname=h.example.com&myip=84.1.1.1",
            ),
            (
                "hostname=h.example.com&password=pw&myip=84.1.1.1",
                "hostname=h.example.com&password=***&myip=84.1.1.1",
            ),
            ("passwd=TopSecret1&hostname=h", "passwd=***&hostname=h"),
            ("pass%77ord=TopSecret1", "pass%77ord=***"),
            ("Token=abc", "Token=***"),
            // A FritzBox password with & in it: every piece of it is hidden.
            (
                "username=u&password=ab&cd=ef&gh&hostname=h",
                "username=u&password=***&***&***&hostname=h",
            ),
            ("HOSTNAME=h&x", "HOSTNAME=h&***"),
            ("", ""),
        ];
        for (query, logged) in cases {
            assert_eq!(redact_query(query), logged, "{query}");
        }
    }
}
