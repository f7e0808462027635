//! SchlundTech XML gateway through the real CGI process against the strict fake.

use std::time::Duration;

use fake_registrars::schlund::{
    FIXTURE_ZONE, FakeSchlund, Nesting, SchlundFault, SchlundUser, StoredZone,
};

use crate::util::{TempDir, assert_answer, assert_logged, assert_not_logged, get, run, state_text};

pub const USER: &str = "1234567";
pub const PASSWORD: &str = "s3cret&pass<%x";
pub const TOTP: &str = "JBSWY3DPEHPK3PXP";

/// A 2FA account holding the fixture zone example.co.uk.
pub fn fake() -> FakeSchlund {
    FakeSchlund::start(
        vec![SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP)],
        &[FIXTURE_ZONE],
    )
}

/// A `[default]` section as ws.ddns writes it, plus ddns-cgi keys in `extra`.
pub fn config_text(fake: &FakeSchlund, extra: &str) -> String {
    format!(
        "[default]\nusername = {USER}\npassword = {}\ncontext = 10\nurl = {}\ntotp_secret = {TOTP}\nallowed_hostnames = home.example.co.uk a.b.example.co.uk example.co.uk nothere.example.co.uk\n{extra}\n",
        PASSWORD.replace('%', "%%"),
        fake.url()
    )
}

pub fn fixture() -> StoredZone {
    fake().zone("example.co.uk").unwrap()
}

/// Everything but the listed (name, type) records and the server-written fields is as in
/// the fixture.
#[track_caller]
pub fn only_changed(after: &StoredZone, changed: &[(&str, &str)], main_changed: bool) {
    let before = fixture();
    let keep = |rr: &fake_registrars::schlund::Rr| {
        !changed
            .iter()
            .any(|(n, t)| *n == rr.name && *t == rr.rr_type)
    };
    let b: Vec<_> = before.all_rr().into_iter().filter(keep).collect();
    let a: Vec<_> = after.all_rr().into_iter().filter(keep).collect();
    assert_eq!(a, b, "records outside the change differ");
    if !main_changed {
        assert_eq!(after.main(), before.main());
    }
    for path in [
        "soa/email",
        "soa/refresh",
        "soa/default",
        "www_include",
        "ns_action",
        "system_ns",
        "dnssec",
        "created",
    ] {
        assert_eq!(after.text(path), before.text(path), "{path}");
    }
    assert_eq!(after.free(), before.free());
    assert!(after.has("comment"));
    let note = after.rr("note", "TXT");
    assert_eq!(note[0].value, "\"say \\\"hi\\\"\" & <b>bold</b> 'x' Grüße");
}

#[test]
fn good_writes_one_value_and_round_trips_the_rest() {
    let dir = TempDir::new("schlund-good");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.9");
    assert_eq!(zone.rr("home", "A")[0].ttl, "300");
    only_changed(&zone, &[("home", "A")], false);
    let requests = gw.requests();
    let codes: Vec<_> = requests
        .iter()
        .map(|r| (r.task_code.as_str(), r.status_code.as_str(), r.had_token))
        .collect();
    assert_eq!(codes, [("0205", "S0205", true), ("0202", "S0202", true)]);
    let update = &requests[1].body_redacted;
    for stripped in [
        "<created>",
        "<changed>",
        "<domainsafe>",
        "<owner>",
        "<updated_by>",
    ] {
        assert!(!update.contains(stripped), "{stripped} sent back");
    }
    assert_not_logged(&answer, "s3cret");
}

#[test]
fn unchanged_zone_is_nochg_without_a_write() {
    let dir = TempDir::new("schlund-nochg");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.9")),
        "200 OK",
        "good 84.17.5.9\n",
    );
    let stored = gw.zone("example.co.uk").unwrap().to_xml();
    gw.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=084.017.005.009"),
    );
    assert_answer(&answer, "200 OK", "nochg 084.017.005.009\n");
    assert!(
        gw.requests().is_empty(),
        "a repeat is answered from local state"
    );

    let cfg = dir.write_config(
        "nocache.ini",
        &config_text(&gw, "zones = example.co.uk\ncache_seconds = 0"),
    );
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9\n");
    let codes: Vec<_> = gw.requests().iter().map(|r| r.task_code.clone()).collect();
    assert_eq!(codes, ["0205"]);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), stored);
}

