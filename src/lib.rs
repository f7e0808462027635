//! ddns-cgi: a dynamic-DNS update endpoint run as a CGI program.
//!
//! A request flows one way: CGI environment ([`cgi`]) → dialect parse ([`protocol`]) →
//! authorisation ([`acl`]) → one change per zone ([`update`]) → registrar ([`backend`]) →
//! protocol answer ([`outcome`]). Only `main` and the registrars touch the outside world;
//! everything else takes values and returns values.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod address;
pub mod backend;
pub mod cgi;
pub mod cli;
pub mod config;
pub mod files;
pub mod hostname;
pub mod lock;
pub mod log;
pub mod outcome;
pub mod protocol;
pub mod secret;
pub mod state;
pub mod update;

use std::time::Instant;

use backend::{Clock, Registrars};
use cgi::{CgiRequest, CgiResponse};
use config::Config;
use log::{Log, printable};
use outcome::Failure;
use protocol::Route;
use state::Store;

/// Answers one CGI request, and logs one summary line for it.
pub fn handle(
    config: &Config,
    registrars: &Registrars,
    request: &CgiRequest,
    clock: Clock<'_>,
    log: &Log,
) -> CgiResponse {
    let started = Instant::now();
    let (mut response, details) = answer(config, registrars, request, clock, log);
    response.head_only = request.method == "HEAD";
    log.info(format_args!(
        "{} {} user={} from={} agent={} query={}: {} -> {} {} | {} registrar calls | {} ms",
        printable(&request.method),
        printable(if request.path_info.is_empty() {
            "/"
        } else {
            &request.path_info
        }),
        printable(request.remote_user.as_deref().unwrap_or("-")),
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
        registrars.http.calls(),
        started.elapsed().as_millis()
    ));
    response
}

fn answer(
    config: &Config,
    registrars: &Registrars,
    request: &CgiRequest,
    clock: Clock<'_>,
    log: &Log,
) -> (CgiResponse, update::Details) {
    let realm = &config.general.realm;
    let fail = |failure: Failure| (failure.response(realm), Vec::new());
    if protocol::route(&request.path_info) == Route::NotFound {
        return fail(Failure::NotFound);
    }
    if !matches!(request.method.as_str(), "GET" | "HEAD" | "POST" | "PUT") {
        return fail(Failure::MethodNotAllowed);
    }
    let Some(user) = request.remote_user.as_deref() else {
        log.warn(format_args!(
            "no authenticated user (REMOTE_USER is empty): the web server must require Basic auth for this script; answering 401"
        ));
        return fail(Failure::BadAuth);
    };
    if let Err(problem) = acl::check_user_name(user) {
        // The reason, not the name: the summary line shows the name, escaped.
        log.warn(format_args!(
            "REMOTE_USER {problem}; user names must be printable ASCII without surrounding white space, so that no spelling of a login can miss its [user:NAME] section; answering 401"
        ));
        return fail(Failure::BadAuth);
    }
    let update = match protocol::noip::parse(request, user, &config.general) {
        Ok(update) => update,
        Err(failure) => {
            if let Failure::NumHost { count, max } = failure {
                log.warn(format_args!(
                    "user {}: {count} host names in one request, more than max_hostnames = {max}; answering numhost",
                    printable(user)
                ));
            }
            return fail(failure);
        }
    };
    let store = Store::new(&config.general.state_dir);
    let context = update::Context {
        acl: &config.acl,
        general: &config.general,
        registrars,
        store: &store,
        clock,
        log,
    };
    let (answers, details) = update::run(&update, &context, request.method == "HEAD");
    (protocol::noip::render(&answers), details)
}

/// Parameters whose values a log line may show; they say what was asked, never who proves it.
const LOGGED_PARAMETERS: &[&str] = &[
    "hostname", "myip", "myipv6", "myipv4", "ip", "ipv6", "offline", "wildcard", "mx", "backmx",
    "system", "username", "user", "domain", "host",
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

/// The answer when the config cannot be loaded: `911`, the failure already logged.
pub fn config_failure() -> CgiResponse {
    Failure::ServerError.response("ddns")
}

#[cfg(test)]
mod tests {
    use super::redact_query;

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
