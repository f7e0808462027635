//! The NoIP / DynDNS2 dialect (noip-protocol.md §1–§2): `hostname`, `myip`, `myipv6`, and
//! one answer line per requested host name; plus nsupdate.info's `/nic/delete`, and ACME
//! challenge values in `txt` ([`txt`]). Every word of the protocol is here.

pub mod addresses;
pub mod credentials;
pub mod strict;
pub mod txt;

use super::params::Params;
use super::{Dialect, Parsed, Refusal, Switches};
use crate::auth::{Claim, Principal};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::core::{HostRequest, Outcome, UpdateRequest, Words};
use crate::hostname::Hostname;

/// The route that deletes instead of setting.
const DELETE: &str = "/nic/delete";

/// The NoIP dialect.
pub struct NoIp;

impl Dialect for NoIp {
    fn name(&self) -> &'static str {
        "noip"
    }

    fn switches(&self) -> &'static [&'static str] {
        credentials::SWITCHES
    }

    fn routes(&self) -> &'static [&'static str] {
        // The first is what the bare script serves.
        &["/nic/update", "/v3/update", "/update", DELETE]
    }

    fn credentials(
        &self,
        request: &CgiRequest,
        switches: &Switches,
    ) -> Result<Vec<Claim>, Refusal> {
        if !matches!(request.method.as_str(), "GET" | "HEAD" | "POST" | "PUT") {
            return Err(Refusal::MethodNotAllowed);
        }
        credentials::claims(request, switches)
    }

    fn parse(
        &self,
        request: &CgiRequest,
        route: &str,
        principal: &Principal,
        general: &General,
    ) -> Result<Parsed, Refusal> {
        parse(request, route, principal.name(), general)
    }

    fn words(&self) -> Words {
        word
    }

    fn render(&self, parsed: &Parsed, outcomes: &[Outcome]) -> CgiResponse {
        render(&parsed.echo, outcomes)
    }

    fn refuse(&self, refusal: &Refusal, realm: &str) -> CgiResponse {
        let line = format!("{}\n", self.refusal_word(refusal));
        match refusal {
            Refusal::Unauthenticated(_) => CgiResponse::text(401, "badauth\n")
                .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\"")),
            Refusal::MethodNotAllowed => CgiResponse::text(405, "method not allowed\n")
                .with_header("Allow", "GET, HEAD, POST, PUT"),
            _ => CgiResponse::text(200, line),
        }
    }

    fn finish(&self, response: CgiResponse, switches: &Switches) -> CgiResponse {
        match switches.is_on(strict::STRICT_STATUS) {
            true => strict::apply(response),
            false => response,
        }
    }

    fn refusal_word(&self, refusal: &Refusal) -> &'static str {
        match refusal {
            Refusal::Unauthenticated(_) => "401",
            Refusal::MethodNotAllowed => "405",
            Refusal::NoHostname => "notfqdn",
            Refusal::TooManyHosts { .. } => "numhost",
            Refusal::NotOffered => "!donator",
            Refusal::ServerError => "911",
        }
    }
}

/// The word for each outcome. Error words carry no text: inadyn treats any body with
/// `good`, `nochg` or `OK` in it as success.
pub fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Changed => "good",
        Outcome::Unchanged => "nochg",
        Outcome::NotFqdn => "notfqdn",
        // A CNAME has no address record of its own to change, whatever the backend.
        Outcome::NotAllowed | Outcome::NoZone | Outcome::NoRecord | Outcome::Alias => "nohost",
        Outcome::BadAddress => "badip",
        Outcome::RoundRobin | Outcome::NotPlain | Outcome::Rejected | Outcome::BadTtl => "dnserr",
        Outcome::Abuse => "abuse",
        Outcome::ServerSide => "911",
    }
}