#[test]
fn hosts_of_one_zone_share_one_inquiry_and_one_update() {
    let dir = TempDir::new("schlund-group");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(
        &cfg,
        &get(
            "hostname=home.example.co.uk,a.b.example.co.uk,example.co.uk,HOME.example.co.uk.&myip=84.17.5.10,2a01:4f8::10",
        ),
    );
    // a.b has no AAAA, so with both families it is refused whole (never half-set).
    assert_answer(
        &answer,
        "200 OK",
        "good 84.17.5.10,2a01:4f8::10\nnohost\ngood 84.17.5.10,2a01:4f8::10\ngood 84.17.5.10,2a01:4f8::10\n",
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("a.b", "A")[0].value, "198.51.100.8");
    let dir = TempDir::new("schlund-group2");
    let gw = fake();
    let cfg = dir.write_config("ddns2.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(
        &cfg,
        &get(
            "hostname=home.example.co.uk,a.b.example.co.uk,example.co.uk,HOME.example.co.uk.&myip=84.17.5.10",
        ),
    );
    assert_answer(
        &answer,
        "200 OK",
        "good 84.17.5.10\ngood 84.17.5.10\ngood 84.17.5.10\ngood 84.17.5.10\n",
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.10");
    assert_eq!(zone.rr("a.b", "A")[0].value, "84.17.5.10");
    assert_eq!(
        zone.main().unwrap(),
        ("84.17.5.10".to_string(), "600".to_string())
    );
    only_changed(&zone, &[("home", "A"), ("a.b", "A")], true);
    let codes: Vec<_> = gw.requests().iter().map(|r| r.task_code.clone()).collect();
    assert_eq!(codes, ["0205", "0202"]);
}

#[test]
fn dual_stack_sets_a_and_aaaa_in_one_write() {
    let dir = TempDir::new("schlund-dual");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk&myip=84.17.5.11,2a01:4f8::11"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.11,2a01:4f8::11\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.11");
    assert_eq!(zone.rr("home", "AAAA")[0].value, "2a01:4f8::11");
    only_changed(&zone, &[("home", "A"), ("home", "AAAA")], false);
    assert_eq!(gw.requests().len(), 2);
}

#[test]
fn a_ws_ddns_config_works_unchanged_with_zone_discovery() {
    let dir = TempDir::new("schlund-wsddns");
    let gw = fake();
    // Exactly the keys ws.ddns knows; no zones, so the gateway is asked.
    let cfg = dir.write_config("ws.ini", &config_text(&gw, ""));
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.12"));
    assert_answer(&answer, "200 OK", "good 84.17.5.12\n");
    let requests = gw.requests();
    let list: Vec<_> = requests.iter().filter(|r| r.is_list_query).collect();
    assert_eq!(list.len(), 2, "home.example.co.uk, then example.co.uk");
    assert_eq!(requests.iter().filter(|r| !r.is_list_query).count(), 2);
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.12"
    );

    // Two names of that zone in one request: the answer for example.co.uk, asked about for
    // the apex, is reused for a.b, and the zone is read and written once.
    gw.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=example.co.uk,a.b.example.co.uk&myip=84.17.5.14"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.14\ngood 84.17.5.14\n");
    let requests = gw.requests();
    let list = requests.iter().filter(|r| r.is_list_query).count();
    assert_eq!(list, 3, "example.co.uk, a.b, b; not example.co.uk again");
    assert_eq!(requests.iter().filter(|r| !r.is_list_query).count(), 2);
}

