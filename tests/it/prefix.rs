//! IPv6 prefix + interface ID through the real CGI process: `myipv6=PREFIX/LEN` for the
//! requested names, `ip6lanprefix` for the principal's LAN hosts, against both registrar
//! fakes and a real BIND9, with the stored records and what was left alone asserted.

use fake_registrars::gandi::{FakeGandi, Rrset};
use fake_registrars::schlund::{FakeSchlund, SchlundFault};

use crate::util::{TempDir, assert_answer, assert_logged, assert_not_logged, get, run};

const NAS_ID: &str = "::211:32ff:fe12:3456";

/// Both fakes: `example.co.uk` at SchlundTech, `example.com` at Gandi; alice's router
/// names `home.example.com`, and its LAN hosts are `a.b.example.com` (interface ID from
/// the config, no AAAA yet) and `home.example.co.uk` (ID from its current AAAA), plus
/// `mx1.example.co.uk`, which alice may not change.
fn two_zones(dir: &TempDir, gw: &FakeSchlund, gandi: &FakeGandi, lan: &str) -> std::path::PathBuf {
    let text = crate::schlund::config_text(
        gw,
        &format!(
            "zones = example.co.uk\ncreate_missing_records = yes\n\
             [gandi]\ntoken = {}\nurl = {}\nzones = example.com\n\
             [user:alice]\nuse_global = no\n\
             allowed_hostnames = home.example.com a.b.example.com home.example.co.uk rr.example.com\n\
             lan_hosts = a.b.example.com home.example.co.uk mx1.example.co.uk\n{lan}\n\
             [host:a.b.example.com]\nipv6_interface_id = {NAS_ID}\n",
            crate::gandi::TOKEN,
            gandi.base_url()
        ),
    );
    dir.write_config("ddns.ini", &text)
}

const FRITZ: &str = "hostname=home.example.com&myip=84.17.5.9&myipv6=2a02:908:1200:1200::1&ip6lanprefix=2a02:908:1200:1234::/64";

fn aaaa(gandi: &FakeGandi, name: &str) -> Option<Rrset> {
    gandi.rrset("example.com", name, "AAAA")
}

#[test]
fn a_router_moves_its_lan_hosts_across_two_zones() {
    let dir = TempDir::new("prefix-lan");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let cfg = two_zones(&dir, &gw, &gandi, "");
    let gandi_before = gandi.rrsets("example.com");
    let request = get(FRITZ).env("HTTP_USER_AGENT", "Fritz!Box DDNS/1.0.1");
    let answer = run(&cfg, &request);
    // One line, for the one name asked for.
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.9"]))
    );
    assert_eq!(
        aaaa(&gandi, "home"),
        Some(Rrset::new("home", "AAAA", 300, &["2a02:908:1200:1200::1"]))
    );
    // The interface ID from the config; the LAN host's A is left alone.
    assert_eq!(
        aaaa(&gandi, "a.b"),
        Some(Rrset::new(
            "a.b",
            "AAAA",
            300,
            &["2a02:908:1200:1234:211:32ff:fe12:3456"]
        ))
    );
    crate::gandi::untouched(
        &gandi,
        &gandi_before,
        &[("home", "A"), ("home", "AAAA"), ("a.b", "AAAA")],
    );
    // The interface ID from the current record; one zone write; mx1 untouched.
    let zone = gw.zone("example.co.uk").unwrap();
    let values: Vec<String> = zone
        .rr("home", "AAAA")
        .iter()
        .map(|r| r.value.clone())
        .collect();
    assert_eq!(values, ["2a02:908:1200:1234:0:8a2e:370:7334"]);
    crate::schlund::only_changed(&zone, &[("home", "AAAA")], false);
    let updates = gw
        .requests()
        .iter()
        .filter(|r| r.task_code == "0202")
        .count();
    assert_eq!(updates, 1);
    assert_logged(
        &answer,
        "LAN host mx1.example.co.uk is not among the names they may change",
    );
    assert_logged(&answer, "a.b.example.com");
    assert_logged(
        &answer,
        "home.example.co.uk 2001:db8:85a3::8a2e:370:7334 -> AAAA 2a02:908:1200:1234:0:8a2e:370:7334 good",
    );

    // A repeat: answered from state, no registrar call at all.
    gandi.clear_requests();
    gw.clear_requests();
    let answer = run(&cfg, &request);
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    assert!(gandi.requests().is_empty(), "{:?}", gandi.requests());
    assert!(gw.requests().is_empty(), "{:?}", gw.requests());
    assert_logged(&answer, "| 0 registrar calls |");

    // A new LAN prefix: each host keeps its interface ID.
    let moved = FRITZ.replace("1234::/64", "5678::/64");
    let answer = run(&cfg, &get(&moved));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_eq!(
        aaaa(&gandi, "a.b").unwrap().values,
        ["2a02:908:1200:5678:211:32ff:fe12:3456"]
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(
        zone.rr("home", "AAAA")[0].value,
        "2a02:908:1200:5678:0:8a2e:370:7334"
    );
    assert_eq!(
        zone.rr("home", "A")[0].value,
        "198.51.100.7",
        "the family not sent is left alone"
    );
}

