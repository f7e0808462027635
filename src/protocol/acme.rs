//! lego's `httpreq` DNS provider: `POST <endpoint>/present` and `POST <endpoint>/cleanup`
//! with a JSON body, `{"fqdn","value"}` or, in its raw mode, `{"domain","token","keyAuth"}`
//! (the value is then the base64url SHA-256 of `keyAuth`). lego takes any status below 400
//! as success, so each answer is a status with a one-line body for whoever reads it.
//!
//! The endpoint is a path, `/acme`, because lego drops an endpoint's query string. Basic
//! auth is the web server's (`REMOTE_USER`); with `authorization_header = yes` in
//! `[dialect:acme]`, ddns-cgi checks a passed-on `Authorization: Basic` header itself.

use serde::Deserialize;

use super::{Dialect, Parsed, Refusal, Switches};
use crate::auth::basic;
use crate::auth::{Claim, Principal};
use crate::cgi::{CgiRequest, CgiResponse};
use crate::config::General;
use crate::core::operation::Operation;
use crate::core::txt::{self, TxtValue};
use crate::core::{HostRequest, Outcome, UpdateRequest, Words};

/// Check an `Authorization: Basic` header the web server passes on.
pub const AUTHORIZATION_HEADER: &str = "authorization_header";

/// The route that adds a value.
pub const PRESENT: &str = "/acme/present";
/// The route that removes one.
pub const CLEANUP: &str = "/acme/cleanup";

/// The lego httpreq dialect.
pub struct Acme;

/// Both of lego's bodies; which fields are there says which mode sent it.
#[derive(Debug, Deserialize)]
struct Body {
    fqdn: Option<String>,
    value: Option<String>,
    domain: Option<String>,
    #[serde(rename = "keyAuth")]
    key_auth: Option<String>,
}

impl Dialect for Acme {
    fn name(&self) -> &'static str {
        "acme"
    }

    fn switches(&self) -> &'static [&'static str] {
        &[AUTHORIZATION_HEADER]
    }

    fn routes(&self) -> &'static [&'static str] {
        &[PRESENT, CLEANUP]
    }

    fn credentials(
        &self,
        request: &CgiRequest,
        switches: &Switches,
    ) -> Result<Vec<Claim>, Refusal> {
        if request.method != "POST" {
            return Err(Refusal::MethodNotAllowed);
        }
        basic::claims(
            request.remote_user.as_deref(),
            request.authorization.as_deref(),
            switches.is_on(AUTHORIZATION_HEADER),
        )
        .map_err(Refusal::Unauthenticated)
    }

    fn parse(
        &self,
        request: &CgiRequest,
        route: &str,
        _principal: &Principal,
        _general: &General,
    ) -> Result<Parsed, Refusal> {
        parse(&request.body, route == PRESENT)
    }

    fn words(&self) -> Words {
        word
    }

    fn render(&self, _parsed: &Parsed, outcomes: &[Outcome]) -> CgiResponse {
        let outcome = outcomes.first().copied().unwrap_or(Outcome::ServerSide);
        CgiResponse::text(status(outcome), format!("{}\n", word(outcome)))
    }

    fn refuse(&self, refusal: &Refusal, realm: &str) -> CgiResponse {
        let body = format!("{}\n", self.refusal_word(refusal));
        match refusal {
            Refusal::Unauthenticated(_) => CgiResponse::text(401, body)
                .with_header("WWW-Authenticate", &format!("Basic realm=\"{realm}\"")),
            Refusal::MethodNotAllowed => CgiResponse::text(405, body).with_header("Allow", "POST"),
            Refusal::ServerError => CgiResponse::text(503, body),
            Refusal::NoHostname | Refusal::TooManyHosts { .. } | Refusal::NotOffered => {
                CgiResponse::text(400, body)
            }
        }
    }

    fn refusal_word(&self, refusal: &Refusal) -> &'static str {
        match refusal {
            Refusal::Unauthenticated(_) => "401 unauthorized",
            Refusal::MethodNotAllowed => "405 method not allowed",
            Refusal::ServerError => "503 server error",
            Refusal::NoHostname => "400 no fqdn or domain",
            Refusal::TooManyHosts { .. } | Refusal::NotOffered => "400 bad request",
        }
    }
}

