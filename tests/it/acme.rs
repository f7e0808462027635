//! ACME DNS-01 challenge values through the real CGI process: lego's httpreq bodies on
//! /acme/present and /acme/cleanup, and `txt=` on the NoIP path, against both fakes.

use fake_registrars::gandi::{FakeGandi, Rrset};
use fake_registrars::schlund::FakeSchlund;

use crate::schlund::{config_text, only_changed};
use crate::util::{
    Answer, Request, TempDir, assert_answer, assert_logged, assert_not_logged, get, run, state_text,
};

/// Two values as ACME clients compute them (base64url SHA-256 digests).
pub const V1: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
pub const V2: &str = "B0RrbJLfu0c2ugkBmYaSQxsYhpLeIKuNLTsQ5FmGDvg";

/// The value lego's raw mode stands for with this key authorization.
pub fn of_key_auth(key_auth: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(key_auth))
}

/// A lego httpreq POST by `user` to `route` (`present` or `cleanup`).
pub fn lego(route: &str, user: &str, body: &str) -> Request {
    get("")
        .method("POST")
        .user(Some(user))
        .env("SCRIPT_NAME", &format!("/acme/{route}"))
        .body("application/json", body)
}

pub fn fqdn_body(fqdn: &str, value: &str) -> String {
    format!(r#"{{"fqdn":"{fqdn}","value":"{value}"}}"#)
}

pub fn schlund_setup(tag: &str, extra: &str) -> (TempDir, FakeSchlund, std::path::PathBuf) {
    let dir = TempDir::new(tag);
    let gw = crate::schlund::fake();
    let text = config_text(&gw, &format!("zones = example.co.uk\n{extra}"))
        + "[user:bob]\nallowed_hostnames = *.dyn.example.co.uk\nuse_global = no\n";
    let cfg = dir.write_config("ddns.ini", &text);
    (dir, gw, cfg)
}

pub fn txt_values(gw: &FakeSchlund, name: &str) -> Vec<(String, String)> {
    let zone = gw.zone("example.co.uk").unwrap();
    zone.rr(name, "TXT")
        .into_iter()
        .map(|rr| (rr.value, rr.ttl))
        .collect()
}

pub fn pair(value: &str) -> (String, String) {
    (value.to_string(), "60".to_string())
}

#[test]
fn lego_present_and_cleanup_at_schlund_keep_the_rest_of_the_zone() {
    let (dir, gw, cfg) = schlund_setup("acme-schlund", "");
    let name = "_acme-challenge.home";
    let fqdn = "_acme-challenge.home.example.co.uk.";
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(fqdn, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(txt_values(&gw, name), [pair(V1)]);
    assert_logged(
        &answer,
        &format!("_acme-challenge.home.example.co.uk add TXT {V1} 200 changed"),
    );
    // lego's raw mode: the value is the digest of the key authorization, added beside V1.
    let raw = r#"{"domain":"home.example.co.uk","token":"tok","keyAuth":"tok.thumbprint"}"#;
    let v_raw = of_key_auth("tok.thumbprint");
    let answer = run(&cfg, &lego("present", "alice", raw));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(txt_values(&gw, name), [pair(V1), pair(&v_raw)]);
    only_changed(&gw.zone("example.co.uk").unwrap(), &[(name, "TXT")], false);
    let state = state_text(dir.path(), "_acme-challenge.home.example.co.uk").unwrap();
    assert!(state.starts_with("ddns-cgi-state 4\n"), "{state}");
    assert!(state.contains(&format!("TXT {V1} ")) && state.contains(&format!("TXT {v_raw} ")));
    assert!(
        state
            .lines()
            .all(|l| !l.starts_with("TXT") || l.ends_with(" alice"))
    );

    // Present again: nothing to write.
    let writes = gw.requests().len();
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(fqdn, V1)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    assert_eq!(gw.requests().len(), writes + 1, "one inquiry, no update");

    let answer = run(&cfg, &lego("cleanup", "alice", raw));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(txt_values(&gw, name), [pair(V1)]);
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(fqdn, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_logged(
        &answer,
        &format!("_acme-challenge.home.example.co.uk remove TXT {V1} 200 changed"),
    );
    assert!(txt_values(&gw, name).is_empty());
    only_changed(&gw.zone("example.co.uk").unwrap(), &[], false);
    let state = state_text(dir.path(), "_acme-challenge.home.example.co.uk").unwrap();
    assert_eq!(state, "ddns-cgi-state 3\n");
}

#[test]
fn lego_present_and_cleanup_at_gandi_quote_values_and_keep_other_rrsets() {
    let dir = TempDir::new("acme-gandi");
    let gandi = crate::gandi::fake();
    let cfg = crate::gandi::config(&dir, &gandi, "", "zones = example.com");
    let before = gandi.rrsets("example.com");
    let fqdn = "_acme-challenge.home.example.com";
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(fqdn, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let q = |v: &str| format!("\"{v}\"");
    assert_eq!(
        gandi.rrset("example.com", "_acme-challenge.home", "TXT"),
        Some(Rrset::new("_acme-challenge.home", "TXT", 300, &[&q(V1)]))
    );
    let put: serde_json::Value = serde_json::from_str(&gandi.writes()[0].body).unwrap();
    assert_eq!(
        put,
        serde_json::json!({"rrset_values": [q(V1)], "rrset_ttl": 300})
    );
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(fqdn, V2)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(
        gandi.rrset("example.com", "_acme-challenge.home", "TXT"),
        Some(Rrset::new(
            "_acme-challenge.home",
            "TXT",
            300,
            &[&q(V1), &q(V2)]
        ))
    );
    crate::gandi::untouched(&gandi, &before, &[]);
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(fqdn, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(
        gandi
            .rrset("example.com", "_acme-challenge.home", "TXT")
            .unwrap()
            .values,
        [q(V2)]
    );
    gandi.clear_requests();
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(fqdn, V2)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let calls: Vec<String> = gandi
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let path = "/v5/livedns/domains/example.com/records/_acme-challenge.home/TXT";
    assert_eq!(calls, [format!("GET {path}"), format!("DELETE {path}")]);
    assert_eq!(gandi.rrsets("example.com"), before, "the zone is as it was");
    assert_not_logged(&answer, crate::gandi::TOKEN);
}

#[test]
fn noip_txt_adds_and_an_empty_txt_removes_only_the_users_values() {
    let (dir, gw, cfg) = schlund_setup("acme-noip", "");
    let host = "hostname=_acme-challenge.home.example.co.uk";
    let name = "_acme-challenge.home";
    let answer = run(&cfg, &get(&format!("{host}&txt={V1}")));
    assert_answer(&answer, "200 OK", "good\n");
    // A request with txt changes no address, whatever else it holds.
    let answer = run(&cfg, &get(&format!("{host}&txt={V2}&myip=84.17.5.9")));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(txt_values(&gw, name), [pair(V1), pair(V2)]);
    only_changed(&gw.zone("example.co.uk").unwrap(), &[(name, "TXT")], false);
    let answer = run(&cfg, &get(&format!("{host}&txt={V1}")));
    assert_answer(&answer, "200 OK", "nochg\n");

    // /nic/delete with txt removes that one value.
    let answer = run(&cfg, &get(&format!("{host}&txt={V2}")).path("/nic/delete"));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(txt_values(&gw, name), [pair(V1)]);

    // Carol may update home too, but an empty txt= of hers finds nothing of hers to remove.
    let answer = run(&cfg, &get(&format!("{host}&txt=")).user(Some("carol")));
    assert_answer(&answer, "200 OK", "nochg\n");
    assert_logged(&answer, "TXT (nothing of this user's to remove) nochg");
    assert_eq!(txt_values(&gw, name), [pair(V1)]);
    let answer = run(
        &cfg,
        &get(&format!("{host}&txt={V1}"))
            .user(Some("carol"))
            .path("/nic/delete"),
    );
    assert_answer(&answer, "200 OK", "nochg\n");
    assert_logged(
        &answer,
        "was not set through ddns-cgi for this user; left alone",
    );
    assert_eq!(txt_values(&gw, name), [pair(V1)]);

    let answer = run(&cfg, &get(&format!("{host}&txt=")));
    assert_answer(&answer, "200 OK", "good\n");
    assert!(txt_values(&gw, name).is_empty());
    only_changed(&gw.zone("example.co.uk").unwrap(), &[], false);
    assert!(state_text(dir.path(), "home.example.co.uk").is_none());
}

/// Moves every recorded value of a state file back by `secs`.
pub fn age_state(dir: &TempDir, host: &str, secs: u64) {
    let path = dir.path().join("state/hosts").join(host);
    let text = std::fs::read_to_string(&path).unwrap();
    let aged: Vec<String> = text
        .lines()
        .map(|line| match line.split(' ').collect::<Vec<_>>()[..] {
            ["TXT", value, at, by] => {
                let at: u64 = at.parse().unwrap();
                format!("TXT {value} {} {by}", at - secs)
            }
            _ => line.to_string(),
        })
        .collect();
    std::fs::write(&path, aged.join("\n") + "\n").unwrap();
}

#[test]
fn values_older_than_the_age_go_on_the_next_request_for_the_name() {
    let (dir, gw, cfg) = schlund_setup("acme-stale", "acme_txt_max_age = 600");
    let host = "_acme-challenge.home.example.co.uk";
    let name = "_acme-challenge.home";
    let answer = run(&cfg, &get(&format!("hostname={host}&txt={V1}")));
    assert_answer(&answer, "200 OK", "good\n");
    age_state(&dir, host, 599);
    // Not stale yet; a value carol adds is kept beside it.
    let answer = run(
        &cfg,
        &get(&format!("hostname={host}&txt={V2}")).user(Some("carol")),
    );
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(txt_values(&gw, name), [pair(V1), pair(V2)]);
    age_state(&dir, host, 2);
    // Alice's value is older than 600 s now: carol's next request removes it.
    let answer = run(
        &cfg,
        &lego("present", "carol", &fqdn_body(host, V2)).user(Some("carol")),
    );
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_logged(
        &answer,
        &format!("{host} add TXT {V2} remove TXT {V1} 200 changed"),
    );
    assert_eq!(txt_values(&gw, name), [pair(V2)]);
    let state = state_text(dir.path(), host).unwrap();
    assert!(!state.contains(V1) && state.contains(V2), "{state}");
}

#[test]
fn wildcards_cover_the_challenges_below_and_at_their_base() {
    let (_dir, gw, cfg) = schlund_setup("acme-wildcard", "");
    for (fqdn, expected) in [
        ("_acme-challenge.a.dyn.example.co.uk", "200 changed\n"),
        ("_acme-challenge.dyn.example.co.uk", "200 changed\n"),
        ("_acme-challenge.example.co.uk", "403 name not allowed\n"),
        (
            "_acme-challenge.home.example.co.uk",
            "403 name not allowed\n",
        ),
    ] {
        let answer = run(&cfg, &lego("present", "bob", &fqdn_body(fqdn, V1)));
        let status = if expected.starts_with("200") {
            "200 OK"
        } else {
            "403 Forbidden"
        };
        assert_answer(&answer, status, expected);
    }
    assert_eq!(txt_values(&gw, "_acme-challenge.a.dyn"), [pair(V1)]);
    assert_eq!(txt_values(&gw, "_acme-challenge.dyn"), [pair(V1)]);
    assert!(txt_values(&gw, "_acme-challenge").is_empty());
}

fn refused(answer: &Answer, status: &str, body: &str, log: &str) {
    assert_answer(answer, status, body);
    assert_logged(answer, log);
}

#[test]
fn every_refusal_is_clear_and_changes_nothing() {
    let (_dir, gw, cfg) = schlund_setup("acme-refusals", "");
    let before = gw.zone("example.co.uk").unwrap();
    let home = "_acme-challenge.home.example.co.uk";
    // A name the user may not update.
    let answer = run(&cfg, &lego("present", "bob", &fqdn_body(home, V1)));
    refused(
        &answer,
        "403 Forbidden",
        "403 name not allowed\n",
        &format!("user bob may not set ACME challenge values at {home}"),
    );
    let answer = run(
        &cfg,
        &get(&format!("hostname={home}&txt={V1}")).user(Some("bob")),
    );
    refused(
        &answer,
        "200 OK",
        "nohost\n",
        "may not set ACME challenge values",
    );
    // Not a challenge name: no other TXT name is reachable.
    for fqdn in [
        "home.example.co.uk",
        "_dmarc.home.example.co.uk",
        "note.example.co.uk",
    ] {
        let answer = run(&cfg, &get(&format!("hostname={fqdn}&txt={V1}")));
        refused(
            &answer,
            "200 OK",
            "nohost\n",
            "only at _acme-challenge.NAME",
        );
        let answer = run(&cfg, &lego("present", "alice", &fqdn_body(fqdn, V1)));
        assert_answer(&answer, "403 Forbidden", "403 name not allowed\n");
    }
    // A value that is not a challenge value: no arbitrary text.
    for value in ["v=spf1 -all", "short", &format!("{V1}=")] {
        let body = serde_json::json!({"fqdn": home, "value": value}).to_string();
        let answer = run(&cfg, &lego("present", "alice", &body));
        refused(
            &answer,
            "400 Bad Request",
            "400 not a challenge value\n",
            "unusable value (a TXT value that is not an ACME challenge value",
        );
        let q = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
        let answer = run(&cfg, &get(&format!("hostname={home}&txt={q}")));
        assert_answer(&answer, "200 OK", "badip\n");
    }
    // Other shapes and methods.
    for body in ["", "{}", "[1]", r#"{"type":"A","value":"x"}"#] {
        let answer = run(&cfg, &lego("present", "alice", body));
        assert_answer(&answer, "400 Bad Request", "400 no fqdn or domain\n");
    }
    let body = format!(r#"{{"fqdn":"a..b","value":"{V1}"}}"#);
    let answer = run(&cfg, &lego("present", "alice", &body));
    assert_answer(&answer, "400 Bad Request", "400 not a host name\n");
    let answer = run(&cfg, &lego("present", "alice", "").method("GET"));
    assert_answer(
        &answer,
        "405 Method Not Allowed",
        "405 method not allowed\n",
    );
    assert_eq!(answer.header("Allow"), Some("POST"));
    // No credentials.
    let answer = run(
        &cfg,
        &lego("present", "alice", &fqdn_body(home, V1)).user(None),
    );
    assert_answer(&answer, "401 Unauthorized", "401 unauthorized\n");
    assert!(answer.header("WWW-Authenticate").is_some());
    assert_eq!(gw.zone("example.co.uk").unwrap(), before);
    assert!(
        gw.requests()
            .iter()
            .all(|r| !r.task_code.starts_with("0202")),
        "no refusal wrote the zone"
    );
}

/// The gateway's fake and lego's cleanup of a value another user set.
#[test]
fn cleanup_of_another_users_value_is_left_alone() {
    let (_dir, gw, cfg) = schlund_setup("acme-others", "");
    let home = "_acme-challenge.home.example.co.uk";
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(home, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let answer = run(&cfg, &lego("cleanup", "carol", &fqdn_body(home, V1)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    assert_logged(&answer, "left alone");
    assert_eq!(txt_values(&gw, "_acme-challenge.home"), [pair(V1)]);
    // A value put there by hand is never removed through ddns-cgi.
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(home, V2)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
}

/// The Basic header ddns-cgi checks itself, when `[dialect:acme]` turns it on.
#[test]
fn lego_credentials_in_the_header_are_checked_by_ddns_cgi() {
    let dir = TempDir::new("acme-header");
    let gandi: FakeGandi = crate::gandi::fake();
    let htpasswd = crate::credentials::htpasswd_file(dir.path());
    let cfg = crate::gandi::config(
        &dir,
        &gandi,
        &format!("htpasswd = {}", htpasswd.display()),
        "zones = example.com\n[dialect:acme]\nauthorization_header = yes",
    );
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            crate::webserver::base64(format!("{user}:{password}").as_bytes())
        )
    };
    let body = fqdn_body("_acme-challenge.home.example.com", V1);
    let answer = run(
        &cfg,
        &lego("present", "x", &body).user(None).env(
            "HTTP_AUTHORIZATION",
            &basic("sha-user", crate::credentials::SHA_PASSWORD),
        ),
    );
    assert_answer(&answer, "200 OK", "200 changed\n");
    let answer = run(
        &cfg,
        &lego("present", "x", &body)
            .user(None)
            .from("84.17.9.9")
            .env("HTTP_AUTHORIZATION", &basic("sha-user", "wrong")),
    );
    assert_answer(&answer, "401 Unauthorized", "401 unauthorized\n");
    assert_not_logged(&answer, crate::credentials::SHA_PASSWORD);
}

/// BIND's policy in the DNS UPDATE tests of challenge values.
pub const TXT_POLICY: &str = "grant ddns-key. zonesub A AAAA TXT;";

/// DNS UPDATE against a real BIND9: each value is one record added or deleted, the
/// other TXT values and the rest of the zone stay, and the record is gone with its last
/// value.
#[test]
fn dns_update_adds_and_deletes_one_record_per_value() {
    use crate::nameserver::{NameServer, config};
    let dir = TempDir::new("acme-rfc2136");
    let ns = NameServer::with_zone(
        crate::nameserver::Flavour::Bind,
        TXT_POLICY,
        "hmac-sha256",
        "_acme-challenge.home IN TXT \"by hand\"\n",
    );
    let cfg = config(&dir, &ns, "", "");
    let before = ns.zone();
    let name = "_acme-challenge.home.example.com";
    let quoted = |v: &str| format!("\"{v}\"");
    // Each UPDATE that changes the zone raises its serial by one.
    let serial = ns.serial();
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(name, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_not_logged(&answer, &ns.secret);
    assert_eq!(ns.serial(), serial + 1, "one UPDATE for one present");
    let answer = run(&cfg, &get(&format!("hostname={name}&txt={V2}")));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(ns.serial(), serial + 2);
    let mut expected = vec![quoted("by hand"), quoted(V1), quoted(V2)];
    expected.sort();
    assert_eq!(ns.values(name, "TXT"), expected);
    assert!(
        ns.with_ttl(name, "TXT")
            .iter()
            .all(|l| l.starts_with("60 "))
    );
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(name, V1)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    assert_logged(&answer, "| 1 registrar calls |");
    assert_eq!(
        ns.serial(),
        serial + 2,
        "no UPDATE for a value already there"
    );
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(name, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(ns.serial(), serial + 3, "one UPDATE for one cleanup");
    let answer = run(&cfg, &get(&format!("hostname={name}&txt=")));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(ns.serial(), serial + 4);
    assert_eq!(ns.values(name, "TXT"), [quoted("by hand")]);
    let strip = |zone: Vec<String>| -> Vec<String> {
        zone.into_iter()
            .filter(|l| !l.starts_with(&format!("{name}. ")))
            .collect()
    };
    assert_eq!(strip(ns.zone()), strip(before.clone()));

    // Without a value left, the name holds no TXT record.
    let dir2 = TempDir::new("acme-rfc2136-empty");
    let ns2 = NameServer::bind(TXT_POLICY);
    let cfg2 = config(&dir2, &ns2, "", "");
    let answer = run(&cfg2, &lego("present", "alice", &fqdn_body(name, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(ns2.values(name, "TXT"), [quoted(V1)]);
    let answer = run(&cfg2, &lego("cleanup", "alice", &fqdn_body(name, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert!(ns2.values(name, "TXT").is_empty());
    assert!(ns2.dig(&[name, "ANY", "+short"]).trim().is_empty());
}