#[test]
fn lan_hosts_ipv4_also_moves_their_a_record() {
    let dir = TempDir::new("prefix-lan-v4");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let cfg = two_zones(&dir, &gw, &gandi, "lan_hosts_ipv4 = yes");
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_eq!(
        gandi.rrset("example.com", "a.b", "A").unwrap().values,
        ["84.17.5.9"]
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.9");
    crate::schlund::only_changed(&zone, &[("home", "A"), ("home", "AAAA")], false);
}

#[test]
fn a_lan_host_the_registrar_fails_for_makes_the_router_retry() {
    let dir = TempDir::new("prefix-lan-911");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let cfg = two_zones(&dir, &gw, &gandi, "");
    gw.set_fault(SchlundFault::Http500Html);
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "911\n");
    gw.set_fault(SchlundFault::None);
    // The router asks again and everything is finished.
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(
        zone.rr("home", "AAAA")[0].value,
        "2a02:908:1200:1234:0:8a2e:370:7334"
    );
}

#[test]
fn a_lan_host_without_an_interface_id_is_only_logged() {
    let dir = TempDir::new("prefix-lan-noid");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    // rr.example.com has no AAAA and no configured interface ID.
    let cfg = two_zones(&dir, &gw, &gandi, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "lan_hosts = a.b.example.com",
        "lan_hosts = rr.example.com a.b.example.com",
    );
    std::fs::write(&cfg, text).unwrap();
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_logged(
        &answer,
        "rr.example.com: no interface ID to join to the IPv6 prefix: it is not configured and the host has 0 AAAA records; set ipv6_interface_id in a [host:rr.example.com] section",
    );
    assert!(aaaa(&gandi, "rr").is_none());
    assert!(aaaa(&gandi, "a.b").is_some());
}

/// Gandi only, with interface IDs for two hosts.
fn gandi_only(dir: &TempDir, gandi: &FakeGandi) -> std::path::PathBuf {
    dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com\ncreate_missing_records = yes\n\
             [gandi]\ntoken = {}\nurl = {}\nzones = example.com\n\
             [host:a.b.example.com]\nipv6_interface_id = ::34:211:32ff:fe12:3456\n\
             [host:rr.example.com]\nipv6_interface_id = 1::1\n",
            crate::gandi::TOKEN,
            gandi.base_url()
        ),
    )
}