#[test]
fn missing_record_is_nohost_unless_creation_is_allowed() {
    let dir = TempDir::new("schlund-missing");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(&cfg, &get("hostname=nothere.example.co.uk&myip=84.17.5.13"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert!(
        answer
            .stderr
            .contains("nothere.example.co.uk has no A record"),
        "{}",
        answer.stderr
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fixture().to_xml()
    );
    assert_eq!(gw.requests().len(), 1);

    let cfg = dir.write_config(
        "create.ini",
        &config_text(
            &gw,
            "zones = example.co.uk\ncreate_missing_records = yes\nttl = 120",
        ),
    );
    let answer = run(&cfg, &get("hostname=nothere.example.co.uk&myip=84.17.5.13"));
    assert_answer(&answer, "200 OK", "good 84.17.5.13\n");
    let rr = &gw.zone("example.co.uk").unwrap().rr("nothere", "A")[0];
    assert_eq!((rr.ttl.as_str(), rr.value.as_str()), ("120", "84.17.5.13"));
}

#[test]
fn gateway_login_failures_are_911_with_a_hint_and_no_secret() {
    let dir = TempDir::new("schlund-login");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let text = config_text(&gw, "zones = example.co.uk").replace("s3cret&pass<%%x", "wrong&pass");
    let cfg = dir.write_config("bad.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.14"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "rejected our credentials");
    assert_logged(&answer, "EF09901");
    assert!(
        answer
            .stderr
            .contains("check username, password, context and totp_secret in the config"),
        "{}",
        answer.stderr
    );
    assert_not_logged(&answer, "wrong&pass");
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);

    // Clock far off: every code is refused.
    gw.set_clock_offset(3600);
    let cfg = dir.write_config("ok.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.14"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "EF09903");
    assert!(
        answer
            .stderr
            .contains("and that this host's clock is right (local UTC time "),
        "{}",
        answer.stderr
    );
    assert_not_logged(&answer, TOTP);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    gw.set_clock_offset(0);

    // 2FA account, but no totp_secret configured.
    let text =
        config_text(&gw, "zones = example.co.uk").replace(&format!("totp_secret = {TOTP}\n"), "");
    let cfg = dir.write_config("no2fa.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.14"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "EF09902");
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
}

#[test]
fn unknown_zone_is_nohost() {
    let dir = TempDir::new("schlund-nozone");
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.org").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.org ",
        ),
    );
    let before = gw.zones();
    let answer = run(&cfg, &get("hostname=home.example.org&myip=84.17.5.15"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_logged(
        &answer,
        "schlund: zone example.org does not exist in the account; fix the zones key or the allowed host names",
    );
    let codes: Vec<_> = gw
        .requests()
        .iter()
        .map(|r| (r.task_code.clone(), r.status_code.clone()))
        .collect();
    assert_eq!(codes, [("0205".to_string(), "E0205".to_string())]);
    let xml = |zones: Vec<StoredZone>| zones.iter().map(StoredZone::to_xml).collect::<Vec<_>>();
    assert_eq!(xml(gw.zones()), xml(before), "no zone created or changed");
}

#[test]
fn gateway_faults_answer_and_leave_the_zone() {
    const REFUSED: &str =
        "schlund: the registrar refused the change: zone update for example.co.uk: ";
    const UNUSABLE: &str = "schlund: unusable answer from the registrar: ";
    let cases = [
        // The 0205 is answered well; the 0202 that follows fails.
        (
            SchlundFault::UpdateFailsE0202002,
            "dnserr\n",
            format!("{REFUSED}E0202002 \"Zone could not be updated on the name server.\""),
            &[("0205", "S0205"), ("0202", "E0202002")][..],
        ),
        (
            SchlundFault::UpdateRejectedEF09904,
            "dnserr\n",
            format!("{REFUSED}E0202 \"Zone could not be updated.\"; EF09904"),
            &[("0205", "S0205"), ("0202", "E0202")][..],
        ),
        (
            SchlundFault::Http500Html,
            "911\n",
            format!(
                "{UNUSABLE}HTTP 500 for zone inquiry for example.co.uk; the gateway may be down"
            ),
            &[("0205", "")][..],
        ),
        (
            SchlundFault::TruncatedXml,
            "911\n",
            format!("{UNUSABLE}answer is not XML ("),
            &[("0205", "")][..],
        ),
        (
            SchlundFault::NotXml,
            "911\n",
            format!("{UNUSABLE}answer is not XML ("),
            &[("0205", "")][..],
        ),
    ];
    for (fault, body, log, calls) in cases {
        let dir = TempDir::new("schlund-fault");
        let gw = fake();
        let before = gw.zone("example.co.uk").unwrap().to_xml();
        let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
        gw.set_fault(fault.clone());
        let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.16"));
        assert_answer(&answer, "200 OK", body);
        assert_logged(&answer, &log);
        let seen: Vec<_> = gw
            .requests()
            .iter()
            .map(|r| (r.task_code.clone(), r.status_code.clone()))
            .collect();
        let expected: Vec<_> = calls
            .iter()
            .map(|(t, s)| (t.to_string(), s.to_string()))
            .collect();
        assert_eq!(seen, expected, "{fault:?}");
        gw.set_fault(SchlundFault::None);
        assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
        assert!(
            !dir.path().join("state/hosts/home.example.co.uk").exists(),
            "{fault:?}: state written for a failed update"
        );
    }
}

/// An answer nested far deeper than any real one, wherever the nesting is, is called
/// malformed: the process neither crashes nor changes the zone.
#[test]
fn a_deeply_nested_answer_is_911_and_called_malformed() {
    for place in [Nesting::Response, Nesting::Data, Nesting::Msg] {
        let dir = TempDir::new("schlund-deep");
        let gw = fake();
        let before = gw.zone("example.co.uk").unwrap().to_xml();
        let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
        gw.set_fault(SchlundFault::DeepNesting {
            place,
            depth: 200_000,
        });
        let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.17"));
        assert_answer(&answer, "200 OK", "911\n");
        let line = answer
            .stderr
            .lines()
            .find(|l| l.contains("answer is malformed"))
            .unwrap_or_else(|| {
                panic!(
                    "{place:?}: no line calls the answer malformed:\n{}",
                    answer.stderr
                )
            });
        assert!(
            line.starts_with("ddns-cgi: error: schlund: unusable answer from the registrar: answer is malformed (elements nested deeper than 64 levels, at byte ")
                && line.ends_with("; no gateway answer is shaped like that) for zone inquiry for example.co.uk"),
            "{place:?}: {line}"
        );
        let seen: Vec<_> = gw
            .requests()
            .iter()
            .map(|r| (r.task_code.clone(), r.status_code.clone()))
            .collect();
        assert_eq!(seen, [("0205".to_string(), String::new())], "{place:?}");
        gw.set_fault(SchlundFault::None);
        assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
        assert_eq!(state_text(dir.path(), "home.example.co.uk"), None);
    }
}

/// Shallow but wide: two million `<a/>` (8 MB, under the size cap) would need hundreds of
/// megabytes as a tree, more than a CGI on a small host may take.
#[test]
fn an_answer_of_millions_of_elements_is_911_and_called_malformed() {
    let dir = TempDir::new("schlund-wide");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    gw.set_fault(SchlundFault::Wide { count: 2_000_000 });
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.17"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer.stderr.lines().any(|l| l.starts_with(
            "ddns-cgi: error: schlund: unusable answer from the registrar: answer is malformed (more than 200000 elements, at byte "
        ) && l.ends_with("; no gateway answer is shaped like that) for zone inquiry for example.co.uk")),
        "{}",
        answer.stderr
    );
    gw.set_fault(SchlundFault::None);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert!(!dir.path().join("state/hosts/home.example.co.uk").exists());
}

