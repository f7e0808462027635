//! The NoIP / DynDNS2 dialect (noip-protocol.md §1–§2): `hostname`, `myip`, `myipv6`, and
//! one answer line per requested host name.

use std::net::IpAddr;

use super::params::Params;
use crate::address::{AddressError, Target, Targets, check_usable, parse_ip};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::hostname::Hostname;
use crate::outcome::{Answer, Failure};
use crate::update::{HostRequest, UpdateRequest};

/// Reads an update from an authenticated request.
pub fn parse(req: &CgiRequest, user: &str, general: &General) -> Result<UpdateRequest, Failure> {
    let params = Params::read(&req.query, req.content_type.as_deref(), &req.body);
    if params
        .get("offline")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
    {
        return Err(Failure::NotDonator);
    }
    let names: Vec<&str> = match params.get("hostname") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        // nsupdate.info's rule: a user named like a host updates that host.
        None if user.contains('.') && user.parse::<Hostname>().is_ok() => vec![user],
        None => return Err(Failure::NoHostname),
    };
    if names.is_empty() {
        return Err(Failure::NoHostname);
    }
    if names.len() > general.max_hostnames {
        return Err(Failure::NumHost {
            count: names.len(),
            max: general.max_hostnames,
        });
    }
    let hosts = names
        .iter()
        .map(|text| HostRequest {
            text: text.to_string(),
            name: text.parse(),
        })
        .collect();
    let targets = targets(&params, req.remote_addr.as_deref())
        .and_then(|t| check_targets(t, general.allow_private_addresses));
    Ok(UpdateRequest {
        user: user.to_string(),
        hosts,
        targets,
    })
}

/// `myip` (one or two addresses, either order), `myipv6`, or else the source address.
fn targets(params: &Params, remote_addr: Option<&str>) -> Result<Targets, AddressError> {
    let mut targets = Targets::default();
    let mut given = Vec::new();
    if let Some(list) = params.get("myip") {
        let parts: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.len() > 2 {
            return Err(AddressError::TooMany);
        }
        given.extend(parts);
    }
    let v6_param = params.get("myipv6").map(str::trim);
    for text in given {
        match parse_ip(text)? {
            IpAddr::V4(addr) if targets.v4.is_none() => {
                targets.v4 = Some(Target {
                    addr,
                    echo: text.to_string(),
                })
            }
            IpAddr::V6(addr) if targets.v6.is_none() => {
                targets.v6 = Some(Target {
                    addr,
                    echo: text.to_string(),
                })
            }
            _ => return Err(AddressError::Conflict),
        }
    }
    if let Some(text) = v6_param {
        match parse_ip(text)? {
            IpAddr::V6(addr) => match &targets.v6 {
                Some(existing) if existing.addr != addr => return Err(AddressError::Conflict),
                Some(_) => {}
                None => {
                    targets.v6 = Some(Target {
                        addr,
                        echo: text.to_string(),
                    })
                }
            },
            IpAddr::V4(_) => return Err(AddressError::Unparsable),
        }
    }
    if targets.v4.is_none() && targets.v6.is_none() {
        let source = remote_addr.ok_or(AddressError::Unparsable)?;
        match parse_ip(source)? {
            IpAddr::V4(addr) => {
                targets.v4 = Some(Target {
                    addr,
                    echo: addr.to_string(),
                })
            }
            IpAddr::V6(addr) => {
                targets.v6 = Some(Target {
                    addr,
                    echo: addr.to_string(),
                })
            }
        }
    }
    Ok(targets)
}

fn check_targets(targets: Targets, allow_private: bool) -> Result<Targets, AddressError> {
    if let Some(t) = &targets.v4 {
        check_usable(IpAddr::V4(t.addr), allow_private)?;
    }
    if let Some(t) = &targets.v6 {
        check_usable(IpAddr::V6(t.addr), allow_private)?;
    }
    Ok(targets)
}

/// One line per requested host, in request order, `\n` after each. A request that failed
/// on the server side for every host is one `911` line, as the protocol has it; a request
/// where only some hosts failed keeps one line per host, so the others' answers are not lost.
pub fn render(answers: &[Answer]) -> CgiResponse {
    if answers.len() > 1 && answers.iter().all(|a| *a == Answer::ServerError) {
        return render(&answers[..1]);
    }
    let mut body = String::new();
    for answer in answers {
        body.push_str(&answer.line());
        body.push('\n');
    }
    CgiResponse::text(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn parse_q(query: &str) -> Result<UpdateRequest, Failure> {
        parse(&request(query), "alice", &general())
    }

    #[test]
    fn reads_hosts_and_both_families() {
        let u =
            parse_q("hostname=a.example.com, B.example.com&myip=2a01:4f8::7,84.17.5.7").unwrap();
        let names: Vec<_> = u
            .hosts
            .iter()
            .map(|h| h.name.clone().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.example.com", "b.example.com"]);
        let t = u.targets.unwrap();
        assert_eq!(t.echo(), "84.17.5.7,2a01:4f8::7");
    }

    #[test]
    fn falls_back_to_the_source_address() {
        let t = parse_q("hostname=a.example.com&myip=")
            .unwrap()
            .targets
            .unwrap();
        assert_eq!(t.echo(), "84.17.5.1");
        assert!(t.v6.is_none());
    }

    #[test]
    fn myipv6_combines_with_myip() {
        let t = parse_q("hostname=a.example.com&myip=84.17.5.7&myipv6=2a01:4f8::7")
            .unwrap()
            .targets
            .unwrap();
        assert_eq!(t.echo(), "84.17.5.7,2a01:4f8::7");
        let t = parse_q("hostname=a.example.com&myip=2a01:4f8::8&myipv6=2a01:4f8::7")
            .unwrap()
            .targets;
        assert_eq!(t, Err(AddressError::Conflict));
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
            assert!(u.targets.is_err(), "{q}");
        }
    }

    #[test]
    fn request_level_failures() {
        assert_eq!(parse_q("myip=84.1.1.1").unwrap_err(), Failure::NoHostname);
        assert_eq!(parse_q("hostname=,").unwrap_err(), Failure::NoHostname);
        assert_eq!(
            parse_q("hostname=a.x.com,b.x.com,c.x.com,d.x.com").unwrap_err(),
            Failure::NumHost { count: 4, max: 3 }
        );
        assert_eq!(
            parse_q("hostname=a.x.com&offline=YES").unwrap_err(),
            Failure::NotDonator
        );
        assert!(
            parse_q("hostname=a.x.com&offline=NO&wildcard=ON&mx=&backmx=NO&system=dyndns").is_ok()
        );
    }

    #[test]
    fn a_user_named_like_a_host_updates_it() {
        let u = parse(&request(""), "home.example.com", &general()).unwrap();
        assert_eq!(u.hosts[0].text, "home.example.com");
    }

    #[test]
    fn a_server_failure_for_every_host_is_one_line() {
        let good = Answer::Good("84.1.1.1".into());
        let body = |answers: &[Answer]| render(answers).body;
        let failed = vec![Answer::ServerError; 3];
        assert_eq!(body(&failed), "911\n");
        assert_eq!(body(&[Answer::ServerError]), "911\n");
        assert_eq!(
            body(&[Answer::ServerError, good.clone(), Answer::ServerError]),
            "911\ngood 84.1.1.1\n911\n"
        );
        assert_eq!(body(&[Answer::NoHost, Answer::NoHost]), "nohost\nnohost\n");
    }
}
