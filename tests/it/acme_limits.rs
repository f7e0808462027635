//! The limits of challenge values through the real CGI process: how many a name may hold,
//! values put there by hand, stale values at the default age, and the `txt=` edge cases.

use fake_registrars::gandi::{FakeGandi, Rrset};

use crate::acme::{
    V1, V2, age_state, fqdn_body, lego, of_key_auth, pair, schlund_setup, txt_values,
};
use crate::util::{TempDir, assert_answer, assert_logged, get, run, state_text};

/// The lego answer for a request past a cap.
const TOO_MANY: &str = "429 too many values or changes at this name; clean up or wait\n";

/// A distinct challenge value for each number.
fn nth(n: usize) -> String {
    of_key_auth(&format!("key-authorization-{n}"))
}

fn gandi_setup(tag: &str) -> (TempDir, FakeGandi, std::path::PathBuf) {
    let dir = TempDir::new(tag);
    let gandi = crate::gandi::fake();
    let cfg = crate::gandi::config(&dir, &gandi, "", "zones = example.com");
    (dir, gandi, cfg)
}

fn gandi_values(gandi: &FakeGandi, name: &str) -> Vec<String> {
    gandi
        .rrset("example.com", name, "TXT")
        .map(|r| r.values)
        .unwrap_or_default()
}

fn q(v: &str) -> String {
    format!("\"{v}\"")
}

/// The TXT lines of a host's state file.
fn recorded(dir: &TempDir, host: &str) -> Vec<String> {
    state_text(dir.path(), host)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("TXT "))
        .map(String::from)
        .collect()
}

#[test]
fn a_user_holds_at_most_eight_values_per_name_and_cleanup_works_at_the_cap() {
    let (dir, gandi, cfg) = gandi_setup("acme-cap-user");
    let host = "_acme-challenge.home.example.com";
    let name = "_acme-challenge.home";
    for n in 0..8 {
        let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, &nth(n))));
        assert_answer(&answer, "200 OK", "200 changed\n");
    }
    let writes = gandi.writes().len();
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, &nth(8))));
    assert_answer(&answer, "429 Too Many Requests", TOO_MANY);
    assert_logged(
        &answer,
        &format!("user alice: {host} would hold more than 8 challenge values set by this user"),
    );
    assert_logged(&answer, "an empty txt= for this name");
    let answer = run(&cfg, &get(&format!("hostname={host}&txt={}", nth(8))));
    assert_answer(&answer, "200 OK", "abuse\n");
    assert_eq!(gandi.writes().len(), writes, "nothing written past the cap");
    let expected: Vec<String> = (0..8).map(|n| q(&nth(n))).collect();
    assert_eq!(gandi_values(&gandi, name), expected);
    assert_eq!(recorded(&dir, host).len(), 8);
    // Presenting one she holds is no new value; another user has his own allowance.
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, &nth(0))));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    let answer = run(&cfg, &lego("present", "carol", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    // A cleanup works at the cap, and makes room for one more.
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(host, &nth(3))));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, &nth(8))));
    assert_answer(&answer, "200 OK", "200 changed\n");
    // An empty txt= removes all of hers at once, and carol's value stays.
    let answer = run(&cfg, &get(&format!("hostname={host}&txt=")));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(gandi_values(&gandi, name), [q(V1)]);
    assert_eq!(recorded(&dir, host).len(), 1);
}

