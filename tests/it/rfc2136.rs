//! DNS UPDATE through the real CGI process against a real BIND9 on 127.0.0.1: the answer,
//! the zone as `dig` reads it afterwards, the SOA serial, and what was left alone.

use std::time::{Duration, Instant};

use crate::nameserver::{NameServer, config};
use crate::util::{Answer, TempDir, assert_answer, assert_logged, assert_not_logged, get, run};

/// BIND's policy in the tests: the key may change A and AAAA anywhere in the zone.
pub const POLICY: &str = "grant ddns-key. zonesub A AAAA;";

/// The zone lines that are not at `names`, for comparing what was left alone.
pub fn except(zone: &[String], names: &[&str]) -> Vec<String> {
    zone.iter()
        .filter(|l| !names.iter().any(|n| l.starts_with(&format!("{n} "))))
        .cloned()
        .collect()
}

/// How many UPDATE messages the server applied (BIND logs each change it makes).
pub fn updates_applied(ns: &NameServer) -> usize {
    ns.log()
        .lines()
        .filter(|l| l.contains("updating zone 'example.com/IN': deleting rrset"))
        .count()
}

/// The answer, and neither the key's secret nor its base64 anywhere in what the binary
/// wrote.
#[track_caller]
fn expect(answer: &Answer, ns: &NameServer, body: &str) {
    assert_answer(answer, "200 OK", body);
    assert_not_logged(answer, &ns.secret);
    assert!(!answer.raw.contains(&ns.secret));
}

#[test]
fn v4_only_replaces_a_and_a_repeat_sends_nothing() {
    let dir = TempDir::new("rfc2136-v4");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "cache_seconds = 0", "");
    let before = ns.zone();
    assert_eq!(ns.serial(), 1);

    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    expect(&answer, &ns, "good 84.17.5.9\n");
    assert_eq!(ns.with_ttl("home.example.com", "A"), ["300 84.17.5.9"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2001:db8::1"]);
    assert_eq!(ns.serial(), 2);
    let after = ns.zone();
    assert_eq!(
        except(&after, &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
    assert!(after.contains(&"home.example.com. 300 IN AAAA 2001:db8::1".to_string()));
    assert!(after.contains(&"example.com. 300 IN MX 10 mail.example.com.".to_string()));
    assert!(after.contains(&"example.com. 300 IN TXT \"v=spf1 -all\"".to_string()));
    // One signed query, one UPDATE.
    assert_logged(&answer, "home.example.com 192.0.2.1 -> A 84.17.5.9 good");
    assert_logged(&answer, "| 2 registrar calls |");
    assert_eq!(updates_applied(&ns), 1);

    // A repeat reads, sends no UPDATE, and keeps the serial.
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    expect(&answer, &ns, "nochg 84.17.5.9\n");
    assert_logged(&answer, "| 1 registrar calls |");
    assert_eq!(ns.serial(), 2);
    assert_eq!(updates_applied(&ns), 1);
    assert_eq!(ns.zone(), after);
}

#[test]
fn dual_stack_and_two_hosts_go_in_one_message() {
    let dir = TempDir::new("rfc2136-dual");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "", "");
    let before = ns.zone();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com&myip=84.17.5.9,2a01:4f8::9"),
    );
    expect(&answer, &ns, "good 84.17.5.9,2a01:4f8::9\n");
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.9"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2a01:4f8::9"]);
    assert_eq!(ns.serial(), 2, "one message, one serial");
    assert_eq!(updates_applied(&ns), 2, "A and AAAA each logged once");

    let answer = run(
        &cfg,
        &get("hostname=home.example.com,v4only.example.com&myip=84.17.5.10"),
    );
    expect(&answer, &ns, "good 84.17.5.10\ngood 84.17.5.10\n");
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.10"]);
    assert_eq!(ns.values("v4only.example.com", "A"), ["84.17.5.10"]);
    assert_eq!(ns.serial(), 3, "two hosts, one message, one serial");
    assert_logged(&answer, "| 3 registrar calls |");
    let names = ["home.example.com.", "v4only.example.com."];
    assert_eq!(except(&ns.zone(), &names), except(&before, &names));
}