/// The status for an outcome.
fn status(outcome: Outcome) -> u16 {
    match outcome {
        Outcome::Changed | Outcome::Unchanged => 200,
        Outcome::NotFqdn | Outcome::BadAddress | Outcome::BadTtl => 400,
        Outcome::NotAllowed => 403,
        // A CNAME at `_acme-challenge` delegates the challenge elsewhere: nothing to write.
        Outcome::NoZone | Outcome::NoRecord | Outcome::Alias => 404,
        Outcome::Abuse => 429,
        Outcome::RoundRobin | Outcome::NotPlain | Outcome::Rejected => 502,
        Outcome::ServerSide => 503,
    }
}

/// The word for each outcome, in the answer's body and the admin's log lines.
pub fn word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Changed => "200 changed",
        Outcome::Unchanged => "200 unchanged",
        Outcome::NotFqdn => "400 not a host name",
        Outcome::BadAddress => "400 not a challenge value",
        Outcome::BadTtl => "400 ttl",
        Outcome::NotAllowed => "403 name not allowed",
        Outcome::NoZone => "404 no zone",
        Outcome::NoRecord => "404 no record",
        Outcome::Alias => "404 CNAME",
        Outcome::Abuse => "429 too many values or changes at this name; clean up or wait",
        Outcome::RoundRobin | Outcome::NotPlain | Outcome::Rejected => "502 registrar refused",
        Outcome::ServerSide => "503 server error",
    }
}

/// The challenge name and value of either body.
fn parse(body: &[u8], present: bool) -> Result<Parsed, Refusal> {
    let body: Body = serde_json::from_slice(body).map_err(|_| Refusal::NoHostname)?;
    let (name, value) = match (body.fqdn, body.domain) {
        (Some(fqdn), _) => {
            let value = body.value.as_deref().unwrap_or_default();
            (fqdn, TxtValue::parse(value))
        }
        (None, Some(domain)) => {
            let value = match body.key_auth {
                Some(key_auth) => Ok(TxtValue::of_key_authorization(&key_auth)),
                None => TxtValue::parse(""),
            };
            (txt::challenge_name(&domain), value)
        }
        (None, None) => return Err(Refusal::NoHostname),
    };
    let operations = value.map(|value| match present {
        true => vec![Operation::TxtAdd(value)],
        false => vec![Operation::TxtRemove(value)],
    });
    Ok(Parsed {
        update: UpdateRequest {
            hosts: vec![HostRequest {
                name: name.parse(),
                text: name,
            }],
            operations,
            ..UpdateRequest::default()
        },
        echo: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::AddressError;

    const A: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

    fn parsed(body: &str, present: bool) -> Result<(String, Vec<Operation>), Refusal> {
        let p = parse(body.as_bytes(), present)?;
        let host = p.update.hosts[0].name.clone().unwrap().to_string();
        Ok((host, p.update.operations.map_err(|_| Refusal::NotOffered)?))
    }

    #[test]
    fn both_bodies_name_the_challenge() {
        let value = TxtValue::parse(A).unwrap();
        let body = format!(r#"{{"fqdn":"_acme-challenge.Home.example.com.","value":"{A}"}}"#);
        assert_eq!(
            parsed(&body, true),
            Ok((
                "_acme-challenge.home.example.com".into(),
                vec![Operation::TxtAdd(value.clone())]
            ))
        );
        assert_eq!(
            parsed(&body, false).unwrap().1,
            vec![Operation::TxtRemove(value)]
        );
        let raw = r#"{"domain":"*.dyn.example.org","token":"t","keyAuth":"t.thumb"}"#;
        let (host, ops) = parsed(raw, true).unwrap();
        assert_eq!(host, "_acme-challenge.dyn.example.org");
        assert_eq!(
            ops,
            vec![Operation::TxtAdd(TxtValue::of_key_authorization("t.thumb"))]
        );
    }

    #[test]
    fn other_bodies_are_refused() {
        for body in ["", "[]", "{}", r#"{"value":"x"}"#, "not json"] {
            assert_eq!(
                parse(body.as_bytes(), true).unwrap_err(),
                Refusal::NoHostname
            );
        }
        let bad = parse(
            br#"{"fqdn":"_acme-challenge.a.example.com","value":"v=spf1"}"#,
            true,
        );
        assert_eq!(bad.unwrap().update.operations, Err(AddressError::TxtValue));
        let none = parse(br#"{"domain":"a.example.com"}"#, true);
        assert_eq!(none.unwrap().update.operations, Err(AddressError::TxtValue));
    }
}
