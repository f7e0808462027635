//! `/nic/delete` (nsupdate.info's form) and `offline=YES` through the real CGI process,
//! against both strict fakes: what is stored afterwards, what was left alone, and the state
//! ddns-cgi keeps.

use fake_registrars::gandi::Rrset;

use crate::util::{TempDir, assert_answer, assert_logged, get, run, state_text};

/// The Gandi calls made since the last clear, as `METHOD /path`.
fn gandi_calls(gandi: &fake_registrars::gandi::FakeGandi) -> Vec<String> {
    gandi
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The SchlundTech task codes answered since the start.
fn schlund_codes(gw: &fake_registrars::schlund::FakeSchlund) -> Vec<String> {
    gw.requests()
        .iter()
        .map(|r| format!("{} {}", r.task_code, r.status_code))
        .collect()
}

#[test]
fn gandi_delete_removes_both_types_and_nothing_else() {
    let dir = TempDir::new("delete-gandi");
    let gandi = crate::gandi::fake();
    let cfg = crate::gandi::config(&dir, &gandi, "", "zones = example.com");
    let before = gandi.rrsets("example.com");
    let set = get("hostname=home.example.com&myip=84.17.5.9");
    assert_answer(&run(&cfg, &set), "200 OK", "good 84.17.5.9\n");
    assert!(
        state_text(dir.path(), "home.example.com")
            .unwrap()
            .contains("\nA 84.17.5.9 ")
    );

    gandi.clear_requests();
    let delete = get("hostname=home.example.com").env("SCRIPT_NAME", "/nic/delete");
    let answer = run(&cfg, &delete);
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(gandi.rrset("example.com", "home", "A"), None);
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), None);
    crate::gandi::untouched(&gandi, &before, &[("home", "A"), ("home", "AAAA")]);
    assert_eq!(gandi.rrsets("example.com").len(), before.len() - 2);
    assert_eq!(
        gandi_calls(&gandi),
        // Both types are read before either is deleted.
        [
            "GET /v5/livedns/domains/example.com/records/home/A",
            "GET /v5/livedns/domains/example.com/records/home/AAAA",
            "DELETE /v5/livedns/domains/example.com/records/home/A",
            "DELETE /v5/livedns/domains/example.com/records/home/AAAA",
        ]
    );
    assert_logged(
        &answer,
        "home.example.com 84.17.5.9,2001:db8:85a3::8a2e:370:7334 -> delete A delete AAAA good -> 200 good",
    );
    let state = state_text(dir.path(), "home.example.com").unwrap();
    assert!(
        !state.contains("\nA ") && !state.contains("\nAAAA "),
        "{state}"
    );

    // Nothing left: nochg, and nothing is sent but the reads.
    gandi.clear_requests();
    assert_answer(&run(&cfg, &delete), "200 OK", "nochg\n");
    assert!(gandi_calls(&gandi).iter().all(|c| c.starts_with("GET ")));

    // The address set before the delete is asked for again: Gandi is asked (and has no
    // record, which may not be created here), not answered nochg from the old state.
    gandi.clear_requests();
    assert_answer(&run(&cfg, &set), "200 OK", "nohost\n");
    assert_eq!(
        gandi_calls(&gandi),
        ["GET /v5/livedns/domains/example.com/records/home/A"]
    );
    let create = crate::gandi::config(
        &dir,
        &gandi,
        "create_missing_records = yes",
        "zones = example.com",
    );
    assert_answer(&run(&create, &set), "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.9"]))
    );
}

#[test]
fn a_delete_is_narrowed_to_the_family_myip_names() {
    let dir = TempDir::new("delete-narrow");
    let gandi = crate::gandi::fake();
    let cfg = crate::gandi::config(&dir, &gandi, "", "zones = example.com");
    let aaaa = gandi.rrset("example.com", "home", "AAAA");
    // Mounted once under a prefix: the route comes from PATH_INFO.
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=0.0.0.0")
            .env("SCRIPT_NAME", "/ddns")
            .path("/nic/delete"),
    );
    assert_answer(&answer, "200 OK", "good\n");
    assert_eq!(gandi.rrset("example.com", "home", "A"), None);
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), aaaa);

    let a_b = gandi.rrset("example.com", "a.b", "A");
    let answer = run(
        &cfg,
        &get("hostname=a.b.example.com&myip=::").env("SCRIPT_NAME", "/nic/delete"),
    );
    // a.b has no AAAA: nothing to remove.
    assert_answer(&answer, "200 OK", "nochg\n");
    assert_eq!(gandi.rrset("example.com", "a.b", "A"), a_b);

    // A name the user may not change is refused as for an update.
    let answer = run(
        &cfg,
        &get("hostname=home.example.org").env("SCRIPT_NAME", "/nic/delete"),
    );
    assert_answer(&answer, "200 OK", "nohost\n");
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=<ipaddr>").env("SCRIPT_NAME", "/nic/delete"),
    );
    assert_answer(&answer, "200 OK", "badip\n");
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), aaaa);
}