#[test]
fn the_existing_ttl_is_kept_unless_configured() {
    let dir = TempDir::new("rfc2136-ttl");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "", "");
    let answer = run(&cfg, &get("hostname=long.example.com&myip=84.17.5.11"));
    expect(&answer, &ns, "good 84.17.5.11\n");
    assert_eq!(ns.with_ttl("long.example.com", "A"), ["3600 84.17.5.11"]);

    let cfg = config(&dir, &ns, "", "ttl = 60");
    let answer = run(&cfg, &get("hostname=v4only.example.com&myip=84.17.5.12"));
    expect(&answer, &ns, "good 84.17.5.12\n");
    assert_eq!(ns.with_ttl("v4only.example.com", "A"), ["60 84.17.5.12"]);

    // A name without the record: refused by default, created with 300 when allowed.
    let answer = run(&cfg, &get("hostname=new.example.com&myip=84.17.5.13"));
    expect(&answer, &ns, "nohost\n");
    assert_logged(&answer, "new.example.com has no A record");
    assert!(ns.values("new.example.com", "A").is_empty());
    let cfg = config(&dir, &ns, "create_missing_records = yes", "");
    let answer = run(&cfg, &get("hostname=new.example.com&myip=84.17.5.13"));
    expect(&answer, &ns, "good 84.17.5.13\n");
    assert_eq!(ns.with_ttl("new.example.com", "A"), ["300 84.17.5.13"]);
}

#[test]
fn a_cname_or_a_delegated_name_is_never_written() {
    let dir = TempDir::new("rfc2136-cname");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "create_missing_records = yes", "");
    let before = ns.zone();
    let answer = run(&cfg, &get("hostname=www.example.com&myip=84.17.5.14"));
    // The core's answer for an alias, as for every backend.
    expect(&answer, &ns, "nohost\n");
    assert_logged(&answer, "www.example.com is a CNAME");

    let answer = run(&cfg, &get("hostname=host.sub.example.com&myip=84.17.5.14"));
    expect(&answer, &ns, "nohost\n");
    assert_logged(
        &answer,
        "host.sub.example.com lies in sub.example.com., which is delegated",
    );
    assert_eq!(ns.serial(), 1);
    assert_eq!(ns.zone(), before);
    assert_eq!(updates_applied(&ns), 0);
}

#[test]
fn key_and_policy_failures_answer_911_and_say_what_to_fix() {
    let dir = TempDir::new("rfc2136-keys");
    let ns = NameServer::bind("grant ddns-key. name home.example.com. A AAAA;");
    let query = get("hostname=home.example.com&myip=84.17.5.15");

    let wrong_secret = "c2VjcmV0IHRoYXQgdGhlIHNlcnZlciBkb2VzIG5vdCBrbm93IQ==";
    let text = std::fs::read_to_string(config(&dir, &ns, "", "")).unwrap();
    let cfg = dir.write("secret.ini", &text.replace(&ns.secret, wrong_secret));
    let answer = run(&cfg, &query);
    expect(&answer, &ns, "911\n");
    assert_logged(
        &answer,
        "rejected our signature (BADSIG: key_secret differs from the secret of key ddns-key",
    );
    assert_not_logged(&answer, wrong_secret);

    let cfg = dir.write(
        "name.ini",
        &text.replace("key_name = ddns-key", "key_name = other-key"),
    );
    let answer = run(&cfg, &query);
    expect(&answer, &ns, "911\n");
    assert_logged(
        &answer,
        "rejected our signature (BADKEY: the server knows no key other-key with algorithm hmac-sha256",
    );

    let cfg = dir.write("alg.ini", &format!("{text}key_algorithm = hmac-sha512\n"));
    expect(&run(&cfg, &query), &ns, "911\n");

    // The policy grants home only.
    let cfg = config(&dir, &ns, "", "");
    let answer = run(&cfg, &get("hostname=v4only.example.com&myip=84.17.5.15"));
    expect(&answer, &ns, "911\n");
    assert_logged(
        &answer,
        "refused it (REFUSED): its policy does not let key ddns-key change this name or type",
    );
    assert_eq!(ns.values("v4only.example.com", "A"), ["192.0.2.4"]);
    let answer = run(&cfg, &query);
    expect(&answer, &ns, "good 84.17.5.15\n");
    assert_eq!(ns.serial(), 2);
}