/// Reads a request of the authenticated `user` arriving on `route`.
pub fn parse(
    req: &CgiRequest,
    route: &str,
    user: &str,
    general: &General,
) -> Result<Parsed, Refusal> {
    let params = Params::read(&req.query, req.content_type.as_deref(), &req.body);
    let offline = params
        .get("offline")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"));
    if offline && !general.delete_on_offline {
        return Err(Refusal::NotOffered);
    }
    let hosts = hosts(&params, user, general)?;
    let challenge = hosts.iter().any(|h| {
        h.name
            .as_ref()
            .is_ok_and(|n| crate::core::txt::challenged(n).is_some())
    });
    if let Some(operations) = txt::operations(&params, route == DELETE, challenge) {
        // Hooks compare the answer with `good` exactly: no address is repeated.
        return Ok(Parsed {
            update: UpdateRequest {
                hosts,
                operations,
                ..UpdateRequest::default()
            },
            echo: String::new(),
        });
    }
    if route == DELETE || offline {
        return Ok(Parsed {
            update: UpdateRequest {
                hosts,
                operations: addresses::deletions(&params),
                ..UpdateRequest::default()
            },
            echo: String::new(),
        });
    }
    let allow_private = general.allow_private_addresses;
    let targets = addresses::targets(&params, req.remote_addr.as_deref(), allow_private);
    let lan_prefix = addresses::lan_prefix(&params, allow_private);
    let echo = targets.as_ref().map(|t| t.echo()).unwrap_or_default();
    // A LAN prefix that cannot be used refuses the whole request, as any address does.
    let (operations, lan_prefix) = match (targets, lan_prefix) {
        (Ok(targets), Ok(lan)) => (Ok(targets.operations()), lan),
        (Err(e), _) | (_, Err(e)) => (Err(e), None),
    };
    Ok(Parsed {
        echo,
        update: UpdateRequest {
            hosts,
            operations,
            lan_prefix,
            ..UpdateRequest::default()
        },
    })
}

/// `hostname`, a comma-separated list; without it, a user named like a host updates that
/// host (nsupdate.info's rule).
fn hosts(params: &Params, user: &str, general: &General) -> Result<Vec<HostRequest>, Refusal> {
    let names: Vec<&str> = match params.get("hostname") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        None if user.contains('.') && user.parse::<Hostname>().is_ok() => vec![user],
        None => return Err(Refusal::NoHostname),
    };
    if names.is_empty() {
        return Err(Refusal::NoHostname);
    }
    if names.len() > general.max_hostnames {
        return Err(Refusal::TooManyHosts {
            count: names.len(),
            max: general.max_hostnames,
        });
    }
    Ok(names
        .iter()
        .map(|text| HostRequest {
            text: text.to_string(),
            name: text.parse(),
        })
        .collect())
}

/// The line for one host: `good` and `nochg` repeat the addresses as sent.
fn line(outcome: Outcome, echo: &str) -> String {
    match outcome {
        Outcome::Changed | Outcome::Unchanged if !echo.is_empty() => {
            format!("{} {echo}", word(outcome))
        }
        _ => word(outcome).to_string(),
    }
}

