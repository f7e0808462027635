//! Gandi LiveDNS through the real CGI process against the strict fake.

use fake_registrars::gandi::{FakeGandi, GandiFault, Rrset, fixture_zone};

use crate::util::{TempDir, assert_answer, assert_logged, assert_not_logged, get, run, state_text};

pub const TOKEN: &str = "pat_0123456789abcdef0123456789abcdef01234567";

pub fn fake() -> FakeGandi {
    FakeGandi::start(&[TOKEN], vec![fixture_zone()])
}

pub fn config(
    dir: &TempDir,
    gandi: &FakeGandi,
    extra_default: &str,
    extra_gandi: &str,
) -> std::path::PathBuf {
    dir.write_config("ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com example.com\n{extra_default}\n[gandi]\ntoken = {TOKEN}\nurl = {}\n{extra_gandi}\n",
            gandi.base_url()
        ),
    )
}

pub fn untouched(gandi: &FakeGandi, before: &[Rrset], except: &[(&str, &str)]) {
    let after = gandi.rrsets("example.com");
    for rrset in before {
        if except
            .iter()
            .any(|(n, t)| *n == rrset.name && *t == rrset.rr_type)
        {
            continue;
        }
        assert!(after.contains(rrset), "{rrset:?} changed: {after:?}");
    }
}

#[test]
fn good_then_nochg_keeps_the_ttl_and_everything_else() {
    let dir = TempDir::new("gandi-good");
    let gandi = fake();
    let cfg = config(&dir, &gandi, "", "zones = example.com");
    let before = gandi.rrsets("example.com");

    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.9"]))
    );
    let calls: Vec<String> = gandi
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /v5/livedns/domains/example.com/records/home/A",
            "PUT /v5/livedns/domains/example.com/records/home/A"
        ]
    );
    let put = &gandi.writes()[0];
    let body: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"rrset_values": ["84.17.5.9"], "rrset_ttl": 300})
    );
    assert_eq!(put.auth_scheme.as_deref(), Some("Bearer"));
    untouched(&gandi, &before, &[("home", "A")]);

    // A repeat is answered from local state, without asking Gandi.
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9\n");
    assert!(gandi.requests().is_empty());
    assert_not_logged(&answer, TOKEN);

    // Without the cache, Gandi is read but not written.
    let cfg = config(&dir, &gandi, "cache_seconds = 0", "zones = example.com");
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9\n");
    assert_eq!(gandi.requests().len(), 1);
    assert!(gandi.writes().is_empty());
}

#[test]
fn apex_keeps_its_own_ttl_and_aaaa_leaves_a_alone() {
    let dir = TempDir::new("gandi-apex");
    let gandi = fake();
    let cfg = config(&dir, &gandi, "", "zones = example.com");
    let before = gandi.rrsets("example.com");
    let answer = run(&cfg, &get("hostname=example.com&myip=84.17.5.10"));
    assert_answer(&answer, "200 OK", "good 84.17.5.10\n");
    assert_eq!(
        gandi.rrset("example.com", "@", "A"),
        Some(Rrset::new("@", "A", 600, &["84.17.5.10"]))
    );
    assert!(gandi.writes()[0].path.ends_with("/records/%40/A"));

    let answer = run(&cfg, &get("hostname=home.example.com&myipv6=2a01:4f8::9"));
    assert_answer(&answer, "200 OK", "good 2a01:4f8::9\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new("home", "AAAA", 300, &["2a01:4f8::9"]))
    );
    untouched(&gandi, &before, &[("@", "A"), ("home", "AAAA")]);
}

#[test]
fn configured_ttl_is_clamped_and_logged() {
    let dir = TempDir::new("gandi-ttl");
    let gandi = fake();
    let cfg = config(&dir, &gandi, "", "zones = example.com\nttl = 60");
    let answer = run(&cfg, &get("hostname=a.b.example.com&myip=84.17.5.11"));
    assert_answer(&answer, "200 OK", "good 84.17.5.11\n");
    assert_eq!(
        gandi.rrset("example.com", "a.b", "A"),
        Some(Rrset::new("a.b", "A", 300, &["84.17.5.11"]))
    );
    assert!(
        answer
            .stderr
            .contains("TTL 60 for a.b.example.com is outside Gandi's 300..2592000; using 300"),
        "{}",
        answer.stderr
    );
}