#[test]
fn one_request_spans_both_registrars() {
    let dir = TempDir::new("mixed");
    let gw = fake();
    let gandi = crate::gandi::fake();
    let text = format!(
        "{}\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n",
        config_text(&gw, "zones = example.co.uk").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.com "
        ),
        crate::gandi::TOKEN,
        gandi.base_url()
    );
    let cfg = dir.write_config("ddns.ini", &text);
    let answer = run(
        &cfg,
        &get("hostname=home.example.com,home.example.co.uk&myip=84.17.5.17"),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.17\ngood 84.17.5.17\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A").unwrap().values,
        ["84.17.5.17"]
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.17"
    );

    // One registrar failing does not change the other's answer.
    let schlund_before = gw.zone("example.co.uk").unwrap().to_xml();
    let mut gandi_expected = gandi.rrsets("example.com");
    for rrset in &mut gandi_expected {
        if rrset.name == "home" && rrset.rr_type == "A" {
            rrset.values = vec!["84.17.5.18".to_string()];
        }
    }
    gw.set_fault(SchlundFault::Http500Html);
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk,home.example.com&myip=84.17.5.18"),
    );
    assert_answer(&answer, "200 OK", "911\ngood 84.17.5.18\n");
    assert_logged(
        &answer,
        "schlund: unusable answer from the registrar: HTTP 500 for zone inquiry for example.co.uk; the gateway may be down",
    );
    gw.set_fault(SchlundFault::None);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), schlund_before);
    assert_eq!(gandi.rrsets("example.com"), gandi_expected);
}