#[test]
fn a_closed_port_and_a_silent_server_answer_911_within_the_budget() {
    let dir = TempDir::new("rfc2136-down");
    let ns = NameServer::bind(POLICY);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = std::fs::read_to_string(config(&dir, &ns, "timeout = 2", "")).unwrap();
    let cfg = dir.write(
        "closed.ini",
        &text.replace(&format!("port = {}", ns.port), &format!("port = {port}")),
    );
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.16"));
    expect(&answer, &ns, "911\n");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_logged(
        &answer,
        &format!(
            "no answer from 127.0.0.1:{port} over tcp (connecting over TCP: connection refused); check the server and port keys"
        ),
    );

    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let cfg = dir.write(
        "silent.ini",
        &format!(
            "{}transport = udp\n",
            text.replace(&format!("port = {}", ns.port), &format!("port = {port}"))
        ),
    );
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.16"));
    let took = started.elapsed();
    expect(&answer, &ns, "911\n");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_logged(&answer, "did not answer within the configured timeout");
    assert_eq!(ns.values("home.example.com", "A"), ["192.0.2.1"]);
}

#[test]
fn udp_carries_a_small_update() {
    let dir = TempDir::new("rfc2136-udp");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "log_level = debug", "transport = udp");
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.17"));
    expect(&answer, &ns, "good 84.17.5.17\n");
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.17"]);
    assert_logged(
        &answer,
        &format!(
            "updating zone example.com at 127.0.0.1:{} over udp: 1 prerequisites, 2 updates: NOERROR",
            ns.port
        ),
    );
}

#[test]
fn nic_delete_removes_both_families_in_one_message() {
    let dir = TempDir::new("rfc2136-delete");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "", "");
    let before = ns.zone();
    let delete = get("hostname=home.example.com").env("SCRIPT_NAME", "/nic/delete");
    let answer = run(&cfg, &delete);
    expect(&answer, &ns, "good\n");
    assert!(ns.values("home.example.com", "A").is_empty());
    assert!(ns.values("home.example.com", "AAAA").is_empty());
    assert_eq!(ns.serial(), 2);
    assert_eq!(
        except(&ns.zone(), &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
    assert_eq!(ns.zone().len(), before.len() - 2);
    // Nothing left to delete: no UPDATE.
    let answer = run(&cfg, &delete);
    assert_logged(&answer, "| 2 registrar calls |");
    assert_eq!(ns.serial(), 2);
}

#[test]
fn dyndns_delete_by_path_and_delete_missing_family() {
    use crate::dyndns::{SECRET, at, user_section};
    let dir = TempDir::new("rfc2136-dyndns");
    let ns = NameServer::bind(POLICY);
    let text = std::fs::read_to_string(config(&dir, &ns, "", "")).unwrap();
    let cfg = dir.write(
        "dyndns.ini",
        &format!(
            "{text}{}[dialect:dyndns]\ndelete_missing_family = yes\n",
            user_section()
        ),
    );
    let before = ns.zone();
    let answer = run(
        &cfg,
        &at(
            &format!("/update-by-path/{SECRET}/home.example.com/84.17.5.18"),
            "",
        ),
    );
    expect(
        &answer,
        &ns,
        "UPDATED: home.example.com. A 192.0.2.1 -> 84.17.5.18\nUPDATED: home.example.com. AAAA 2001:db8::1 -> None\n",
    );
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.18"]);
    assert!(ns.values("home.example.com", "AAAA").is_empty());
    assert_eq!(
        ns.serial(),
        2,
        "the other family deleted in the same message"
    );

    let answer = run(
        &cfg,
        &at(&format!("/delete-by-path/{SECRET}/home.example.com"), ""),
    );
    expect(
        &answer,
        &ns,
        "UPDATED: The A and AAAA records of the domain name 'home.example.com.' were deleted.\n",
    );
    assert!(ns.values("home.example.com", "A").is_empty());
    assert_eq!(ns.serial(), 3);
    assert_eq!(
        except(&ns.zone(), &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
    assert!(!answer.stderr.contains(SECRET));
}

#[test]
fn check_config_probe_proves_the_key() {
    let dir = TempDir::new("rfc2136-probe");
    let ns = NameServer::bind(POLICY);
    let cfg = config(&dir, &ns, "", "");
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "--probe", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("key_secret = ***"), "{text}");
    assert!(
        text.contains(&format!(
            "key ddns-key accepted by 127.0.0.1:{} over tcp; zones example.com (serial 1) served",
            ns.port
        )),
        "{text}"
    );
    assert!(!text.contains(&ns.secret));
    assert_eq!(updates_applied(&ns), 0);

    let bad = dir.write(
        "md5.ini",
        &format!(
            "{}key_algorithm = hmac-md5\n",
            std::fs::read_to_string(&cfg).unwrap()
        ),
    );
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "--config"])
        .arg(&bad)
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        text.contains("hmac-md5 must not be used for TSIG"),
        "{text}"
    );
    assert!(!text.contains(&ns.secret));
}