/// One line per requested host, in request order, `\n` after each. A request that failed
/// on the server side for every host is one `911` line, as the protocol has it; a request
/// where only some hosts failed keeps one line per host, so the others' answers are not lost.
pub fn render(echo: &str, outcomes: &[Outcome]) -> CgiResponse {
    if outcomes.len() > 1 && outcomes.iter().all(|o| *o == Outcome::ServerSide) {
        return render(echo, &outcomes[..1]);
    }
    let mut body = String::new();
    for outcome in outcomes {
        body.push_str(&line(*outcome, echo));
        body.push('\n');
    }
    CgiResponse::text(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::AddressError;
    use crate::auth::AuthFailure;

    fn general() -> General {
        let config = crate::config::Config::parse_str(
            "[default]\nusername = u\npassword = p\nmax_hostnames = 3\n",
            std::path::Path::new("test.ini"),
        )
        .unwrap();
        config.general
    }

    fn request(query: &str) -> CgiRequest {
        CgiRequest {
            method: "GET".into(),
            query: query.into(),
            remote_addr: Some("::ffff:84.17.5.1".into()),
            ..CgiRequest::default()
        }
    }

    fn parse_q(query: &str) -> Result<Parsed, Refusal> {
        parse(&request(query), "/nic/update", "alice", &general())
    }

    #[test]
    fn reads_hosts_and_both_families() {
        let u =
            parse_q("hostname=a.example.com, B.example.com&myip=2a01:4f8::7,84.17.5.7").unwrap();
        let names: Vec<_> = u
            .update
            .hosts
            .iter()
            .map(|h| h.name.clone().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.example.com", "b.example.com"]);
        assert_eq!(u.echo, "84.17.5.7,2a01:4f8::7");
        assert_eq!(
            crate::core::operation::describe(&u.update.operations.unwrap()),
            "A 84.17.5.7 AAAA 2a01:4f8::7"
        );
    }

    #[test]
    fn falls_back_to_the_source_address() {
        let u = parse_q("hostname=a.example.com&myip=").unwrap();
        assert_eq!(u.echo, "84.17.5.1");
        assert_eq!(u.update.operations.unwrap().len(), 1);
    }

    #[test]
    fn myipv6_combines_with_myip() {
        let u = parse_q("hostname=a.example.com&myip=84.17.5.7&myipv6=2a01:4f8::7").unwrap();
        assert_eq!(u.echo, "84.17.5.7,2a01:4f8::7");
        let u = parse_q("hostname=a.example.com&myip=2a01:4f8::8&myipv6=2a01:4f8::7").unwrap();
        assert_eq!(u.update.operations, Err(AddressError::Conflict));
    }

    #[test]
    fn bad_addresses_are_badip() {
        for q in [
            "myip=<ipaddr>",
            "myip=10.0.0.1",
            "myip=84.1.1.1,84.1.1.2",
            "myip=1.2.3",
            "myipv6=84.1.1.1",
        ] {
            let u = parse_q(&format!("hostname=a.example.com&{q}")).unwrap();
            assert!(u.update.operations.is_err(), "{q}");
        }
    }

    #[test]
    fn request_level_failures() {
        assert_eq!(parse_q("myip=84.1.1.1").unwrap_err(), Refusal::NoHostname);
        assert_eq!(parse_q("hostname=,").unwrap_err(), Refusal::NoHostname);
        assert_eq!(
            parse_q("hostname=a.x.com,b.x.com,c.x.com,d.x.com").unwrap_err(),
            Refusal::TooManyHosts { count: 4, max: 3 }
        );
        assert_eq!(
            parse_q("hostname=a.x.com&offline=YES").unwrap_err(),
            Refusal::NotOffered
        );
        assert!(
            parse_q("hostname=a.x.com&offline=NO&wildcard=ON&mx=&backmx=NO&system=dyndns").is_ok()
        );
    }

    #[test]
    fn offline_deletes_only_when_the_admin_opts_in() {
        let mut general = general();
        general.delete_on_offline = true;
        let req = request("hostname=a.x.com&offline=yes&myip=84.1.1.1");
        let u = parse(&req, "/nic/update", "alice", &general).unwrap();
        assert_eq!(
            crate::core::operation::describe(&u.update.operations.unwrap()),
            "delete A"
        );
        assert_eq!(u.echo, "");
    }

    #[test]
    fn a_user_named_like_a_host_updates_it() {
        let u = parse(&request(""), "/nic/update", "home.example.com", &general()).unwrap();
        assert_eq!(u.update.hosts[0].text, "home.example.com");
    }

    #[test]
    fn a_server_failure_for_every_host_is_one_line() {
        let body = |outcomes: &[Outcome]| render("84.1.1.1", outcomes).body;
        let failed = vec![Outcome::ServerSide; 3];
        assert_eq!(body(&failed), "911\n");
        assert_eq!(body(&[Outcome::ServerSide]), "911\n");
        assert_eq!(
            body(&[Outcome::ServerSide, Outcome::Changed, Outcome::ServerSide]),
            "911\ngood 84.1.1.1\n911\n"
        );
        assert_eq!(
            body(&[Outcome::NotAllowed, Outcome::NoZone]),
            "nohost\nnohost\n"
        );
        assert_eq!(
            render("", &[Outcome::Changed, Outcome::Unchanged]).body,
            "good\nnochg\n"
        );
    }

    #[test]
    fn error_words_never_look_like_success() {
        let words = [
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
        ];
        for outcome in words {
            let line = line(outcome, "84.1.1.1");
            assert!(!line.contains("good") && !line.contains("nochg") && !line.contains("OK"));
        }
        for refusal in [
            Refusal::Unauthenticated(AuthFailure::NoCredential),
            Refusal::NoHostname,
            Refusal::TooManyHosts { count: 30, max: 20 },
            Refusal::NotOffered,
            Refusal::ServerError,
            Refusal::MethodNotAllowed,
        ] {
            let body = NoIp.refuse(&refusal, "ddns").body;
            assert!(
                !body.contains("good") && !body.contains("nochg") && !body.contains("OK"),
                "{body}"
            );
        }
        assert!(!super::super::not_found().body.contains("OK"));
    }
}