#[test]
fn check_config_probe_logs_in_read_only() {
    let dir = TempDir::new("schlund-probe");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let probe = |cfg: &std::path::Path| {
        std::process::Command::new(crate::util::binary())
            .args(["check-config", "--probe", "--config"])
            .arg(cfg)
            .env_clear()
            .output()
            .unwrap()
    };
    let out = probe(&dir.write_config("ok.ini", &config_text(&gw, "zones = example.co.uk")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("probe schlund: login accepted; zone example.co.uk found\n")
    );
    assert!(
        gw.requests()
            .iter()
            .all(|r| r.task_code == "0205" && r.had_token)
    );

    let bad = config_text(&gw, "zones = example.co.uk").replace("s3cret&pass<%%x", "wrong");
    let out = probe(&dir.write_config("bad.ini", &bad));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EF09901"));
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
}

/// The shape the real gateway answered with in 2018 (schlund-xml-gateway.md §10.2): the apex
/// IPv4 in `main` and again as an apex `rr` of type A. Both copies must change together.
#[test]
fn apex_ipv4_held_in_main_and_an_apex_rr_changes_in_both() {
    let dir = TempDir::new("schlund-apex-mirror");
    let gw = fake();
    let mirrored = FIXTURE_ZONE.replacen(
        "<www_include>",
        "<rr><name/><ttl>600</ttl><type>A</type><value>203.0.113.10</value></rr><www_include>",
        1,
    );
    assert_ne!(mirrored, FIXTURE_ZONE, "the fixture changed shape");
    gw.put_zone(&mirrored);
    let before = gw.zone("example.co.uk").unwrap();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(&cfg, &get("hostname=example.co.uk&myip=84.17.5.60"));
    assert_answer(&answer, "200 OK", "good 84.17.5.60\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.text("main/value").as_deref(), Some("84.17.5.60"));
    let apex: Vec<String> = zone.rr("", "A").into_iter().map(|r| r.value).collect();
    assert_eq!(apex, ["84.17.5.60"]);
    let rest = |z: &StoredZone| {
        z.all_rr()
            .into_iter()
            .filter(|r| !(r.name.is_empty() && r.rr_type == "A"))
            .collect::<Vec<_>>()
    };
    assert_eq!(before.rr("", "A").len(), 1);
    assert_eq!(rest(&zone), rest(&before));
}

/// Whether the gateway takes a one-time code twice is unknown (§5). If it does not, the
/// update after an accepted inquiry fails: ddns-cgi answers 911, changes nothing, and its
/// log line says what probably happened.
#[test]
fn a_gateway_taking_each_code_once_gets_911_and_a_clear_log_line() {
    let dir = TempDir::new("schlund-single-use");
    let gw = fake();
    gw.set_strict_single_use(true);
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    // Both calls must fall into one 30-second step; a request takes milliseconds, so start
    // at least two seconds before the step ends (at most a two-second wait).
    while gw.totp_time() % 30 >= 28 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.61"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("the zone inquiry just before was accepted, so the gateway may take each one-time code only once"),
        "{}",
        answer.stderr
    );
    assert_logged(&answer, "local UTC time");
    let tasks: Vec<String> = gw.requests().iter().map(|r| r.task_code.clone()).collect();
    assert_eq!(tasks, ["0205", "0202"]);
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fixture().to_xml()
    );
    assert_eq!(state_text(dir.path(), "home.example.co.uk"), None);
}