/// The backend in this process, against `ns`, so the clock passed to it can be set: the
/// binary reads the system's, which a test cannot shift.
pub fn account(ns: &NameServer, secret: &str) -> ddns_cgi::backend::rfc2136::Rfc2136 {
    use ddns_cgi::backend::rfc2136::settings::Rfc2136Settings;
    use ddns_cgi::backend::rfc2136::transport::{Network, Protocol};
    use ddns_cgi::backend::rfc2136::tsig::Algorithm;
    let settings = Rfc2136Settings {
        server: "127.0.0.1".into(),
        port: ns.port,
        key_name: "ddns-key".into(),
        key_secret: ddns_cgi::secret::Secret::new(secret),
        key_algorithm: Algorithm::Sha256,
        zones: vec!["example.com".into()],
        ttl: None,
        transport: Protocol::Tcp,
    };
    let network = Network {
        server: "127.0.0.1".into(),
        port: ns.port,
        protocol: Protocol::Tcp,
        budget: ddns_cgi::budget::Budget::new(Duration::from_secs(5)),
    };
    let policy = ddns_cgi::backend::EditPolicy {
        create_missing: false,
        collapse_round_robin: false,
        rewrite: false,
    };
    ddns_cgi::backend::rfc2136::Rfc2136::new("rfc2136".into(), settings, policy, Box::new(network))
}

/// One change of `host`'s A record to `addr`.
pub fn set_a(host: &str, addr: &str) -> ddns_cgi::backend::ZoneChange {
    use ddns_cgi::core::operation::Operation;
    ddns_cgi::backend::ZoneChange {
        zone: "example.com".into(),
        force: false,
        records: vec![ddns_cgi::backend::RecordChange {
            host: host.parse().unwrap(),
            name: host.trim_end_matches(".example.com").into(),
            operations: vec![Operation::Set(addr.parse().unwrap())],
            known: Default::default(),
            ttl: None,
        }],
    }
}

#[test]
fn a_clock_an_hour_off_is_refused_as_badtime_and_answered_911() {
    use ddns_cgi::backend::Registrar;
    use ddns_cgi::core::Outcome;
    let ns = NameServer::bind(POLICY);
    let log = ddns_cgi::log::Log::stderr(ddns_cgi::log::Level::Error);
    let ahead = || std::time::SystemTime::now() + Duration::from_secs(3600);
    let error = account(&ns, &ns.secret)
        .apply(&set_a("home.example.com", "84.17.5.19"), &ahead, &log)
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("refused our signature as BADTIME: this host's clock is 3600 s ahead of the server's (300 s allowed); fix the time (NTP)")
        || text.contains("3599 s ahead") || text.contains("3601 s ahead"), "{text}");
    assert_eq!(Outcome::of_error(&error), Outcome::ServerSide);
    assert_eq!(ns.values("home.example.com", "A"), ["192.0.2.1"]);
    assert_eq!(ns.serial(), 1);

    let behind = || std::time::SystemTime::now() - Duration::from_secs(3600);
    let text = account(&ns, &ns.secret)
        .apply(&set_a("home.example.com", "84.17.5.19"), &behind, &log)
        .unwrap_err()
        .to_string();
    assert!(text.contains("s behind the server's"), "{text}");
    assert!(!text.contains(&ns.secret));

    // The same account with the real clock succeeds.
    let now = std::time::SystemTime::now;
    let outcomes = account(&ns, &ns.secret)
        .apply(&set_a("home.example.com", "84.17.5.19"), &now, &log)
        .unwrap();
    assert_eq!(Outcome::of_record(&outcomes[0]), Outcome::Changed);
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.19"]);
}