#[test]
fn schlundtech_delete_writes_the_zone_back_without_the_records() {
    let dir = TempDir::new("delete-schlund");
    let gw = crate::schlund::fake();
    let text = crate::schlund::config_text(&gw, "zones = example.co.uk");
    let cfg = dir.write_config("ddns.ini", &text);
    let delete = get("hostname=home.example.co.uk").env("SCRIPT_NAME", "/nic/delete");
    let answer = run(&cfg, &delete);
    assert_answer(&answer, "200 OK", "good\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert!(zone.rr("home", "A").is_empty() && zone.rr("home", "AAAA").is_empty());
    crate::schlund::only_changed(&zone, &[("home", "A"), ("home", "AAAA")], false);
    assert_eq!(schlund_codes(&gw), ["0205 S0205", "0202 S0202"]);

    // Nothing left: the zone is read, and not written.
    assert_answer(&run(&cfg, &delete), "200 OK", "nochg\n");
    assert_eq!(
        schlund_codes(&gw),
        ["0205 S0205", "0202 S0202", "0205 S0205"]
    );

    // Set again after the delete: written, not answered from the state before it.
    let set = get("hostname=home.example.co.uk&myip=84.17.5.9");
    let answer = run(
        &dir.write_config(
            "create.ini",
            &text.replacen(
                "[default]\n",
                "[default]\ncreate_missing_records = yes\n",
                1,
            ),
        ),
        &set,
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.9"
    );
}

#[test]
fn the_zone_apex_address_in_main_is_not_deleted() {
    let dir = TempDir::new("delete-apex");
    let gw = crate::schlund::fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &crate::schlund::config_text(&gw, "zones = example.co.uk"),
    );
    let before = gw.zone("example.co.uk").unwrap();
    let answer = run(
        &cfg,
        &get("hostname=example.co.uk&myip=0.0.0.0").env("SCRIPT_NAME", "/nic/delete"),
    );
    assert_answer(&answer, "200 OK", "dnserr\n");
    assert_logged(
        &answer,
        "ddns-cgi: warning: example.co.uk: its A record cannot be deleted: the zone apex's IPv4 address is the zone's <main> address, not a plain record",
    );
    assert_eq!(gw.zone("example.co.uk").unwrap(), before);
    assert_eq!(schlund_codes(&gw), ["0205 S0205"]);
}

#[test]
fn offline_is_donator_unless_the_admin_opts_in_to_delete() {
    let dir = TempDir::new("delete-offline");
    let gw = crate::schlund::fake();
    let text = crate::schlund::config_text(&gw, "zones = example.co.uk");
    let offline = get("hostname=home.example.co.uk&offline=YES");
    let cfg = dir.write_config("ddns.ini", &text);
    assert_answer(&run(&cfg, &offline), "200 OK", "!donator\n");
    assert!(gw.requests().is_empty());
    let before = gw.zone("example.co.uk").unwrap();
    assert_eq!(before.rr("home", "A").len(), 1);

    let opted = dir.write_config(
        "offline.ini",
        &text.replacen("[default]\n", "[default]\ndelete_on_offline = yes\n", 1),
    );
    let answer = run(
        &opted,
        &get("hostname=home.example.co.uk&offline=YES&myip=84.17.5.9"),
    );
    assert_answer(&answer, "200 OK", "good\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert!(
        zone.rr("home", "A").is_empty(),
        "myip narrows offline to IPv4"
    );
    assert_eq!(zone.rr("home", "AAAA"), before.rr("home", "AAAA"));
}