/// `www` is a CNAME in the fixture. DNS allows nothing beside a CNAME, so even with
/// creation allowed no A record is added there.
#[test]
fn no_record_is_created_beside_a_cname() {
    let dir = TempDir::new("schlund-cname");
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\ncreate_missing_records = yes").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = www.example.co.uk ",
        ),
    );
    let answer = run(&cfg, &get("hostname=www.example.co.uk&myip=84.17.5.62"));
    assert_answer(&answer, "200 OK", "nohost\n");
    assert!(
        answer
            .stderr
            .contains("www.example.co.uk is a CNAME, and DNS allows no A record beside it"),
        "{}",
        answer.stderr
    );
    let tasks: Vec<String> = gw.requests().iter().map(|r| r.task_code.clone()).collect();
    assert_eq!(tasks, ["0205"]);
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fixture().to_xml()
    );
}

/// An account that may read zones but not update them (spec §12.9): the log names the
/// missing right, not the password or the one-time codes.
#[test]
fn a_missing_update_right_is_named_in_the_log() {
    let dir = TempDir::new("schlund-no-right");
    let mut user = SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP);
    user.can_update = false;
    let gw = FakeSchlund::start(vec![user], &[FIXTURE_ZONE]);
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.63"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("EF00505 \"User is not authorized for this function\"")
            && answer
                .stderr
                .contains("the gateway user lacks the right for this task"),
        "{}",
        answer.stderr
    );
    assert_not_logged(&answer, "one-time code");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().to_xml(),
        fixture().to_xml()
    );
}

/// The TOTP codes of the last few minutes, any of which a request may have sent.
fn recent_codes() -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (0..=8)
        .map(|i| fake_registrars::schlund::totp_code(TOTP, now - 180 + i * 30))
        .collect()
}

/// A gateway quoting our request back (as sent, percent-encoded, as JSON) gets it into the
/// log with the password and the one-time code taken out, at every log level.
#[test]
fn a_gateway_quoting_our_request_is_logged_without_the_secrets() {
    for level in ["info", "debug"] {
        let dir = TempDir::new("schlund-echo");
        let gw = fake();
        let before = gw.zone("example.co.uk").unwrap().to_xml();
        let cfg = dir.write_config(
            "ddns.ini",
            &config_text(&gw, &format!("zones = example.co.uk\nlog_level = {level}")),
        );
        gw.set_fault(SchlundFault::EchoRequest);
        let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.18"));
        assert_answer(&answer, "200 OK", "911\n");
        for quoted in [
            "ddns-cgi: error: schlund: the registrar rejected our credentials: zone inquiry for example.co.uk: E00000 \"Errors occurred during processing.\"; EF01000 \"Missing or wrong value.\" (request: <?xml version=\\\"1.0\\\" encoding=\\\"UTF-8\\\"?><request><auth><user>1234567</user><password>***</password><context>10</context><token>***</token></auth>",
            "; EF01000 \"Request as received: %3C%3Fxml%20version%3D%221%2E0%22%20encoding%3D%22UTF%2D8%22%3F%3E%3Crequest%3E%3Cauth%3E%3Cuser%3E1234567%3C%2Fuser%3E%3Cpassword%3E***%3C%2Fpassword%3E%3Ccontext%3E10%3C%2Fcontext%3E%3Ctoken%3E***%3C%2Ftoken%3E",
            "; EF01000 \"Request log: {\\\"request\\\":\\\"<?xml version=\\\\\\\"1.0\\\\\\\" encoding=\\\\\\\"UTF-8\\\\\\\"?><request><auth><user>1234567</user><password>***</password><context>10</context><token>***</token></auth>",
        ] {
            assert_logged(&answer, quoted);
        }
        crate::reliability::assert_no_secret(&answer.stderr, &[PASSWORD, TOTP]);
        for code in recent_codes() {
            assert_not_logged(&answer, &code);
        }
        let seen: Vec<_> = gw.requests().into_iter().map(|r| r.status_code).collect();
        assert_eq!(seen, ["E00000"]);
        gw.set_fault(SchlundFault::None);
        assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    }
}

