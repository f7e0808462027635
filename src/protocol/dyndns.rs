//! The dyndns server's dialect (seed-systems.md §4.4–4.9), for devices that cannot send
//! Basic auth: `/update-by-path/<secret>/<fqdn>[/<ip_1>[/<ip_2>]]`, `/update-by-query` and
//! `/delete-by-path/<secret>/<fqdn>`, answered with its `UPDATED:` / `UNCHANGED:` lines and
//! `<NAME>: <message>` errors under status codes 453–456 and 512.
//!
//! The secret is a `[user:NAME] secret`, so it names a principal with its own host names;
//! Basic auth and `REMOTE_USER` are accepted too. A family the request does not name is
//! left alone unless `[dialect:dyndns] delete_missing_family = yes`. `ttl` is written with
//! the address, within the zone's backend's limits (456 outside them); without it the
//! record keeps its TTL.

use std::net::IpAddr;

use url::form_urlencoded;

use super::params::Params;
use super::{Dialect, Parsed, Refusal, Switches};
use crate::address::{check_usable, parse_ip};
use crate::auth::basic;
use crate::auth::{AuthFailure, Claim, Principal};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::core::operation::{Operation, RrType};
use crate::core::{HostRequest, Outcome, Replaced, UpdateRequest, Words};
use crate::secret::Secret;

/// The routes whose first segment after the route is a secret, never to be logged.
pub const SECRET_ROUTES: &[&str] = &["/update-by-path", "/delete-by-path"];

/// Delete the family a request does not name, as the dyndns server v2 does.
pub const DELETE_MISSING_FAMILY: &str = "delete_missing_family";

const QUERY: &str = "/update-by-query";

/// The echo of an update whose request named its zone (`zone_name`), followed by the zone:
/// a name in no configured zone is then answered as v2 does, by the zone.
const ZONE_GIVEN: &str = "zone ";
const DELETE: &str = "/delete-by-path/*/*";

/// The parameters `/update-by-query` takes; any other is refused.
const QUERY_KEYS: &[&str] = &[
    "secret",
    "fqdn",
    "zone_name",
    "record_name",
    "ip_1",
    "ip_2",
    "ipv4",
    "ipv6",
    "ttl",
];

/// The answers' content type; the dyndns server's clients do not read it.
const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The dyndns dialect.
pub struct Dyndns;

/// An answer decided while reading the request: status and `<NAME>: <message>`.
type Refused = (u16, String);

fn parameter_error(message: impl std::fmt::Display) -> Refused {
    (456, format!("PARAMETER_ERROR: {message}"))
}

fn address_error(message: impl std::fmt::Display) -> Refused {
    (454, format!("IP_ADDRESS_ERROR: {message}"))
}