#[test]
fn a_zone_the_server_does_not_serve_is_nohost_and_no_policy_refusal() {
    let dir = TempDir::new("rfc2136-unserved");
    let ns = NameServer::bind(POLICY);
    let text = std::fs::read_to_string(config(&dir, &ns, "", "")).unwrap();
    let cfg = dir.write(
        "org.ini",
        &text
            .replace("zones = example.com", "zones = example.org")
            .replace("*.example.com example.com", "*.example.org"),
    );
    let before = ns.zone();
    let served = format!(
        "127.0.0.1:{} over tcp does not serve zone example.org; it refused to answer for it (REFUSED); set server to the zone's primary, or fix zones",
        ns.port
    );

    let answer = run(&cfg, &get("hostname=home.example.org&myip=84.17.5.20"));
    expect(&answer, &ns, "nohost\n");
    assert_logged(&answer, &served);
    assert_not_logged(&answer, "update-policy");
    assert_logged(&answer, "| 1 registrar calls |");
    assert_eq!(ns.serial(), 1);
    assert_eq!(ns.zone(), before);
    assert_eq!(updates_applied(&ns), 0);

    // check-config --probe says the same and fails.
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "--probe", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("probe failed: rfc2136: {served}")),
        "{stderr}"
    );
    assert!(!stderr.contains("update-policy"), "{stderr}");

    // The command line: a host that needs the admin (1), not refused credentials (77).
    let out = crate::cli::cli(&cfg, &["update", "home.example.org", "84.17.5.20"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains(&served), "{}", out.stderr);
    assert_eq!(ns.serial(), 1);
}

/// The ```ini blocks of a Markdown text.
fn ini_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("```ini\n") {
        let body = &rest[start + "```ini\n".len()..];
        let end = body.find("```").expect("an ini block is closed");
        blocks.push(body[..end].to_string());
        rest = &body[end..];
    }
    blocks
}

#[test]
fn the_config_snippets_of_the_docs_load_as_written() {
    use ddns_cgi::config::Config;
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).unwrap();
    let migrating = read("docs/migrating.md");
    let part = migrating
        .split("### The name server behind it")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("docs/migrating.md has its name server part")
        .to_string();
    let secret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let hash = ddns_cgi::auth::hash::hash_secret(b"a secret of the router").unwrap();
    let mut loaded = 0;
    for (doc, text) in [
        ("docs/rfc2136.md", read("docs/rfc2136.md")),
        ("docs/migrating.md", part),
    ] {
        let blocks = ini_blocks(&text);
        assert!(!blocks.is_empty(), "{doc} has no ini block");
        for block in blocks {
            // Only the placeholders are filled in; comments stay as written.
            let filled = block
                .replace("<base64 secret>", secret)
                .replace("<the zones[].tsig_key of example.com>", secret)
                .replace("<the zones[].tsig_key of example.org>", secret)
                .replace("$argon2id$v=19$m=19456,t=2,p=1$...", &hash);
            let config = Config::parse_str(&filled, std::path::Path::new("docs.ini"))
                .unwrap_or_else(|e| panic!("{doc}: this block does not load ({e}):\n{block}"));
            let described = ddns_cgi::cli::describe(&config);
            assert!(described.contains("key_secret = ***"), "{doc}: {described}");
            assert!(!described.contains(secret));
            loaded += 1;
        }
    }
    assert_eq!(loaded, 2);
}