/// Control characters in a gateway message are escaped in the log, never written raw.
#[test]
fn a_gateway_message_reaches_the_log_escaped() {
    for level in ["info", "debug"] {
        let dir = TempDir::new("schlund-escape");
        let gw = fake();
        let cfg = dir.write_config(
            "ddns.ini",
            &config_text(&gw, &format!("zones = example.co.uk\nlog_level = {level}")),
        );
        gw.set_fault(SchlundFault::RefuseSaying(
            "Zone \u{1b}[2J\u{1b}[31mlocked\u{8}\u{8}\u{8}".into(),
        ));
        let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.19"));
        assert_answer(&answer, "200 OK", "911\n");
        assert_logged(
            &answer,
            "zone inquiry for example.co.uk: E00000 \"Errors occurred during processing.\"; EF01000 \"Zone \\u{1b}[2J\\u{1b}[31mlocked\\u{8}\\u{8}\\u{8}\" [stid ",
        );
        for control in ["\u{1b}", "\u{8}"] {
            assert_not_logged(&answer, control);
        }
    }
}

/// A router that sends its next address the moment it has the answer to its last: the state
/// the first request answered from must already be in place for the second, whatever the
/// first still does after answering (the fsync of the state directory).
#[test]
fn the_next_request_right_after_an_answer_sees_its_state() {
    use std::io::Read;
    use std::process::Stdio;

    let dir = TempDir::new("schlund-next");
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\nabuse_limit = 0"),
    );
    let hosts = "a.b.example.co.uk,home.example.co.uk,example.co.uk";
    for round in 0..5 {
        let (first, second) = (
            format!("84.17.6.{}", 10 + 2 * round),
            format!("84.17.6.{}", 11 + 2 * round),
        );
        let req = get(&format!("hostname={hosts}&myip={first}"));
        let mut child = crate::util::command(&cfg, &req)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Exactly the answer's bytes, then the next request at once, before the first ends.
        let want = format!("good {first}\n").repeat(3);
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        let mut stdout = child.stdout.take().unwrap();
        while !String::from_utf8_lossy(&head).ends_with(&want) {
            assert_eq!(
                stdout.read(&mut byte).unwrap(),
                1,
                "answer cut short: {head:?}"
            );
            head.push(byte[0]);
        }
        let answer = run(&cfg, &get(&format!("hostname={hosts}&myip={second}")));
        assert_answer(&answer, "200 OK", &format!("good {second}\n").repeat(3));
        assert!(child.wait().unwrap().success());
        for name in ["a.b", "home"] {
            let zone = gw.zone("example.co.uk").unwrap();
            let values: Vec<_> = zone.rr(name, "A").iter().map(|r| r.value.clone()).collect();
            assert_eq!(
                values,
                std::slice::from_ref(&second),
                "{name} after round {round}"
            );
        }
    }
}
