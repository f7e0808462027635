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
pub mod hostname;
pub mod lock;
pub mod log;
pub mod outcome;
pub mod protocol;
pub mod secret;
pub mod state;
pub mod update;

use std::time::{Instant, SystemTime};

use backend::Registrars;
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
    clock: &dyn Fn() -> SystemTime,
    log: &Log,
) -> CgiResponse {
    let started = Instant::now();
    let (mut response, details) = answer(config, registrars, request, clock, log);
    response.head_only = request.method == "HEAD";
    log.info(format_args!(
        "{} {} user={} from={} agent={} query={}: {} -> {} {} | {} registrar calls | {} ms",
        request.method,
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
    clock: &dyn Fn() -> SystemTime,
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

/// Query strings may carry `password=`/`pass=` (FritzBox URLs); they never reach a log.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            if matches!(
                key.to_ascii_lowercase().as_str(),
                "password" | "pass" | "pwd" | "token" | "secret"
            ) {
                format!("{key}=***")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The answer when the config cannot be loaded: `911`, the failure already logged.
pub fn config_failure() -> CgiResponse {
    Failure::ServerError.response("ddns")
}