#[test]
fn a_prefix_for_the_requested_names_in_56_and_64() {
    let dir = TempDir::new("prefix-own");
    let gandi = crate::gandi::fake();
    let cfg = gandi_only(&dir, &gandi);
    let before = gandi.rrsets("example.com");
    // /56: the ID reaches into the subnet bits.
    let answer = run(
        &cfg,
        &get("hostname=a.b.example.com&myipv6=2a02:908:1200:1200::/56"),
    );
    assert_answer(&answer, "200 OK", "good 2a02:908:1200:1200::/56\n");
    assert_eq!(
        aaaa(&gandi, "a.b").unwrap().values,
        ["2a02:908:1200:1234:211:32ff:fe12:3456"]
    );
    // A router's own LAN address with its length names the same prefix.
    let answer = run(
        &cfg,
        &get("hostname=a.b.example.com&myipv6=2a02:908:1200:12ff::1/56"),
    );
    assert_answer(&answer, "200 OK", "nochg 2a02:908:1200:12ff::1/56\n");
    // /64, the ID from the current AAAA (2001:db8:85a3::8a2e:370:7334), with myip too.
    gandi.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(
        &answer,
        "200 OK",
        "good 84.17.5.9,2a02:908:1200:1234::/64\n",
    );
    assert_eq!(
        aaaa(&gandi, "home").unwrap().values,
        ["2a02:908:1200:1234:0:8a2e:370:7334"]
    );
    // The AAAA read for its interface ID is the read its write uses: one GET per type.
    let reads: Vec<String> = gandi
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    crate::gandi::untouched(
        &gandi,
        &before,
        &[("a.b", "AAAA"), ("home", "AAAA"), ("home", "A")],
    );
    gandi.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(
        &answer,
        "200 OK",
        "nochg 84.17.5.9,2a02:908:1200:1234::/64\n",
    );
    assert!(gandi.requests().is_empty());
}