impl Dialect for Dyndns {
    fn name(&self) -> &'static str {
        "dyndns"
    }

    fn switches(&self) -> &'static [&'static str] {
        &[DELETE_MISSING_FAMILY]
    }

    fn routes(&self) -> &'static [&'static str] {
        &[
            QUERY,
            "/update-by-path/*/*",
            "/update-by-path/*/*/*",
            "/update-by-path/*/*/*/*",
            DELETE,
        ]
    }

    fn credentials(&self, request: &CgiRequest, _: &Switches) -> Result<Vec<Claim>, Refusal> {
        if !matches!(request.method.as_str(), "GET" | "HEAD") {
            return Err(Refusal::MethodNotAllowed);
        }
        // Basic auth is accepted beside the secret, as the dyndns server's users may send it.
        let mut claims = basic::claims(
            request.remote_user.as_deref(),
            request.authorization.as_deref(),
            true,
        )
        .map_err(Refusal::Unauthenticated)?;
        let secret = match segments(request) {
            Some((route, found)) if route != QUERY => found.first().map(|s| s.to_string()),
            _ => Params::read(&request.query, None, &[])
                .get("secret")
                .map(str::to_string),
        };
        claims.extend(secret.map(|s| Claim::Secret(Secret::new(s))));
        Ok(claims)
    }

    fn parse(
        &self,
        request: &CgiRequest,
        route: &str,
        principal: &Principal,
        general: &General,
    ) -> Result<Parsed, Refusal> {
        self.parse_switched(request, route, principal, general, &Switches::default())
    }

    fn parse_switched(
        &self,
        request: &CgiRequest,
        route: &str,
        _: &Principal,
        general: &General,
        switches: &Switches,
    ) -> Result<Parsed, Refusal> {
        let found = segments(request).map(|(_, f)| f).unwrap_or_default();
        let read = if route == QUERY {
            by_query(request, general, switches)
        } else if route == DELETE {
            Ok(deletion(found.get(1).map_or("", String::as_str)))
        } else {
            let fqdn = found.get(1).map_or("", String::as_str);
            let given: Vec<&str> = found.iter().skip(2).map(String::as_str).collect();
            addresses(&given, &[], request, general, switches).map(|ops| update(fqdn, ops))
        };
        Ok(read.unwrap_or_else(|(status, line)| Parsed {
            update: UpdateRequest {
                hosts: Vec::new(),
                operations: Ok(Vec::new()),
                ..UpdateRequest::default()
            },
            echo: format!("!{status} {line}"),
        }))
    }

    fn words(&self) -> Words {
        word
    }

    fn render(&self, parsed: &Parsed, outcomes: &[Outcome]) -> CgiResponse {
        self.render_replaced(parsed, outcomes, &[])
    }

    fn render_replaced(
        &self,
        parsed: &Parsed,
        outcomes: &[Outcome],
        replaced: &[Replaced],
    ) -> CgiResponse {
        if let Some(refused) = parsed.echo.strip_prefix('!') {
            let (status, line) = refused.split_once(' ').unwrap_or(("456", refused));
            return answer(status.parse().unwrap_or(456), line);
        }
        // Every request that is not refused above names one host, and the core answers
        // each host; the generic failure covers the impossible rest without a panic.
        let (Some(host), Some(outcome)) = (parsed.update.hosts.first(), outcomes.first()) else {
            return failure(Outcome::ServerSide, "", "");
        };
        let fqdn = match &host.name {
            Ok(name) => format!("{name}."),
            Err(_) => host.text.clone(),
        };
        let operations = parsed.update.operations.as_deref().unwrap_or_default();
        match outcome {
            Outcome::Changed | Outcome::Unchanged if parsed.echo == "delete" => {
                answer(200, &deleted(&fqdn, *outcome == Outcome::Changed))
            }
            Outcome::Changed | Outcome::Unchanged => {
                let replaced = replaced.first().cloned().unwrap_or_default();
                let lines: Vec<String> = [RrType::A, RrType::Aaaa]
                    .iter()
                    .filter_map(|rr| operations.iter().find(|op| op.rr_type() == *rr))
                    .map(|op| line(&fqdn, op, &replaced))
                    .collect();
                answer(200, &lines.join("\n"))
            }
            Outcome::NoZone if parsed.echo.starts_with(ZONE_GIVEN) => answer(
                453,
                &format!(
                    "DNS_NAME_ERROR: Unknown zone \"{}.\".",
                    &parsed.echo[ZONE_GIVEN.len()..]
                ),
            ),
            Outcome::BadTtl => answer(
                456,
                &format!(
                    "PARAMETER_ERROR: The TTL {} is outside what the DNS provider of '{fqdn}' accepts.",
                    parsed.update.ttl.unwrap_or_default()
                ),
            ),
            failed => failure(*failed, &fqdn, &host.text),
        }
    }

    fn refuse(&self, refusal: &Refusal, _realm: &str) -> CgiResponse {
        match refusal {
            Refusal::MethodNotAllowed => answer(
                405,
                "METHODNOTALLOWED: 405 Method Not Allowed: The method is not allowed for the requested URL.",
            )
            .with_header("Allow", "GET, HEAD"),
            Refusal::Unauthenticated(AuthFailure::NoCredential) => {
                answer(456, "PARAMETER_ERROR: missing: Field required (secret).")
            }
            Refusal::Unauthenticated(_) => {
                answer(456, "PARAMETER_ERROR: You specified a wrong secret key.")
            }
            Refusal::ServerError => answer(
                455,
                "CONFIGURATION_ERROR: The server is not set up correctly; its error log says what to fix.",
            ),
            Refusal::NoHostname | Refusal::TooManyHosts { .. } | Refusal::NotOffered => {
                answer(456, "PARAMETER_ERROR: Value \"fqdn\" is required.")
            }
        }
    }

    fn refusal_word(&self, refusal: &Refusal) -> &'static str {
        match refusal {
            Refusal::MethodNotAllowed => "405",
            Refusal::ServerError => "CONFIGURATION_ERROR",
            _ => "PARAMETER_ERROR",
        }
    }
}