#[test]
fn hmac_sha384_and_sha512_keys_update_and_read() {
    use crate::nameserver::Flavour;
    for (algorithm, addr) in [("hmac-sha384", "84.17.5.21"), ("hmac-sha512", "84.17.5.22")] {
        let dir = TempDir::new("rfc2136-alg");
        let ns = NameServer::start(Flavour::Bind, POLICY, algorithm);
        let cfg = config(
            &dir,
            &ns,
            "cache_seconds = 0",
            &format!("key_algorithm = {algorithm}"),
        );
        let query = get(&format!("hostname=home.example.com&myip={addr}"));
        let answer = run(&cfg, &query);
        expect(&answer, &ns, &format!("good {addr}\n"));
        assert_logged(&answer, "| 2 registrar calls |");
        assert_eq!(ns.values("home.example.com", "A"), [addr], "{algorithm}");
        assert_eq!(ns.serial(), 2);
        // The signed read verifies with this algorithm too.
        let answer = run(&cfg, &query);
        expect(&answer, &ns, &format!("nochg {addr}\n"));
        assert_logged(&answer, "| 1 registrar calls |");
        assert_eq!(ns.serial(), 2);
        // The same secret under the default algorithm is another key to the server.
        let text = std::fs::read_to_string(&cfg).unwrap();
        let cfg = dir.write(
            "sha256.ini",
            &text.replace(&format!("key_algorithm = {algorithm}"), ""),
        );
        let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.23"));
        expect(&answer, &ns, "911\n");
        assert_logged(
            &answer,
            "BADKEY: the server knows no key ddns-key with algorithm hmac-sha256",
        );
        assert_eq!(ns.values("home.example.com", "A"), [addr]);
    }
}

/// The zone `example.org` with its own key `org-key`, for a second `[rfc2136:org]`.
const ORG_ZONE: &str = "$ORIGIN example.org.
$TTL 300
@        IN SOA   ns1.example.org. hostmaster.example.org. ( 1 3600 600 86400 300 )
         IN NS    ns1.example.org.
ns1      IN A     127.0.0.1
home     IN A     192.0.2.81
";

