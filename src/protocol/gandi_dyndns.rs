//! The gandi-dyndns dialect (seed-systems.md §1.4–1.8): `/nic_update?fqdn=&ip=` answered by
//! status code alone with an empty body, and `/ping`. Routers and Cisco ASAs pointed at the
//! gandi-dyndns server keep their URL.
//!
//! `[dialect:gandi-dyndns]` may name `trusted_sources` (networks, space-separated) and
//! `trusted_user` (a `[user:NAME]`): a request from those networks that the web server
//! authenticated nobody for acts for that user, with that user's host names.

pub mod trusted;

use std::net::IpAddr;

use super::params::Params;
use super::{Dialect, Parsed, Refusal, Switches};
use crate::address::{AddressError, check_usable, parse_ip};
use crate::auth::{Claim, Principal};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::core::operation::Operation;
use crate::core::{HostRequest, Outcome, UpdateRequest, Words};

/// Networks whose requests act for `trusted_user`.
pub const TRUSTED_SOURCES: &str = "trusted_sources";
/// The `[user:NAME]` that `trusted_sources` act for.
pub const TRUSTED_USER: &str = "trusted_user";

/// The liveness route.
const PING: &str = "/ping";
/// Its body, exactly as the original server sends it (monitoring checks match it).
const PING_BODY: &str = "I'am alive!\n";
/// Seconds a client should wait after a server-side failure.
const RETRY_AFTER: &str = "300";

/// The gandi-dyndns dialect.
pub struct GandiDyndns;

impl Dialect for GandiDyndns {
    fn name(&self) -> &'static str {
        "gandi-dyndns"
    }

    fn switches(&self) -> &'static [&'static str] {
        &[]
    }

    fn settings(&self) -> &'static [&'static str] {
        &[TRUSTED_SOURCES, TRUSTED_USER]
    }

    fn check_settings(
        &self,
        switches: &Switches,
        is_user: &dyn Fn(&str) -> bool,
    ) -> Result<(), (&'static str, String)> {
        check_settings(switches, is_user)
    }

    fn public(&self, route: &str, request: &CgiRequest) -> Option<CgiResponse> {
        let method = request.method.as_str();
        (route == PING && matches!(method, "GET" | "HEAD" | "POST"))
            .then(|| CgiResponse::text(200, PING_BODY))
    }

    fn routes(&self) -> &'static [&'static str] {
        &["/nic_update", PING]
    }

    fn credentials(
        &self,
        request: &CgiRequest,
        switches: &Switches,
    ) -> Result<Vec<Claim>, Refusal> {
        if !matches!(request.method.as_str(), "GET" | "HEAD" | "POST") {
            return Err(Refusal::MethodNotAllowed);
        }
        if let Some(user) = &request.remote_user {
            return Ok(vec![Claim::RemoteUser(user.clone())]);
        }
        let (Some(sources), Some(user)) = (
            switches.value(TRUSTED_SOURCES),
            switches.value(TRUSTED_USER),
        ) else {
            return Ok(Vec::new());
        };
        let list = trusted::parse_list(sources).unwrap_or_default();
        Ok(
            match trusted::is_trusted(&list, request.remote_addr.as_deref()) {
                true => vec![Claim::TrustedSource(user.to_string())],
                false => Vec::new(),
            },
        )
    }

    fn parse(
        &self,
        request: &CgiRequest,
        _route: &str,
        _principal: &Principal,
        general: &General,
    ) -> Result<Parsed, Refusal> {
        parse(request, general)
    }

    fn words(&self) -> Words {
        word
    }

    fn render(&self, _parsed: &Parsed, outcomes: &[Outcome]) -> CgiResponse {
        let outcome = outcomes.first().copied().unwrap_or(Outcome::ServerSide);
        let response = CgiResponse::text(status(outcome), "");
        match outcome {
            Outcome::ServerSide => response.with_header("Retry-After", RETRY_AFTER),
            _ => response,
        }
    }

    fn refuse(&self, refusal: &Refusal, realm: &str) -> CgiResponse {
        match refusal {
            Refusal::Unauthenticated(_) => CgiResponse::text(401, "")
                .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\"")),
            Refusal::MethodNotAllowed => {
                CgiResponse::text(405, "").with_header("Allow", "GET, HEAD, POST")
            }
            Refusal::ServerError => {
                CgiResponse::text(503, "").with_header("Retry-After", RETRY_AFTER)
            }
            Refusal::NoHostname | Refusal::TooManyHosts { .. } | Refusal::NotOffered => {
                CgiResponse::text(400, "")
            }
        }
    }

    fn refusal_word(&self, refusal: &Refusal) -> &'static str {
        match refusal {
            Refusal::Unauthenticated(_) => "401",
            Refusal::MethodNotAllowed => "405",
            Refusal::ServerError => "503",
            Refusal::NoHostname => "400 (no fqdn)",
            Refusal::TooManyHosts { .. } | Refusal::NotOffered => "400",
        }
    }
}