/// The word for each outcome, for the admin's log lines.
pub fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Changed => "UPDATED",
        Outcome::Unchanged => "UNCHANGED",
        Outcome::NotFqdn | Outcome::NoZone => "DNS_NAME_ERROR",
        Outcome::NotAllowed | Outcome::Abuse | Outcome::BadTtl => "PARAMETER_ERROR",
        Outcome::BadAddress => "IP_ADDRESS_ERROR",
        Outcome::NoRecord => "CONFIGURATION_ERROR",
        Outcome::RoundRobin
        | Outcome::Alias
        | Outcome::NotPlain
        | Outcome::Rejected
        | Outcome::ServerSide => "DNS_SERVER_ERROR",
    }
}

/// v2's line for one record type: `UPDATED: <fqdn> <type> <old> -> <new>` when the change
/// wrote another value (`None` for no record; round-robin values joined by commas), else
/// `UNCHANGED: <fqdn> <type> <new>` (also when only the TTL was written, as v2 compares
/// values only).
fn line(fqdn: &str, op: &Operation, replaced: &Replaced) -> String {
    let rr = op.rr_type();
    let new = op.address().map_or("None".to_string(), |a| a.to_string());
    match replaced.get(rr.name()) {
        Some(old) if old.len() == 1 && old[0] == new => format!("UNCHANGED: {fqdn} {rr} {new}"),
        Some(old) if old.is_empty() => format!("UPDATED: {fqdn} {rr} None -> {new}"),
        Some(old) => format!("UPDATED: {fqdn} {rr} {} -> {new}", old.join(",")),
        None => format!("UNCHANGED: {fqdn} {rr} {new}"),
    }
}

/// One answer line, LF-terminated.
fn answer(status: u16, line: &str) -> CgiResponse {
    CgiResponse::new(status, CONTENT_TYPE, format!("{line}\n"))
}

/// The answer of a delete.
fn deleted(fqdn: &str, changed: bool) -> String {
    if changed {
        format!("UPDATED: The A and AAAA records of the domain name '{fqdn}' were deleted.")
    } else {
        format!(
            "UNCHANGED: The deletion of the domain name '{fqdn}' was not executed because there were no A or AAAA records."
        )
    }
}

/// The answer for a host that was not changed as asked.
fn failure(outcome: Outcome, fqdn: &str, text: &str) -> CgiResponse {
    let name = word(outcome);
    let (status, message) = match outcome {
        Outcome::NotFqdn => (453, format!("The DNS name '{text}' is invalid.")),
        Outcome::NoZone => (
            453,
            format!(
                "The fully qualified domain name '{fqdn}' could not be split into a record and a zone name."
            ),
        ),
        Outcome::NotAllowed => (
            456,
            format!("The credentials do not allow changing '{fqdn}'."),
        ),
        Outcome::Abuse => (
            456,
            format!("'{fqdn}' was changed too often; try again later."),
        ),
        Outcome::NoRecord => (
            455,
            format!("'{fqdn}' has no such record, and creating records is not enabled."),
        ),
        Outcome::ServerSide => (
            512,
            "The DNS provider could not be reached or refused our credentials; try again later."
                .to_string(),
        ),
        _ => (
            512,
            format!("The DNS provider did not accept the change of '{fqdn}'."),
        ),
    };
    answer(status, &format!("{name}: {message}"))
}

/// The route of the request and what its `*` segments stood for.
fn segments(request: &CgiRequest) -> Option<(&'static str, Vec<String>)> {
    let (_, route) = super::route(&request.script_name, &request.path_info)?;
    let info = if request.path_info == "/" {
        ""
    } else {
        &request.path_info
    };
    let path = format!("{}{info}", request.script_name);
    let found = super::captures(&path, route)?;
    Some((route, found.into_iter().map(str::to_string).collect()))
}