#[test]
fn round_robin_and_missing_records_are_refused_unless_configured() {
    let dir = TempDir::new("gandi-rr");
    let gandi = fake();
    let before = gandi.rrsets("example.com");
    let cfg = config(&dir, &gandi, "", "zones = example.com");
    let answer = run(
        &cfg,
        &get("hostname=rr.example.com,new.example.com,home.example.com&myip=84.17.5.12"),
    );
    assert_answer(&answer, "200 OK", "dnserr\nnohost\ngood 84.17.5.12\n");
    assert_logged(&answer, "rr.example.com holds 2 A records");
    assert_logged(&answer, "new.example.com has no A record");
    assert_eq!(gandi.writes().len(), 1);
    untouched(&gandi, &before, &[("home", "A")]);

    let dir = TempDir::new("gandi-rr2");
    let cfg = config(
        &dir,
        &gandi,
        "create_missing_records = yes\ncollapse_round_robin = yes",
        "zones = example.com",
    );
    let answer = run(
        &cfg,
        &get("hostname=rr.example.com,new.example.com&myip=84.17.5.13"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.13\ngood 84.17.5.13\n");
    assert_eq!(
        gandi.rrset("example.com", "rr", "A"),
        Some(Rrset::new("rr", "A", 300, &["84.17.5.13"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "new", "A"),
        Some(Rrset::new("new", "A", 300, &["84.17.5.13"]))
    );
}

#[test]
fn zones_are_discovered_by_longest_suffix() {
    let dir = TempDir::new("gandi-discover");
    let gandi = fake();
    gandi.add_zone(
        "sub.example.com",
        vec![Rrset::new("x", "A", 900, &["198.51.100.1"])],
    );
    let cfg = config(&dir, &gandi, "", "");
    let answer = run(
        &cfg,
        &get("hostname=x.sub.example.com,a.b.example.com&myip=84.17.5.14"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.14\ngood 84.17.5.14\n");
    assert_eq!(
        gandi.rrset("sub.example.com", "x", "A"),
        Some(Rrset::new("x", "A", 900, &["84.17.5.14"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "a.b", "A").unwrap().values,
        ["84.17.5.14"]
    );
    let listings = gandi
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v5/livedns/domains?"))
        .count();
    assert_eq!(listings, 1, "zones are listed once per request");
}

#[test]
fn credential_failures_are_911_never_badauth_and_never_leak_the_token() {
    let dir = TempDir::new("gandi-403");
    let gandi = fake();
    let before = gandi.rrsets("example.com");
    gandi.add_expired_token("pat_expired_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    let cfg = dir.write_config("ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = home.example.com\n[gandi]\ntoken = pat_expired_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.15"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "HTTP 403");
    assert_logged(&answer, "has expired");
    assert_not_logged(&answer, "pat_expired");
    assert_eq!(gandi.rrsets("example.com"), before);

    let cfg = dir.write_config("wrong.ini",
        &format!(
            "[default]\nallowed_hostnames = home.example.com\n[gandi]\ntoken = pat_wrong\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.15"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "HTTP 401");
    assert!(
        answer
            .stderr
            .contains("the [gandi] token is unknown or malformed: create a personal access token"),
        "{}",
        answer.stderr
    );
    assert_not_logged(&answer, "pat_wrong");
    assert!(gandi.writes().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
}

#[test]
fn legacy_api_key_uses_the_apikey_scheme() {
    let dir = TempDir::new("gandi-apikey");
    let gandi = fake();
    gandi.add_api_key("0123456789abcdefABCDEFgh");
    let cfg = dir.write_config("ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = home.example.com\n[gandi]\napi_key = 0123456789abcdefABCDEFgh\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.16"));
    assert_answer(&answer, "200 OK", "good 84.17.5.16\n");
    assert!(
        gandi
            .requests()
            .iter()
            .all(|r| r.auth_scheme.as_deref() == Some("Apikey"))
    );
}

/// An error body quoting our `Authorization` header (as sent and percent-encoded) gets into
/// the log with the token or key taken out, at every log level; nothing is written.
#[test]
fn an_error_quoting_our_credential_is_logged_without_it() {
    const KEY: &str = "k3y/with+odd&chars=0123";
    for (credential, secret, scheme) in [("token", TOKEN, "Bearer"), ("api_key", KEY, "Apikey")] {
        for level in ["info", "debug"] {
            let dir = TempDir::new("gandi-echo");
            let gandi = fake();
            let before = gandi.rrsets("example.com");
            let cfg = dir.write_config(
                "ddns.ini",
                &format!(
                    "[default]\nallowed_hostnames = home.example.com\nlog_level = {level}\n[gandi]\n{credential} = {secret}\nurl = {}\nzones = example.com\n",
                    gandi.base_url()
                ),
            );
            gandi.set_fault(GandiFault::EchoCredential(401));
            let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.17"));
            assert_answer(&answer, "200 OK", "911\n");
            let line = format!(
                "ddns-cgi: error: gandi: the registrar rejected our credentials: reading A of home.example.com: HTTP 401 (Authorization header {scheme} *** (as received: {scheme}%20***) refused); the [gandi] token is unknown or malformed"
            );
            assert_logged(&answer, &line);
            crate::reliability::assert_no_secret(&answer.stderr, &[secret]);
            assert!(gandi.writes().is_empty());
            assert_eq!(gandi.rrsets("example.com"), before);
        }
    }
}

/// Control characters in a Gandi error message are escaped in the log, never written raw.
#[test]
fn an_error_message_reaches_the_log_escaped() {
    let dir = TempDir::new("gandi-escape");
    let gandi = fake();
    let before = gandi.rrsets("example.com");
    let cfg = config(&dir, &gandi, "log_level = debug", "zones = example.com");
    gandi.set_fault(GandiFault::Saying(
        400,
        "Record \u{1b}[2J\u{1b}[31mlocked\u{8}\u{8}".into(),
    ));
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.18"));
    assert_answer(&answer, "200 OK", "dnserr\n");
    let line = "ddns-cgi: error: home.example.com: gandi: the registrar refused the change: reading A of home.example.com: HTTP 400: Record \\u{1b}[2J\\u{1b}[31mlocked\\u{8}\\u{8}\n";
    assert_logged(&answer, line);
    for control in ["\u{1b}", "\u{8}"] {
        assert_not_logged(&answer, control);
    }
    assert!(gandi.writes().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
}

#[test]
fn registrar_faults_map_to_protocol_words() {
    const UNUSABLE: &str = "home.example.com: gandi: unusable answer from the registrar: ";
    let cases = [
        (
            GandiFault::Status500Html,
            "911\n",
            format!("{UNUSABLE}reading A of home.example.com: HTTP 500"),
        ),
        (
            GandiFault::Status429,
            "911\n",
            "gandi: the registrar's rate limit was hit (HTTP 429); the router will retry later"
                .to_string(),
        ),
        (
            GandiFault::NotJson,
            "911\n",
            format!("{UNUSABLE}reading A of home.example.com: answer is not an rrset ("),
        ),
        // The read is cut short, so nothing is written.
        (
            GandiFault::TruncatedJson,
            "911\n",
            format!("{UNUSABLE}reading A of home.example.com: answer is not an rrset (EOF"),
        ),
        (
            GandiFault::FailWrites(400),
            "dnserr\n",
            "gandi: the registrar refused the change: writing A of home.example.com: HTTP 400"
                .to_string(),
        ),
        (
            GandiFault::FailWrites(503),
            "911\n",
            format!("{UNUSABLE}writing A of home.example.com: HTTP 503"),
        ),
    ];
    for (fault, body, log) in cases {
        let dir = TempDir::new("gandi-fault");
        let gandi = fake();
        let before = gandi.rrsets("example.com");
        let cfg = config(&dir, &gandi, "", "zones = example.com");
        gandi.set_fault(fault.clone());
        let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.17"));
        assert_answer(&answer, "200 OK", body);
        assert_logged(&answer, &log);
        gandi.set_fault(GandiFault::None);
        assert_eq!(gandi.rrsets("example.com"), before, "{fault:?}");
        assert!(
            !dir.path().join("state/hosts/home.example.com").exists(),
            "{fault:?}: state written for a failed update"
        );
    }
}

/// Once state knows the record (and no policy needs a read), a change is one PUT. A PUT answered with a
/// body that is not JSON (an edge page with status 200) stored nothing, so it must not be
/// `good`: spec §7.1 expects `201`, and non-JSON is `911`.
#[test]
fn a_write_answered_with_non_json_is_911_not_good() {
    let dir = TempDir::new("gandi-put-notjson");
    let gandi = fake();
    let cfg = config(
        &dir,
        &gandi,
        "cache_seconds = 0\ncreate_missing_records = yes\ncollapse_round_robin = yes",
        "zones = example.com",
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.19"));
    assert_answer(&answer, "200 OK", "good 84.17.5.19\n");
    let state_file = dir.path().join("state/hosts/home.example.com");
    let state = std::fs::read_to_string(&state_file).unwrap();
    let before = gandi.rrsets("example.com");

    gandi.clear_requests();
    gandi.set_fault(GandiFault::NotJson);
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.20"));
    gandi.set_fault(GandiFault::None);
    assert_eq!(
        calls(&gandi),
        ["PUT /v5/livedns/domains/example.com/records/home/A"]
    );
    assert_eq!(
        gandi.rrsets("example.com"),
        before,
        "the fake stored nothing"
    );
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("gandi: unusable answer from the registrar: writing A of home.example.com"),
        "{}",
        answer.stderr
    );
    assert_eq!(std::fs::read_to_string(&state_file).unwrap(), state);
}

#[test]
fn unknown_zone_is_nohost() {
    let dir = TempDir::new("gandi-nozone");
    let gandi = fake();
    let cfg = dir.write_config("ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = home.example.org\n[gandi]\ntoken = {TOKEN}\nurl = {}\nzones = example.org\n",
            gandi.base_url()
        ),
    );
    let before = gandi.rrsets("example.com");
    let answer = run(&cfg, &get("hostname=home.example.org&myip=84.17.5.18"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_logged(
        &answer,
        "gandi: zone example.org does not exist in the account; fix the zones key or the allowed host names",
    );
    assert!(gandi.writes().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
    assert!(gandi.rrsets("example.org").is_empty(), "no zone created");
}

#[test]
fn check_config_probe_proves_the_token() {
    let dir = TempDir::new("gandi-probe");
    let gandi = fake();
    gandi.add_expired_token("pat_old");
    let probe = |cfg: &std::path::Path| {
        std::process::Command::new(crate::util::binary())
            .args(["check-config", "--probe", "--config"])
            .arg(cfg)
            .env_clear()
            .output()
            .unwrap()
    };
    let out = probe(&config(&dir, &gandi, "", "zones = example.com"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("probe gandi: token accepted; zones example.com found\n")
    );
    assert!(gandi.writes().is_empty(), "the probe is read-only");

    let out = probe(&config(&dir, &gandi, "", ""));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("probe gandi: token accepted; 1 zones visible\n")
    );

    let cfg = dir.write_config(
        "old.ini",
        &format!(
            "[default]\n[gandi]\ntoken = pat_old\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    let out = probe(&cfg);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HTTP 403") && stderr.contains("has expired"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pat_old") && !String::from_utf8_lossy(&out.stdout).contains("pat_old")
    );
}

fn calls(gandi: &FakeGandi) -> Vec<String> {
    gandi
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn put_ttl(gandi: &FakeGandi, index: usize) -> serde_json::Value {
    let body: serde_json::Value = serde_json::from_str(&gandi.writes()[index].body).unwrap();
    body["rrset_ttl"].clone()
}

/// Once ddns-cgi has written a record, local state knows its single value and TTL, so the
/// next change is one PUT per family; a repeat of the known address is still read.
#[test]
fn a_change_after_our_own_write_is_one_put_when_no_policy_needs_a_read() {
    const A: &str = "/v5/livedns/domains/example.com/records/home/A";
    const AAAA: &str = "/v5/livedns/domains/example.com/records/home/AAAA";
    let dir = TempDir::new("gandi-known");
    let gandi = fake();
    gandi.put_rrset(
        "example.com",
        Rrset::new("home", "A", 1800, &["198.51.100.1"]),
    );
    gandi.put_rrset(
        "example.com",
        Rrset::new("home", "AAAA", 900, &["2001:db8::1"]),
    );
    // No answers from the cache window, so every request reaches the backend; policies under
    // which a read cannot refuse a write.
    const POLICIES: &str =
        "cache_seconds = 0\ncreate_missing_records = yes\ncollapse_round_robin = yes";
    let cfg = config(&dir, &gandi, POLICIES, "zones = example.com");
    let before = gandi.rrsets("example.com");

    // Nothing known yet: read both, then write both.
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9,2a01:4f8::9"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a01:4f8::9\n");
    assert_eq!(
        calls(&gandi),
        [
            format!("GET {A}"),
            format!("GET {AAAA}"),
            format!("PUT {A}"),
            format!("PUT {AAAA}")
        ]
    );
    let state = state_text(dir.path(), "home.example.com").unwrap();
    assert!(state.contains("\nA 84.17.5.9 "), "{state}");
    assert!(state.contains(" 1800 alice\n"), "{state}");
    assert!(state.contains(" 900 alice\n"), "{state}");

    // A new address: one PUT per family, no read, the TTLs kept.
    gandi.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.10,2a01:4f8::10"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.10,2a01:4f8::10\n");
    assert_eq!(calls(&gandi), [format!("PUT {A}"), format!("PUT {AAAA}")]);
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 1800, &["84.17.5.10"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new("home", "AAAA", 900, &["2a01:4f8::10"]))
    );
    // The log names the replaced values from state.
    assert!(
        answer
            .stderr
            .contains("home.example.com 84.17.5.9,2a01:4f8::9 -> "),
        "{}",
        answer.stderr
    );
    untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);

    // The known address again: read to confirm, nothing written.
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.10"));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.10\n");
    assert_eq!(calls(&gandi), [format!("GET {A}")]);

    // Still known after a confirming read: one PUT for one family.
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.11"));
    assert_answer(&answer, "200 OK", "good 84.17.5.11\n");
    assert_eq!(calls(&gandi), [format!("PUT {A}")]);
    assert_eq!(put_ttl(&gandi, 0), 1800);

    // A configured TTL wins over the remembered one.
    let cfg = config(&dir, &gandi, POLICIES, "zones = example.com\nttl = 600");
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.12"));
    assert_answer(&answer, "200 OK", "good 84.17.5.12\n");
    assert_eq!(calls(&gandi), [format!("PUT {A}")]);
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 600, &["84.17.5.12"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new("home", "AAAA", 900, &["2a01:4f8::10"]))
    );
}

#[test]
fn a_change_after_our_own_write_is_read_first_under_the_default_policies() {
    const A: &str = "/v5/livedns/domains/example.com/records/home/A";
    let dir = TempDir::new("gandi-known-strict");
    let gandi = fake();
    gandi.put_rrset(
        "example.com",
        Rrset::new("home", "A", 1800, &["198.51.100.1"]),
    );
    let cfg = config(&dir, &gandi, "cache_seconds = 0", "zones = example.com");
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");

    // Known from state, yet read first: the read finds one value and the write follows.
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.10"));
    assert_answer(&answer, "200 OK", "good 84.17.5.10\n");
    assert_eq!(calls(&gandi), [format!("GET {A}"), format!("PUT {A}")]);

    // A second value added by hand since: refused (collapse_round_robin = no), kept as is.
    let by_hand = Rrset::new("home", "A", 600, &["84.17.5.10", "84.17.5.99"]);
    gandi.put_rrset("example.com", by_hand.clone());
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.11"));
    assert_answer(&answer, "200 OK", "dnserr\n");
    assert_eq!(calls(&gandi), [format!("GET {A}")]);
    assert_eq!(gandi.rrset("example.com", "home", "A"), Some(by_hand));

    // Deleted by hand: not created again (create_missing_records = no).
    gandi.remove_rrset("example.com", "home", "A");
    gandi.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.12"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_eq!(calls(&gandi), [format!("GET {A}")]);
    assert_eq!(gandi.rrset("example.com", "home", "A"), None);
}

/// The API's page-size limit is not documented (spec §5.1). A server that serves fewer zones
/// per page than asked for must still be read to the end: its `Total-Count` says how many.
#[test]
fn zone_discovery_reads_every_page_the_api_serves() {
    let dir = TempDir::new("gandi-pages");
    let (name, rrsets) = fixture_zone();
    let small = || vec![Rrset::new("www", "A", 300, &["198.51.100.50"])];
    // Listed in name order: example.com comes last, on the third page of two.
    let gandi = FakeGandi::start(
        &[TOKEN],
        vec![
            ("aa.test", small()),
            ("ab.test", small()),
            ("ac.test", small()),
            ("ad.test", small()),
            (name, rrsets),
        ],
    );
    gandi.set_max_per_page(2);
    let cfg = config(&dir, &gandi, "", "");
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.70"));
    assert_answer(&answer, "200 OK", "good 84.17.5.70\n");
    let listed: Vec<String> = calls(&gandi)
        .into_iter()
        .filter(|c| c.starts_with("GET /v5/livedns/domains?"))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        gandi.rrset("example.com", "home", "A").map(|r| r.values),
        Some(vec!["84.17.5.70".to_string()])
    );
}

/// Zone discovery reads at most 20 pages; past them it says so and names the fix.
#[test]
fn zone_discovery_says_when_it_stops_before_the_last_page() {
    let dir = TempDir::new("gandi-many-pages");
    let (name, rrsets) = fixture_zone();
    let small = || vec![Rrset::new("www", "A", 300, &["198.51.100.50"])];
    let names: Vec<String> = (0..20).map(|i| format!("a{i:02}.test")).collect();
    let mut zones: Vec<(&str, Vec<Rrset>)> = names.iter().map(|n| (n.as_str(), small())).collect();
    zones.push((name, rrsets));
    let gandi = FakeGandi::start(&[TOKEN], zones);
    gandi.set_max_per_page(1);
    let before = gandi.rrsets("example.com");
    let cfg = config(&dir, &gandi, "", "");
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.71"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_logged(
        &answer,
        "gandi: the account lists more zones than the 20 read (20 pages); names in the others are not found: set zones in [gandi]",
    );
    assert_eq!(gandi.rrsets("example.com"), before);
}