#[test]
fn a_name_holds_at_most_thirty_two_values_counting_those_set_by_hand() {
    let (dir, gw, cfg) = schlund_setup("acme-cap-name", "");
    let host = "_acme-challenge.home.example.co.uk";
    let name = "_acme-challenge.home";
    let xml = gw.zone("example.co.uk").unwrap().to_xml();
    let by_hand: String = (0..31)
        .map(|n| format!("<rr><name>{name}</name><type>TXT</type><value>by hand {n}</value><ttl>600</ttl></rr>"))
        .collect();
    gw.put_zone(&xml.replacen("<rr>", &format!("{by_hand}<rr>"), 1));
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(txt_values(&gw, name).len(), 32);
    gw.clear_requests();
    let answer = run(&cfg, &lego("present", "carol", &fqdn_body(host, V2)));
    assert_answer(&answer, "429 Too Many Requests", TOO_MANY);
    assert_logged(
        &answer,
        &format!(
            "user carol: {host} would hold more than 32 TXT values in all (counting those not set through ddns-cgi)"
        ),
    );
    let answer = run(
        &cfg,
        &get(&format!("hostname={host}&txt={V2}")).user(Some("carol")),
    );
    assert_answer(&answer, "200 OK", "abuse\n");
    assert!(
        gw.requests()
            .iter()
            .all(|r| !r.task_code.starts_with("0202")),
        "no update past the cap"
    );
    assert!(!txt_values(&gw, name).contains(&pair(V2)));
    assert!(recorded(&dir, host).iter().all(|l| !l.contains(V2)));
    // The cleanup still works at the cap; then there is room again.
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(txt_values(&gw, name).len(), 31);
    let answer = run(&cfg, &lego("present", "carol", &fqdn_body(host, V2)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let values = txt_values(&gw, name);
    assert_eq!((values.len(), values.last()), (32, Some(&pair(V2))));
}

#[test]
fn a_value_put_there_by_hand_is_not_taken_over_by_presenting_it() {
    let (dir, gandi, cfg) = gandi_setup("acme-by-hand");
    let host = "_acme-challenge.home.example.com";
    let name = "_acme-challenge.home";
    gandi.put_rrset("example.com", Rrset::new(name, "TXT", 1800, &[&q(V1)]));
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    assert_logged(
        &answer,
        &format!(
            "user alice: TXT value {V1} at {host} was already there, not set through ddns-cgi"
        ),
    );
    assert!(recorded(&dir, host).is_empty(), "no entry for alice");
    let answer = run(&cfg, &get(&format!("hostname={host}&txt={V1}")));
    assert_answer(&answer, "200 OK", "nochg\n");
    let answer = run(&cfg, &lego("cleanup", "alice", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 unchanged\n");
    let answer = run(&cfg, &get(&format!("hostname={host}&txt=")));
    assert_answer(&answer, "200 OK", "nochg\n");
    assert_eq!(
        gandi.rrset("example.com", name, "TXT"),
        Some(Rrset::new(name, "TXT", 1800, &[&q(V1)])),
        "the value by hand is still there"
    );
    assert!(gandi.writes().is_empty());
    // A value alice added herself is hers to remove, the one by hand stays.
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, V2)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    let answer = run(&cfg, &get(&format!("hostname={host}&txt=")));
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(gandi_values(&gandi, name), [q(V1)]);
}

/// Stale values at Gandi with the default age: a state older than an hour is cleaned by
/// the next request for the name, whoever sends it.
#[test]
fn values_older_than_an_hour_go_at_gandi_by_default() {
    let (dir, gandi, cfg) = gandi_setup("acme-stale-gandi");
    let host = "_acme-challenge.home.example.com";
    let name = "_acme-challenge.home";
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, V1)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    age_state(&dir, host, 3590);
    let answer = run(&cfg, &lego("present", "carol", &fqdn_body(host, V2)));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(
        gandi_values(&gandi, name),
        [q(V1), q(V2)],
        "not an hour yet"
    );
    age_state(&dir, host, 11);
    let answer = run(
        &cfg,
        &get(&format!("hostname={host}&txt={V2}")).user(Some("carol")),
    );
    assert_answer(&answer, "200 OK", "good\n");
    assert_logged(
        &answer,
        &format!("{host} add TXT {V2} remove TXT {V1} good"),
    );
    assert_eq!(gandi_values(&gandi, name), [q(V2)]);
    let state = state_text(dir.path(), host).unwrap();
    assert!(!state.contains(V1) && state.contains(V2), "{state}");
}

#[test]
fn lego_raw_mode_at_gandi() {
    let (dir, gandi, cfg) = gandi_setup("acme-raw-gandi");
    let raw = r#"{"domain":"*.home.example.com","token":"tok","keyAuth":"tok.thumbprint"}"#;
    let value = of_key_auth("tok.thumbprint");
    let answer = run(&cfg, &lego("present", "alice", raw));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(gandi_values(&gandi, "_acme-challenge.home"), [q(&value)]);
    assert_eq!(recorded(&dir, "_acme-challenge.home.example.com").len(), 1);
    let answer = run(&cfg, &lego("cleanup", "alice", raw));
    assert_answer(&answer, "200 OK", "200 changed\n");
    assert_eq!(
        gandi.rrset("example.com", "_acme-challenge.home", "TXT"),
        None
    );
}

#[test]
fn txt_edge_cases_through_the_noip_path() {
    let (_dir, gandi, cfg) = gandi_setup("acme-txt-edges");
    // An empty txt= on another name is absent: a plain address update.
    let answer = run(&cfg, &get("hostname=home.example.com&txt=&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A").unwrap().values,
        ["84.17.5.9"]
    );
    // Several challenge names: each gets the value, one line per name.
    let hosts = "_acme-challenge.a.example.com,_acme-challenge.b.example.com";
    let answer = run(&cfg, &get(&format!("hostname={hosts}&txt={V1}")));
    assert_answer(&answer, "200 OK", "good\ngood\n");
    for name in ["_acme-challenge.a", "_acme-challenge.b"] {
        assert_eq!(gandi_values(&gandi, name), [q(V1)]);
    }
    let answer = run(&cfg, &get(&format!("hostname={hosts}&txt=")));
    assert_answer(&answer, "200 OK", "good\ngood\n");
    assert_eq!(gandi.rrset("example.com", "_acme-challenge.a", "TXT"), None);
    assert_eq!(gandi.rrset("example.com", "_acme-challenge.b", "TXT"), None);
    // 43 characters of the standard alphabet are no challenge value.
    let standard = format!("+/{}", &V1[2..]);
    assert_eq!(standard.len(), 43);
    let writes = gandi.writes().len();
    let host = "_acme-challenge.home.example.com";
    let q_std =
        percent_encoding::utf8_percent_encode(&standard, percent_encoding::NON_ALPHANUMERIC);
    let answer = run(&cfg, &get(&format!("hostname={host}&txt={q_std}")));
    assert_answer(&answer, "200 OK", "badip\n");
    let answer = run(&cfg, &lego("present", "alice", &fqdn_body(host, &standard)));
    assert_answer(&answer, "400 Bad Request", "400 not a challenge value\n");
    assert_eq!(gandi.writes().len(), writes);
}