fn update(fqdn: &str, operations: Vec<Operation>) -> Parsed {
    Parsed {
        update: UpdateRequest {
            hosts: vec![host(fqdn)],
            operations: Ok(operations),
            ..UpdateRequest::default()
        },
        echo: "update".to_string(),
    }
}

fn deletion(fqdn: &str) -> Parsed {
    Parsed {
        update: UpdateRequest {
            hosts: vec![host(fqdn)],
            operations: Ok(vec![
                Operation::Delete(RrType::A),
                Operation::Delete(RrType::Aaaa),
            ]),
            ..UpdateRequest::default()
        },
        echo: "delete".to_string(),
    }
}

fn host(text: &str) -> HostRequest {
    HostRequest {
        text: text.to_string(),
        name: text.parse(),
    }
}

/// `/update-by-query`: parameters first (unknown keys, `ttl`), then names, then addresses.
fn by_query(
    request: &CgiRequest,
    general: &General,
    switches: &Switches,
) -> Result<Parsed, Refused> {
    let raw: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((key, _)) = raw.iter().find(|(k, _)| !QUERY_KEYS.contains(&k.as_str())) {
        return Err(parameter_error(format!(
            "extra_forbidden: Extra inputs are not permitted ({key})."
        )));
    }
    let ttl = match raw.iter().find(|(k, _)| k == "ttl") {
        Some((_, text)) => Some(text.trim().parse::<u32>().map_err(|_| {
            parameter_error(format!(
                "int_parsing: Input should be a valid integer, unable to parse string as an integer ({text})."
            ))
        })?),
        None => None,
    };
    let params = Params::read(&request.query, None, &[]);
    let (fqdn, zone) = name(&params)?;
    let given: Vec<&str> = ["ip_1", "ip_2"]
        .iter()
        .filter_map(|k| params.get(k))
        .collect();
    let typed: Vec<(&str, &str)> = [("4", "ipv4"), ("6", "ipv6")]
        .iter()
        .filter_map(|(v, k)| params.get(k).map(|a| (*v, a)))
        .collect();
    let operations = addresses(&given, &typed, request, general, switches)?;
    let mut parsed = update(&fqdn, operations);
    parsed.update.ttl = ttl;
    if let Some(zone) = zone {
        parsed.echo = format!("{ZONE_GIVEN}{zone}");
    }
    Ok(parsed)
}

/// The name: `fqdn`, or `record_name` in `zone_name`, or the apex of `zone_name`; and the
/// zone, when named.
fn name(params: &Params) -> Result<(String, Option<String>), Refused> {
    let (fqdn, zone, record) = (
        params.get("fqdn"),
        params.get("zone_name"),
        params.get("record_name"),
    );
    let trim = |s: &str| s.trim().trim_end_matches('.').to_string();
    match (fqdn, zone, record) {
        (Some(_), Some(_), Some(_)) => Err(parameter_error(
            "Specify \"fqdn\" or \"zone_name\" and \"record_name\".",
        )),
        (Some(fqdn), _, _) => Ok((trim(fqdn), None)),
        (None, Some(zone), Some(record)) => {
            Ok((format!("{}.{}", trim(record), trim(zone)), Some(trim(zone))))
        }
        (None, Some(zone), None) => Ok((trim(zone), Some(trim(zone)))),
        (None, None, _) => Err(parameter_error("Value \"fqdn\" is required.")),
    }
}