#[test]
fn two_sections_two_keys_two_zones_each_written_with_its_own_key() {
    use crate::nameserver::{Flavour, generate_secret};
    let dir = TempDir::new("rfc2136-two");
    let org_secret = generate_secret(Flavour::Bind, "hmac-sha256");
    let org_key =
        format!("key \"org-key\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{org_secret}\";\n}};\n");
    // Each key may change only its own zone.
    let ns = NameServer::bind_with(
        POLICY,
        &[("org.key", &org_key), ("example.org.zone", ORG_ZONE)],
        "include \"{DIR}/org.key\";
zone \"example.org\" {
    type primary;
    file \"{DIR}/example.org.zone\";
    update-policy { grant org-key. zonesub A AAAA; };
};
",
    );
    let org_serial = || {
        ns.dig(&["example.org", "SOA", "+short"])
            .split_whitespace()
            .nth(2)
            .map(str::to_string)
    };
    assert_eq!(org_serial().as_deref(), Some("1"));
    let text = std::fs::read_to_string(config(
        &dir,
        &ns,
        "",
        &format!(
            "[rfc2136:org]\nserver = 127.0.0.1\nport = {}\nkey_name = org-key\nkey_secret = {org_secret}\nzones = example.org\n",
            ns.port
        ),
    ))
    .unwrap();
    let cfg = dir.write(
        "two.ini",
        &text.replace("*.example.com example.com", "*.example.com *.example.org"),
    );
    let before = ns.zone();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com,home.example.org&myip=84.17.5.30"),
    );
    expect(&answer, &ns, "good 84.17.5.30\ngood 84.17.5.30\n");
    assert_not_logged(&answer, &org_secret);
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.30"]);
    assert_eq!(ns.values("home.example.org", "A"), ["84.17.5.30"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2001:db8::1"]);
    assert_eq!(ns.serial(), 2);
    assert_eq!(org_serial().as_deref(), Some("2"));
    // Two reads and two UPDATEs, one per zone.
    assert_logged(&answer, "| 4 registrar calls |");
    assert_eq!(
        except(&ns.zone(), &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
    // org-key was used for example.org: the server logged the update under it.
    assert!(
        ns.log()
            .lines()
            .any(|l| l.contains("org-key") && l.contains("example.org")),
        "{}",
        ns.log()
    );
}

#[test]
fn udp_sends_an_update_over_512_bytes_over_tcp() {
    let dir = TempDir::new("rfc2136-udp-big");
    let ns = NameServer::bind(POLICY);
    let cfg = config(
        &dir,
        &ns,
        "log_level = debug\ncreate_missing_records = yes",
        "transport = udp",
    );
    let before = ns.zone();
    let names: Vec<String> = (1..=8).map(|i| format!("lan{i}.example.com")).collect();
    let answer = run(
        &cfg,
        &get(&format!("hostname={}&myip=84.17.5.31", names.join(","))),
    );
    expect(&answer, &ns, &"good 84.17.5.31\n".repeat(8));
    for name in &names {
        assert_eq!(ns.values(name, "A"), ["84.17.5.31"], "{name}");
    }
    assert_eq!(ns.serial(), 2, "one message");
    assert_logged(&answer, "| 9 registrar calls |");
    let line = answer
        .stderr
        .lines()
        .find(|l| l.contains("updating zone example.com at"))
        .unwrap_or_else(|| panic!("{}", answer.stderr));
    assert!(
        line.contains(&format!(
            "at 127.0.0.1:{} over udp: 8 prerequisites, 16 updates: NOERROR (",
            ns.port
        )) && line.ends_with(" bytes, sent over tcp)"),
        "{line}"
    );
    let bytes: usize = line
        .rsplit('(')
        .next()
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(bytes > 512, "{line}");
    assert_eq!(ns.zone().len(), before.len() + 8);
}

#[test]
fn check_config_probe_with_a_wrong_secret_fails_and_names_the_fix() {
    let dir = TempDir::new("rfc2136-probe-bad");
    let ns = NameServer::bind(POLICY);
    let wrong = "c2VjcmV0IHRoYXQgdGhlIHNlcnZlciBkb2VzIG5vdCBrbm93IQ==";
    let text = std::fs::read_to_string(config(&dir, &ns, "", "")).unwrap();
    let cfg = dir.write("wrong.ini", &text.replace(&ns.secret, wrong));
    let out = std::process::Command::new(crate::util::binary())
        .args(["check-config", "--probe", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "probe failed: rfc2136: the registrar rejected our credentials: reading the SOA of example.com: 127.0.0.1:{} over tcp rejected our signature (BADSIG: key_secret differs from the secret of key ddns-key on the server",
            ns.port
        )),
        "{stderr}"
    );
    assert!(!stdout.contains("config OK"), "{stdout}");
    assert!(!stdout.contains("accepted by"), "{stdout}");
    assert!(!format!("{stdout}{stderr}").contains(wrong));
    assert_eq!(ns.serial(), 1);
}

#[test]
fn dyndns_ttl_is_written_and_a_repeat_is_answered_from_state() {
    use crate::dyndns::{SECRET, at, user_section};
    let dir = TempDir::new("rfc2136-dyndns-ttl");
    let ns = NameServer::bind(POLICY);
    let text = std::fs::read_to_string(config(&dir, &ns, "", "")).unwrap();
    let cfg = dir.write("dyndns.ini", &format!("{text}{}", user_section()));
    let before = ns.zone();
    let query = |rest: &str| {
        at(
            "/update-by-query",
            &format!("secret={SECRET}&fqdn=home.example.com&{rest}"),
        )
    };
    let answer = run(&cfg, &query("ipv4=84.17.5.33&ttl=60"));
    expect(
        &answer,
        &ns,
        "UPDATED: home.example.com. A 192.0.2.1 -> 84.17.5.33\n",
    );
    assert_eq!(ns.with_ttl("home.example.com", "A"), ["60 84.17.5.33"]);
    assert_eq!(
        ns.with_ttl("home.example.com", "AAAA"),
        ["300 2001:db8::1"],
        "the AAAA keeps its TTL"
    );
    assert_eq!(ns.serial(), 2);
    assert_logged(&answer, "| 2 registrar calls |");

    // A repeat: from state, no DNS exchange.
    let answer = run(&cfg, &query("ipv4=84.17.5.33&ttl=60"));
    expect(&answer, &ns, "UNCHANGED: home.example.com. A 84.17.5.33\n");
    assert_logged(&answer, "| 0 registrar calls |");
    assert_eq!(ns.serial(), 2);

    // Only the TTL differs: written (the serial moves), answered as v2 compares values.
    let answer = run(&cfg, &query("ipv4=84.17.5.33&ttl=120"));
    expect(&answer, &ns, "UNCHANGED: home.example.com. A 84.17.5.33\n");
    assert_eq!(ns.with_ttl("home.example.com", "A"), ["120 84.17.5.33"]);
    assert_eq!(ns.serial(), 3);
    assert_eq!(
        except(&ns.zone(), &["home.example.com."]),
        except(&before, &["home.example.com."])
    );
}