#[test]
fn every_unusable_prefix_is_badip_and_changes_nothing() {
    let dir = TempDir::new("prefix-badip");
    let gandi = crate::gandi::fake();
    let cfg = gandi_only(&dir, &gandi);
    let before = gandi.rrsets("example.com");
    for (query, logged) in [
        (
            "myipv6=2a02:908:1200:1234::/80",
            "a /80 prefix; prefix lengths of 1 to 64",
        ),
        (
            "myipv6=2a02:908:1200:1234::/647656:211:32ff:fe12:3456",
            "not an IPv6 prefix written as ADDRESS/LENGTH",
        ),
        (
            "myipv6=2a02:908:1200:1234::/64&ip6lanprefix=<ip6lanprefix>",
            "unfilled placeholder",
        ),
        ("myipv6=%3Cip6addr%3E/64", "unfilled placeholder"),
        ("myipv6=2001:db8:1::/48", "a documentation address"),
        ("myipv6=fd00:1:2:3::/64", "a unique-local address"),
        ("myip=84.17.5.0/24", "not an IPv4 or IPv6 address"),
        (
            "myip=2a02:908:1200:1234::/64",
            "not an IPv4 or IPv6 address",
        ),
        (
            "myip=2a02:908:1200:1200::1&myipv6=2a02:908:1200:1234::/64",
            "two different addresses",
        ),
    ] {
        let answer = run(&cfg, &get(&format!("hostname=home.example.com&{query}")));
        assert_answer(&answer, "200 OK", "badip\n");
        assert_logged(&answer, logged);
    }
    // The ID does not fit the host bits: that host alone is badip.
    let answer = run(
        &cfg,
        &get("hostname=rr.example.com,home.example.com&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(&answer, "200 OK", "badip\ngood 2a02:908:1200:1234::/64\n");
    assert_logged(
        &answer,
        "interface ID 1::1 does not fit in the 64 host bits of a /64 prefix",
    );
    // No ID known: nohost, with the key to set.
    let answer = run(
        &cfg,
        &get("hostname=mail.example.com&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(&answer, "200 OK", "nohost\n");
    assert_logged(
        &answer,
        "set ipv6_interface_id in a [host:mail.example.com] section",
    );
    crate::gandi::untouched(&gandi, &before, &[("home", "AAAA")]);
    assert_eq!(gandi.rrsets("example.com").len(), before.len());
}

#[test]
fn the_interface_id_key_is_checked_when_the_config_is_read() {
    let dir = TempDir::new("prefix-config");
    let gandi = crate::gandi::fake();
    for (id, problem) in [
        ("nas", "is not the host part written as an IPv6 address"),
        ("2a02::1/64", "has bits inside a /64 prefix"),
        ("::1/72", "is not a prefix length of 1 to 64"),
    ] {
        let cfg = dir.write_config(
            "bad.ini",
            &format!(
                "[default]\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n[host:nas.example.com]\nipv6_interface_id = {id}\n",
                crate::gandi::TOKEN,
                gandi.base_url()
            ),
        );
        let answer = run(&cfg, &get("hostname=nas.example.com&myip=84.17.5.9"));
        assert_answer(&answer, "200 OK", "911\n");
        assert_logged(&answer, "[host:nas.example.com]");
        assert_logged(&answer, problem);
    }
    assert!(gandi.writes().is_empty());
}

#[test]
fn a_prefix_against_a_real_bind() {
    use crate::nameserver::{NameServer, config};
    let dir = TempDir::new("prefix-bind");
    let ns = NameServer::bind(crate::rfc2136::POLICY);
    let cfg = config(
        &dir,
        &ns,
        "[host:v4only.example.com]\nipv6_interface_id = ::4",
        "",
    );
    let before = ns.zone();
    // home's AAAA is 2001:db8::1: its host part follows the new prefix.
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(&answer, "200 OK", "good 2a02:908:1200:1234::/64\n");
    assert_eq!(
        ns.values("home.example.com", "AAAA"),
        ["2a02:908:1200:1234::1"]
    );
    assert_eq!(ns.values("home.example.com", "A"), ["192.0.2.1"]);
    assert_not_logged(&answer, &ns.secret);
    let after = ns.zone();
    assert_eq!(
        crate::rfc2136::except(&after, &["home.example.com."]),
        crate::rfc2136::except(&before, &["home.example.com."])
    );
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myipv6=2a02:908:1200:1234::/64"),
    );
    assert_answer(&answer, "200 OK", "nochg 2a02:908:1200:1234::/64\n");
    assert_logged(&answer, "| 0 registrar calls |");
    assert_eq!(ns.serial(), 2);
}

/// A FRITZ!Box through real Apache with the deploy snippet: HTTP/1.0, its user agent, the
/// placeholders filled in unescaped; the router's own name at Gandi and two LAN hosts at
/// SchlundTech, one with a configured interface ID and one taking it from its record.
#[test]
fn a_fritzbox_through_apache_moves_its_lan_hosts() {
    use crate::apache::Apache;
    use crate::webserver::{Frontend, PASSWORD, Request, Stack, USER, assert_body};
    let stack = Stack::with(
        "apache-prefix",
        "create_missing_records = yes\nlan_hosts = home.example.co.uk a.b.example.co.uk",
        &format!("[host:a.b.example.co.uk]\nipv6_interface_id = {NAS_ID}\n"),
    );
    let apache = Apache::start(&stack.site);
    let gandi_before = stack.gandi.rrsets("example.com");
    let target = format!("{}/nic/update?{FRITZ}", apache.prefix());
    let send = || {
        Request::get(&target)
            .http10()
            .header("User-Agent", "Fritz!Box DDNS/1.0.1")
            .auth(USER, PASSWORD)
            .send(apache.port())
    };
    let answer = send();
    assert_body(&apache, &answer, "good 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_eq!(
        stack
            .gandi
            .rrset("example.com", "home", "AAAA")
            .unwrap()
            .values,
        ["2a02:908:1200:1200::1"]
    );
    crate::gandi::untouched(
        &stack.gandi,
        &gandi_before,
        &[("home", "A"), ("home", "AAAA")],
    );
    assert_eq!(
        stack.value("home", "AAAA"),
        "2a02:908:1200:1234:0:8a2e:370:7334"
    );
    assert_eq!(
        stack.value("a.b", "AAAA"),
        "2a02:908:1200:1234:211:32ff:fe12:3456"
    );
    assert_eq!(stack.value("a.b", "A"), "198.51.100.8");
    assert_eq!(stack.value("home", "A"), "198.51.100.7");
    assert_eq!(stack.zone_writes(), 1, "one write for both LAN hosts");
    let answer = send();
    assert_body(&apache, &answer, "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_eq!(stack.zone_writes(), 1);
}

/// The FRITZ!Box request against a real BIND: the router's own name, and its LAN hosts
/// `v4only.example.com` (interface ID from the config, no AAAA yet) and
/// `printer.example.com` (ID from its current AAAA), all in one UPDATE message.
#[test]
fn a_fritzbox_moves_its_lan_hosts_on_a_real_bind_in_one_message() {
    use crate::nameserver::{Flavour, NameServer, config};
    use crate::rfc2136::{POLICY, except, updates_applied};
    let dir = TempDir::new("prefix-bind-lan");
    let ns = NameServer::with_zone(
        Flavour::Bind,
        POLICY,
        "hmac-sha256",
        "printer  IN AAAA  2001:db8:85a3::8a2e:370:7334\n",
    );
    let cfg = config(
        &dir,
        &ns,
        &format!(
            "create_missing_records = yes\nlan_hosts = v4only.example.com printer.example.com\n\
             [host:v4only.example.com]\nipv6_interface_id = {NAS_ID}"
        ),
        "",
    );
    let before = ns.zone();
    assert_eq!(ns.serial(), 1);
    let request = get(FRITZ).env("HTTP_USER_AGENT", "Fritz!Box DDNS/1.0.1");
    let answer = run(&cfg, &request);
    assert_answer(&answer, "200 OK", "good 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_not_logged(&answer, &ns.secret);
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.9"]);
    assert_eq!(
        ns.values("home.example.com", "AAAA"),
        ["2a02:908:1200:1200::1"]
    );
    assert_eq!(
        ns.with_ttl("v4only.example.com", "AAAA"),
        ["300 2a02:908:1200:1234:211:32ff:fe12:3456"]
    );
    assert_eq!(ns.values("v4only.example.com", "A"), ["192.0.2.4"]);
    assert_eq!(
        ns.values("printer.example.com", "AAAA"),
        ["2a02:908:1200:1234:0:8a2e:370:7334"]
    );
    assert_logged(
        &answer,
        "printer.example.com 2001:db8:85a3::8a2e:370:7334 -> AAAA 2a02:908:1200:1234:0:8a2e:370:7334 good",
    );
    // One message: four RRsets replaced, the serial up by one.
    assert_eq!(ns.serial(), 2);
    assert_eq!(updates_applied(&ns), 4);
    let names = [
        "home.example.com.",
        "v4only.example.com.",
        "printer.example.com.",
    ];
    let after = ns.zone();
    assert_eq!(except(&after, &names), except(&before, &names));
    assert!(after.contains(&"v4only.example.com. 300 IN A 192.0.2.4".to_string()));

    // A repeat: answered from state, no DNS exchange at all.
    let answer = run(&cfg, &request);
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    assert_logged(&answer, "| 0 registrar calls |");
    assert_eq!(ns.serial(), 2);
    assert_eq!(updates_applied(&ns), 4);
    assert_eq!(ns.zone(), after);
}

/// A LAN host whose zone's lock is busy makes the router retry too; the zone it could
/// lock is written, the busy one is left alone.
#[test]
fn a_lan_host_whose_zone_lock_is_busy_makes_the_router_retry() {
    let dir = TempDir::new("prefix-lan-lock");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let cfg = two_zones(&dir, &gw, &gandi, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "create_missing_records = yes",
        "create_missing_records = yes\nlock_wait = 1",
    );
    std::fs::write(&cfg, text).unwrap();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let locks = dir.path().join("state/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held = std::fs::File::create(locks.join("schlund-example.co.uk.lock")).unwrap();
    held.lock().unwrap();
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "still held by another request after 1 s");
    assert!(gw.requests().is_empty());
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    // The Gandi zone was not waiting for it.
    assert_eq!(
        aaaa(&gandi, "a.b").unwrap().values,
        ["2a02:908:1200:1234:211:32ff:fe12:3456"]
    );
    drop(held);
    let answer = run(&cfg, &get(FRITZ));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.9,2a02:908:1200:1200::1\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(
        zone.rr("home", "AAAA")[0].value,
        "2a02:908:1200:1234:0:8a2e:370:7334"
    );
}