/// `trusted_sources` and `trusted_user` come together; the networks parse and the user has
/// a `[user:NAME]` section (whose `allowed_hostnames` are what the networks may change).
fn check_settings(
    switches: &Switches,
    is_user: &dyn Fn(&str) -> bool,
) -> Result<(), (&'static str, String)> {
    match (
        switches.value(TRUSTED_SOURCES),
        switches.value(TRUSTED_USER),
    ) {
        (None, None) => Ok(()),
        (Some(_), None) => Err((
            TRUSTED_USER,
            "is missing: trusted_sources act for the user trusted_user names".into(),
        )),
        (None, Some(_)) => Err((
            TRUSTED_SOURCES,
            "is missing: list the networks (CIDR, space-separated) that act for trusted_user"
                .into(),
        )),
        (Some(sources), Some(user)) => {
            trusted::parse_list(sources).map_err(|problem| (TRUSTED_SOURCES, problem))?;
            if !is_user(user) {
                return Err((
                    TRUSTED_USER,
                    format!(
                        "names no [user:{0}] section; add one with the host names these networks may change",
                        crate::log::printable(user)
                    ),
                ));
            }
            Ok(())
        }
    }
}

/// The status for an outcome: the original's codes, plus 502/503 for registrar failures.
fn status(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Changed | Outcome::Unchanged => 200,
        Outcome::NotFqdn | Outcome::BadAddress | Outcome::BadTtl => 400,
        // A CNAME has no address record to change, as for NoIP's nohost.
        Outcome::NotAllowed | Outcome::NoZone | Outcome::NoRecord | Outcome::Alias => 404,
        Outcome::Abuse => 403,
        Outcome::RoundRobin | Outcome::NotPlain | Outcome::Rejected => 502,
        Outcome::ServerSide => 503,
    }
}

/// The word for each outcome in the admin's log lines: the status, and what it stands for.
pub fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Changed => "200 (changed)",
        Outcome::Unchanged => "200 (unchanged)",
        Outcome::NotFqdn => "400 (not a host name)",
        Outcome::BadAddress => "400 (unusable address)",
        Outcome::BadTtl => "400 (ttl)",
        Outcome::NotAllowed => "404 (name not allowed)",
        Outcome::NoZone => "404 (no zone)",
        Outcome::NoRecord => "404 (no record)",
        Outcome::Alias => "404 (CNAME)",
        Outcome::Abuse => "403 (abuse)",
        Outcome::RoundRobin | Outcome::NotPlain | Outcome::Rejected => "502",
        Outcome::ServerSide => "503",
    }
}

/// `fqdn` (required) and `ip` (else the source address, of either family).
fn parse(request: &CgiRequest, general: &General) -> Result<Parsed, Refusal> {
    let params = Params::read(
        &request.query,
        request.content_type.as_deref(),
        &request.body,
    );
    let text = params
        .get("fqdn")
        .map(str::trim)
        .ok_or(Refusal::NoHostname)?;
    let ip = params
        .get("ip")
        .map(str::trim)
        .or(request.remote_addr.as_deref());
    let operations =
        address(ip, general.allow_private_addresses).map(|ip| vec![Operation::Set(ip)]);
    Ok(Parsed {
        update: UpdateRequest {
            hosts: vec![HostRequest {
                text: text.to_string(),
                name: text.parse(),
            }],
            operations,
            ..UpdateRequest::default()
        },
        echo: String::new(),
    })
}

/// The address to set: IPv4 sets the A record, IPv6 the AAAA record.
fn address(text: Option<&str>, allow_private: bool) -> Result<IpAddr, AddressError> {
    let ip = parse_ip(text.ok_or(AddressError::Unparsable)?)?;
    check_usable(ip, allow_private)?;
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general() -> General {
        let config = crate::config::Config::parse_str(
            "[default]\nusername = u\npassword = p\n",
            std::path::Path::new("test.ini"),
        )
        .unwrap();
        config.general
    }

    fn request(query: &str, remote: &str) -> CgiRequest {
        CgiRequest {
            method: "GET".into(),
            query: query.into(),
            remote_addr: Some(remote.into()),
            ..CgiRequest::default()
        }
    }

    fn ops(query: &str, remote: &str) -> Result<Vec<Operation>, AddressError> {
        parse(&request(query, remote), &general())
            .unwrap()
            .update
            .operations
    }

    #[test]
    fn reads_fqdn_and_either_family() {
        let v4: IpAddr = "84.17.5.7".parse().unwrap();
        let v6: IpAddr = "2a01:4f8::7".parse().unwrap();
        assert_eq!(
            ops("fqdn=a.example.com&ip=84.17.5.7", "84.1.1.1"),
            Ok(vec![Operation::Set(v4)])
        );
        assert_eq!(
            ops("fqdn=a.example.com&ip=", "2a01:4f8::7"),
            Ok(vec![Operation::Set(v6)])
        );
        assert!(ops("fqdn=a.example.com&ip=10.0.0.1", "84.1.1.1").is_err());
        assert!(ops("fqdn=a.example.com&ip=999.1.1.1", "84.1.1.1").is_err());
        assert_eq!(
            parse(&request("ip=84.1.1.1", "84.1.1.1"), &general()).unwrap_err(),
            Refusal::NoHostname
        );
    }

    #[test]
    fn errors_are_never_200() {
        for outcome in [
            Outcome::NotFqdn,
            Outcome::NotAllowed,
            Outcome::BadAddress,
            Outcome::NoZone,
            Outcome::NoRecord,
            Outcome::RoundRobin,
            Outcome::Alias,
            Outcome::NotPlain,
            Outcome::Rejected,
            Outcome::Abuse,
            Outcome::ServerSide,
        ] {
            assert_ne!(status(outcome), 200, "{outcome:?}");
        }
    }

    #[test]
    fn a_cname_is_404_as_nohost_is_for_noip() {
        assert_eq!(status(Outcome::Alias), 404);
        assert_eq!(crate::protocol::noip::word(Outcome::Alias), "nohost");
        assert_eq!(status(Outcome::RoundRobin), 502);
    }
}