/// The operations: the addresses given (`ip_1`/`ip_2` of either family, `ipv4`/`ipv6` of
/// theirs), else the source address; A first. The family not given is left alone, or
/// deleted under `delete_missing_family`.
fn addresses(
    given: &[&str],
    typed: &[(&str, &str)],
    request: &CgiRequest,
    general: &General,
    switches: &Switches,
) -> Result<Vec<Operation>, Refused> {
    let mut found: Vec<IpAddr> = Vec::new();
    let parse = |text: &str| {
        parse_ip(text).map_err(|_| address_error(format!("Invalid IP address '{text}'.")))
    };
    for (version, text) in typed {
        let ip = parse(text)?;
        if (*version == "4") != ip.is_ipv4() {
            return Err(address_error(format!(
                "IP version \"{version}\" does not match."
            )));
        }
        found.push(ip);
    }
    for text in given {
        let ip = parse(text)?;
        if let Some(set) = found.iter().find(|f| f.is_ipv4() == ip.is_ipv4()) {
            let family = if ip.is_ipv4() { "ipv4" } else { "ipv6" };
            return Err(address_error(format!(
                "The attribute \"{family}\" is already set and has the value \"{set}\"."
            )));
        }
        found.push(ip);
    }
    if found.is_empty() {
        let source = request.remote_addr.as_deref().unwrap_or_default();
        found.push(parse(source)?);
    }
    for ip in &found {
        check_usable(*ip, general.allow_private_addresses)
            .map_err(|e| address_error(format!("The IP address '{ip}' is {e}.")))?;
    }
    let mut operations = Vec::new();
    for rr in [RrType::A, RrType::Aaaa] {
        match found.iter().find(|ip| RrType::of(**ip) == rr) {
            Some(ip) => operations.push(Operation::Set(*ip)),
            None if switches.is_on(DELETE_MISSING_FAMILY) => operations.push(Operation::Delete(rr)),
            None => {}
        }
    }
    Ok(operations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general() -> General {
        crate::config::Config::parse_str(
            "[default]\nusername = u\npassword = p\n",
            std::path::Path::new("test.ini"),
        )
        .unwrap()
        .general
    }

    fn request(path: &str, query: &str) -> CgiRequest {
        CgiRequest {
            method: "GET".into(),
            script_name: "/ddns".into(),
            path_info: path.into(),
            query: query.into(),
            remote_addr: Some("84.17.5.1".into()),
            ..CgiRequest::default()
        }
    }

    fn parsed(path: &str, query: &str, switches: &[&'static str]) -> Parsed {
        let req = request(path, query);
        let (_, route) = super::super::route(&req.script_name, &req.path_info).unwrap();
        let principal = crate::auth::web_server_user("alice").unwrap();
        Dyndns
            .parse_switched(
                &req,
                route,
                &principal,
                &general(),
                &Switches::new(switches.to_vec()),
            )
            .unwrap()
    }

    fn described(p: &Parsed) -> String {
        match &p.update.operations {
            Ok(ops) if p.echo.starts_with('!') => p.echo.clone(),
            Ok(ops) => format!(
                "{} {}",
                p.update.hosts[0].text,
                crate::core::operation::describe(ops)
            ),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_every_route() {
        let cases: &[(&str, &str, &[&'static str], &str)] = &[
            (
                "/update-by-path/k/h.example.com",
                "",
                &[],
                "h.example.com A 84.17.5.1",
            ),
            (
                "/update-by-path/k/h.example.com/2a01:4f8::7/84.17.5.7",
                "",
                &[],
                "h.example.com A 84.17.5.7 AAAA 2a01:4f8::7",
            ),
            (
                "/update-by-path/k/h.example.com/84.17.5.7",
                "",
                &[DELETE_MISSING_FAMILY],
                "h.example.com A 84.17.5.7 delete AAAA",
            ),
            (
                "/delete-by-path/k/h.example.com",
                "",
                &[],
                "h.example.com delete A delete AAAA",
            ),
            (
                "/update-by-query",
                "secret=k&zone_name=example.com.&record_name=www&ipv6=2a01:4f8::1&ttl=300",
                &[],
                "www.example.com AAAA 2a01:4f8::1",
            ),
            (
                "/update-by-query",
                "secret=k&zone_name=example.com",
                &[],
                "example.com A 84.17.5.1",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ip_1=&ipv4=84.1.1.1",
                &[],
                "h.example.com A 84.1.1.1",
            ),
            (
                "/update-by-query",
                "secret=k&unknown=x",
                &[],
                "!456 PARAMETER_ERROR: extra_forbidden: Extra inputs are not permitted (unknown).",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ttl=abc",
                &[],
                "!456 PARAMETER_ERROR: int_parsing: Input should be a valid integer, unable to parse string as an integer (abc).",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ttl=",
                &[],
                "!456 PARAMETER_ERROR: int_parsing: Input should be a valid integer, unable to parse string as an integer ().",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=a.b&zone_name=b&record_name=a",
                &[],
                "!456 PARAMETER_ERROR: Specify \"fqdn\" or \"zone_name\" and \"record_name\".",
            ),
            (
                "/update-by-query",
                "secret=k&record_name=a",
                &[],
                "!456 PARAMETER_ERROR: Value \"fqdn\" is required.",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ipv4=1.2.3",
                &[],
                "!454 IP_ADDRESS_ERROR: Invalid IP address '1.2.3'.",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ipv4=2a01:4f8::1",
                &[],
                "!454 IP_ADDRESS_ERROR: IP version \"4\" does not match.",
            ),
            (
                "/update-by-query",
                "secret=k&fqdn=h.example.com&ip_1=84.1.1.1&ip_2=84.1.1.2",
                &[],
                "!454 IP_ADDRESS_ERROR: The attribute \"ipv4\" is already set and has the value \"84.1.1.1\".",
            ),
            (
                "/update-by-path/k/h.example.com/10.0.0.1",
                "",
                &[],
                "!454 IP_ADDRESS_ERROR: The IP address '10.0.0.1' is a private address, not a public one.",
            ),
        ];
        for (path, query, switches, expected) in cases {
            assert_eq!(
                described(&parsed(path, query, switches)),
                *expected,
                "{path}?{query}"
            );
        }
    }

    #[test]
    fn the_secret_comes_from_the_path_or_the_query() {
        let claims = |path: &str, query: &str| {
            Dyndns
                .credentials(&request(path, query), &Switches::default())
                .unwrap()
        };
        assert_eq!(
            claims("/update-by-path/s3cretKey/h.example.com", "secret=other"),
            [Claim::Secret(Secret::new("s3cretKey"))]
        );
        assert_eq!(
            claims("/delete-by-path/s3cretKey/h.example.com", ""),
            [Claim::Secret(Secret::new("s3cretKey"))]
        );
        assert_eq!(
            claims("/update-by-query", "secret=s3cretKey&fqdn=h"),
            [Claim::Secret(Secret::new("s3cretKey"))]
        );
        assert_eq!(claims("/update-by-query", "fqdn=h"), []);
        let mut post = request("/update-by-query", "");
        post.method = "POST".into();
        assert_eq!(
            Dyndns.credentials(&post, &Switches::default()),
            Err(Refusal::MethodNotAllowed)
        );
    }

    #[test]
    fn renders_the_v2_lines() {
        let p = parsed(
            "/update-by-path/k/H.example.com/84.17.5.7",
            "",
            &[DELETE_MISSING_FAMILY],
        );
        let replaced = Replaced {
            v4: Some(vec!["84.17.5.1".into(), "84.17.5.2".into()]),
            v6: None,
        };
        let r = Dyndns.render_replaced(&p, &[Outcome::Changed], &[replaced]);
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                200,
                "UPDATED: h.example.com. A 84.17.5.1,84.17.5.2 -> 84.17.5.7\nUNCHANGED: h.example.com. AAAA None\n"
            )
        );
        let replaced = Replaced {
            v4: Some(Vec::new()),
            v6: Some(vec!["2a01:4f8::7".into()]),
        };
        let r = Dyndns.render_replaced(&p, &[Outcome::Changed], &[replaced]);
        assert_eq!(
            r.body,
            "UPDATED: h.example.com. A None -> 84.17.5.7\nUPDATED: h.example.com. AAAA 2a01:4f8::7 -> None\n"
        );
        let r = Dyndns.render_replaced(&p, &[Outcome::Unchanged], &[Replaced::default()]);
        assert_eq!(
            r.body,
            "UNCHANGED: h.example.com. A 84.17.5.7\nUNCHANGED: h.example.com. AAAA None\n"
        );
        let p = parsed("/delete-by-path/k/h.example.com", "", &[]);
        assert_eq!(
            Dyndns.render(&p, &[Outcome::Unchanged]).body,
            "UNCHANGED: The deletion of the domain name 'h.example.com.' was not executed because there were no A or AAAA records.\n"
        );
        let r = Dyndns.render(&p, &[Outcome::ServerSide]);
        assert_eq!(r.status, 512);
        assert!(r.body.starts_with("DNS_SERVER_ERROR: "));
    }
}
