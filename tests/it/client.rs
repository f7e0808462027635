//! The cron client (`client`, `detect`) through the real binary: fake "what is my IP"
//! providers on 127.0.0.1 and [::1], the strict registrar fakes, the real state directory.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fake_registrars::echo::{Echo, EchoReply};
use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser};

use crate::cli::{Out, cli, cli_env, command, gandi_config};
use crate::gandi::TOKEN;
use crate::reliability::assert_no_secret;
use crate::util::{TempDir, assert_answer, get};

const DOC_RANGES: &str =
    "accept_ranges = 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32";

fn body(text: &str) -> Echo {
    Echo::fixed(false, EchoReply::body(text))
}

fn urls(echoes: &[&Echo]) -> String {
    echoes
        .iter()
        .map(|e| e.url())
        .collect::<Vec<_>>()
        .join(", ")
}

fn asked(echoes: &[&Echo]) -> usize {
    echoes.iter().map(|e| e.count()).sum()
}

struct Setup {
    dir: TempDir,
    gandi: FakeGandi,
    config: PathBuf,
}

/// A Gandi account with the fixture zone and a `[client]` section for home.example.com.
fn setup(tag: &str, client: &str) -> Setup {
    let dir = TempDir::new(tag);
    let gandi = FakeGandi::start(&[TOKEN], vec![fixture_zone()]);
    let mut defaults = String::new();
    for (key, value) in [("provider_timeout", "300ms"), ("detect_timeout", "3s")] {
        if !client.contains(key) {
            defaults.push_str(&format!("{key} = {value}\n"));
        }
    }
    let config = gandi_config(
        &dir,
        &gandi,
        &format!("[client]\nhostnames = home.example.com\n{defaults}{client}\n"),
    );
    Setup { dir, gandi, config }
}

impl Setup {
    fn a(&self) -> Option<Rrset> {
        self.gandi.rrset("example.com", "home", "A")
    }
}

#[test]
fn three_agreeing_providers_give_one_write_after_two_questions() {
    let (p1, p2, p3) = (
        body("203.0.113.7\n"),
        body("203.0.113.7"),
        body(" 203.0.113.7 \n"),
    );
    let s = setup(
        "client-agree",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&p1, &p2, &p3])),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(out.stderr, "");
    assert_eq!(asked(&[&p1, &p2, &p3]), 2);
    assert_eq!(s.gandi.writes().len(), 1);
    assert_eq!(s.a(), Some(Rrset::new("home", "A", 300, &["203.0.113.7"])));
    // Every request names us and asks for plain text.
    let one = p1
        .asked()
        .into_iter()
        .chain(p2.asked())
        .chain(p3.asked())
        .next()
        .unwrap();
    assert_eq!(
        one.agent.as_deref(),
        Some(concat!("ddns-cgi/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(one.accept.as_deref(), Some("text/plain"));
    // Unchanged address: within recheck no registrar call at all, and nothing printed.
    s.gandi.clear_requests();
    cli(&s.config, &["client"]).expect(0, "");
    assert!(s.gandi.requests().is_empty());
    cli(&s.config, &["client", "-v"]).expect(0, "nochg home.example.com A 203.0.113.7\n");
    // --force reads the registrar again and writes the address it already holds.
    cli(&s.config, &["client", "--force"])
        .expect(0, "good home.example.com A 203.0.113.7 (was 203.0.113.7)\n");
    assert_eq!(s.gandi.writes().len(), 1);
}

#[test]
fn the_registrar_already_holding_the_address_gets_no_write() {
    let (p1, p2) = (body("198.51.100.7"), body("198.51.100.7"));
    let s = setup(
        "client-same",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&p1, &p2])),
    );
    cli(&s.config, &["client"]).expect(0, "");
    assert_eq!(s.gandi.requests().len(), 1, "one read");
    assert!(s.gandi.writes().is_empty());
}

#[test]
fn dry_run_detects_compares_and_writes_nothing() {
    let (p1, p2) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-dry",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&p1, &p2])),
    );
    cli(&s.config, &["client", "--dry-run"]).expect(
        0,
        "would-update home.example.com A 203.0.113.7 (was unknown: the registrar is not asked in a dry run)\n",
    );
    assert!(s.gandi.requests().is_empty());
    assert!(!s.dir.path().join("state/hosts/home.example.com").exists());
}

#[test]
fn one_odd_answer_is_outvoted_and_named_in_the_log() {
    let (a1, b, a2) = (
        body("203.0.113.7"),
        Echo::fixed(false, EchoReply::body("198.51.100.9").after(Duration::ZERO)),
        body("203.0.113.7"),
    );
    // Listed order, the first two asked at once: A and B, then A decides 2 of 3.
    let s = setup(
        "client-aba",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&a1, &b, &a2])
        ),
    );
    let out = cli(&s.config, &["client", "-v"]);
    out.expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(asked(&[&a1, &b, &a2]), 3);
}

#[test]
fn disagreement_writes_nothing_and_names_every_answer() {
    let p: Vec<Echo> = [
        "203.0.113.7",
        "198.51.100.9",
        "192.0.2.1",
        "203.0.113.7",
        "198.51.100.9",
    ]
    .iter()
    .map(|a| body(a))
    .collect();
    let all: Vec<&Echo> = p.iter().collect();
    let s = setup(
        "client-disagree",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&all)
        ),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("providers disagree on the IPv4 address: ");
    for votes in ["203.0.113.7 (2)", "198.51.100.9 (2)", "192.0.2.1 (1)"] {
        out.logged(votes);
    }
    for echo in &all {
        out.logged(&echo.url());
    }
    out.logged("carrier-grade NAT with an address pool");
    out.logged("nothing is written for IPv4");
    assert_eq!(asked(&all), 5);
    assert!(s.gandi.requests().is_empty());
    // A CGNAT pool: a new address on every connection.
    let pool: Vec<Echo> = (10..14).map(|n| body(&format!("203.0.113.{n}"))).collect();
    let pool: Vec<&Echo> = pool.iter().collect();
    let s = setup(
        "client-pool",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&pool)),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("providers disagree");
    out.logged("carrier-grade NAT");
    assert_eq!(asked(&pool), 4);
}

#[test]
fn quorum_one_two_and_three() {
    let (a, b, c) = (
        body("203.0.113.7"),
        body("203.0.113.7"),
        body("203.0.113.7"),
    );
    for (quorum, wanted) in [(1, 1), (2, 2), (3, 3)] {
        let s = setup(
            "client-quorum",
            &format!(
                "providers_v4 = {}\nquorum = {quorum}\n{DOC_RANGES}",
                urls(&[&a, &b, &c])
            ),
        );
        let before = asked(&[&a, &b, &c]);
        cli(&s.config, &["client"]).expect(
            0,
            "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
        );
        assert_eq!(asked(&[&a, &b, &c]) - before, wanted, "quorum {quorum}");
    }
    // A quorum no list can reach is a config error.
    let s = setup(
        "client-quorum-bad",
        &format!("providers_v4 = {}\nquorum = 4\n", urls(&[&a, &b, &c])),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(78, "");
    out.logged("fewer than quorum = 4");
}

#[test]
fn invalid_answers_are_no_votes() {
    let bad: Vec<Echo> = [
        "10.20.10.22",
        "100.64.1.1",
        "0.0.0.0",
        "fe80::1",
        "",
        "999.1.1.1",
        "192.000.002.001",
        "<html>203.0.113.7</html>",
    ]
    .iter()
    .map(|b| body(b))
    .collect();
    let good = body("203.0.113.7");
    let mut all: Vec<&Echo> = bad.iter().collect();
    all.push(&good);
    let s = setup(
        "client-invalid",
        &format!(
            "providers_v4 = {}\nmax_queries = 9\nprovider_order = listed\n{DOC_RANGES}",
            urls(&all)
        ),
    );
    let out = cli(&s.config, &["client", "-v"]);
    out.expect(75, "");
    out.logged("only 1 of 9 providers gave a usable IPv4 answer");
    out.logged("carrier-grade NAT (100.64.0.0/10)");
    out.logged("empty body");
    assert!(s.gandi.requests().is_empty());
    // The same documentation answers without accept_ranges are refused too.
    let (p1, p2) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-noranges",
        &format!("providers_v4 = {}", urls(&[&p1, &p2])),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("documentation address");
    // search: one address in an HTML page is a vote, two different ones are not.
    let page = body("<html><body>Current IP Address: 203.0.113.7</body></html>");
    let page2 = body("<html><body>Current IP Address: 203.0.113.7</body></html>");
    let two = body("<p>203.0.113.7 or 198.51.100.9</p>");
    let s = setup(
        "client-search",
        &format!(
            "providers_v4 = search:{}, search:{}, search:{}\nprovider_order = listed\n{DOC_RANGES}",
            page.url(),
            two.url(),
            page2.url()
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
}

#[test]
fn a_provider_answering_429_is_skipped_on_the_next_run_but_detect_asks_it() {
    let limited = Echo::fixed(false, EchoReply::status(429).header("Retry-After", "3600"));
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-backoff",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&limited, &a, &b])
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(limited.count(), 1);
    let backoff =
        std::fs::read_to_string(s.dir.path().join("state/client/provider-backoff")).unwrap();
    assert!(backoff.contains(&limited.url()), "{backoff}");
    cli(&s.config, &["client", "--force"])
        .expect(0, "good home.example.com A 203.0.113.7 (was 203.0.113.7)\n");
    assert_eq!(limited.count(), 1, "skipped while backed off");
    let out = cli(&s.config, &["detect"]);
    assert_eq!(limited.count(), 2, "detect asks every provider");
    assert!(
        out.stdout.contains(&limited.url()) && out.stdout.contains("429"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("v4  consensus 203.0.113.7 (2 of 2 valid answers, quorum 2)"),
        "{}",
        out.stdout
    );
    assert_eq!(out.code, 0);
    // 403 too, for provider_backoff when no Retry-After says longer.
    let blocked = Echo::fixed(false, EchoReply::status(403));
    let s = setup(
        "client-403",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&blocked, &a, &b])
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    cli(&s.config, &["client", "--force"])
        .expect(0, "good home.example.com A 203.0.113.7 (was 203.0.113.7)\n");
    assert_eq!(blocked.count(), 1);
}

#[test]
fn silent_providers_cost_the_provider_timeout_and_all_silent_is_75() {
    let silent = Echo::fixed(
        false,
        EchoReply::body("203.0.113.7").after(Duration::from_secs(20)),
    );
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-slow",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&silent, &a, &b])
        ),
    );
    let started = Instant::now();
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let more: Vec<Echo> = (0..2)
        .map(|_| {
            Echo::fixed(
                false,
                EchoReply::body("203.0.113.7").after(Duration::from_secs(20)),
            )
        })
        .collect();
    let silents = [&silent, &more[0], &more[1]];
    let s = setup(
        "client-allslow",
        &format!(
            "providers_v4 = {}\ndetect_timeout = 1s\nprovider_timeout = 5s\n{DOC_RANGES}",
            urls(&silents)
        ),
    );
    let started = Instant::now();
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("no IPv4 consensus within detect_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_huge_body_is_cut_and_invalid_and_redirects_are_followed_twice_at_most() {
    let huge = body(&"2".repeat(1 << 20));
    let target = body("203.0.113.7");
    let hop = Echo::fixed(
        false,
        EchoReply::status(301).header("Location", &target.url()),
    );
    let hop2 = Echo::fixed(false, EchoReply::status(301).header("Location", &hop.url()));
    let hop3 = Echo::fixed(
        false,
        EchoReply::status(301).header("Location", &hop2.url()),
    );
    let s = setup(
        "client-redirect",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\nmax_queries = 4\n{DOC_RANGES}",
            urls(&[&huge, &hop3, &hop, &hop2])
        ),
    );
    let out = cli(&s.config, &["client", "-v"]);
    out.expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    out.logged("body longer than 4096 bytes");
    out.logged("more than 2 redirects");
}

#[test]
fn an_environment_proxy_is_ignored() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-proxy",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&a, &b])),
    );
    let closed = crate::webserver::free_port();
    let proxy = format!("http://127.0.0.1:{closed}");
    let out = cli_env(
        &s.config,
        &["client"],
        &[
            ("HTTP_PROXY", &proxy),
            ("http_proxy", &proxy),
            ("ALL_PROXY", &proxy),
        ],
    );
    out.expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
}

#[test]
fn ipv6_providers_on_the_loopback_and_a_family_failing_alone() {
    let (v6a, v6b) = (
        Echo::fixed(true, EchoReply::body("2001:db8:1::7")),
        Echo::fixed(true, EchoReply::body("2001:db8:1::7")),
    );
    let wrong = Echo::fixed(true, EchoReply::body("203.0.113.7"));
    let wrong2 = Echo::fixed(true, EchoReply::body("203.0.113.7"));
    let (v4a, v4b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-v6",
        &format!(
            "ipv6 = web\nproviders_v4 = {}\nproviders_v6 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&v4a, &v4b]),
            urls(&[&wrong, &v6a, &v6b])
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\ngood home.example.com AAAA 2001:db8:1::7 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    // IPv4 fine, IPv6 without consensus: A written, AAAA left alone, 75.
    let s = setup(
        "client-v6-fails",
        &format!(
            "ipv6 = web\nproviders_v4 = {}\nproviders_v6 = {}, {}\n{DOC_RANGES}",
            urls(&[&v4a, &v4b]),
            wrong.url(),
            wrong2.url()
        ),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(
        75,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    out.logged("nothing is written for IPv6");
    assert_eq!(
        s.gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new(
            "home",
            "AAAA",
            300,
            &["2001:db8:85a3::8a2e:370:7334"]
        ))
    );
    // ipv6_interface_id keeps the detected prefix and replaces the host bits.
    let s = setup(
        "client-v6-id",
        &format!(
            "ipv4 = off\nipv6 = web\nproviders_v6 = {}\nipv6_interface_id = ::211:32ff:fe12:3456\n{DOC_RANGES}",
            urls(&[&v6a, &v6b])
        ),
    );
    cli(&s.config, &["client"]).expect(0, "good home.example.com AAAA 2001:db8:1:0:211:32ff:fe12:3456 (was 2001:db8:85a3::8a2e:370:7334)\n");
}

#[test]
fn the_command_method_has_a_timeout_an_exit_status_and_one_address() {
    let run = |command: &str, extra: &str| {
        let s = setup(
            "client-command",
            &format!(
                "ipv4 = command\ncommand_v4 = {command}\ncommand_timeout = 500ms\n{extra}\n{DOC_RANGES}"
            ),
        );
        let started = Instant::now();
        let out = cli(&s.config, &["client"]);
        (out, started.elapsed(), s)
    };
    let (out, _, _) = run("printf '203.0.113.9\\n'; echo note >&2", "");
    out.expect(
        0,
        "good home.example.com A 203.0.113.9 (was 198.51.100.7)\n",
    );
    out.logged("ddns-cgi: warning: command_v4: note");
    let (out, _, s) = run("echo 203.0.113.9; exit 3", "");
    out.expect(75, "");
    out.logged("command_v4 failed (exit status: 3)");
    assert!(s.gandi.requests().is_empty());
    let (out, took, _) = run("sleep 60 & echo 203.0.113.9; wait", "");
    out.expect(75, "");
    out.logged("did not finish within command_timeout");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (out, _, _) = run("echo 203.0.113.9 198.51.100.1", "");
    out.expect(75, "");
    out.logged("2 different addresses");
    let (out, _, _) = run("echo $DDNS_FAMILY | sed s/4/203.0.113.4/", "");
    out.expect(
        0,
        "good home.example.com A 203.0.113.4 (was 198.51.100.7)\n",
    );
}

#[test]
fn the_resolve_method_copies_a_name_and_refuses_the_loopback() {
    let s = setup(
        "client-resolve",
        &format!("ipv4 = resolve\nresolve_v4 = localhost\n{DOC_RANGES}"),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("resolves to the loopback address 127.0.0.1");
    out.logged("use ipv4 = web");
    let s = setup(
        "client-resolve-literal",
        &format!("ipv4 = resolve\nresolve_v4 = 203.0.113.77\n{DOC_RANGES}"),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.77 (was 198.51.100.7)\n",
    );
}

/// Addresses removed again when dropped (also on panic).
struct Added(Vec<Vec<String>>);

impl Drop for Added {
    fn drop(&mut self) {
        for args in self.0.iter().rev() {
            let _ = std::process::Command::new("ip").args(args).status();
        }
    }
}

fn ip(args: &[&str]) -> bool {
    std::process::Command::new("ip")
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("iproute2's ip")
        .success()
}

/// The interface tests run iproute2's `ip`; the script that installs the tests' tools
/// must install it too, and it must be there.
#[test]
fn iproute2_is_installed_by_the_ci_script() {
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ci/install-deps.sh"))
            .unwrap();
    let packages = script
        .lines()
        .find_map(|l| l.strip_prefix("packages=\""))
        .expect("a packages= line");
    assert!(
        packages.split_whitespace().any(|p| p == "iproute2"),
        "{packages}"
    );
    assert!(
        ip(&["-V"]),
        "`ip` (iproute2) is not installed; run ci/install-deps.sh as root"
    );
}

/// A real interface holding documentation addresses: a dummy interface where the kernel
/// has them, else the loopback. IPv4 through iproute2, IPv6 from /proc/net/if_inet6: a
/// deprecated and a stable address, the stable one wins.
#[test]
fn the_interface_method_reads_a_real_interface() {
    let dummy = format!("ddt{}", std::process::id() % 100_000);
    let mut added = Added(Vec::new());
    let name = if ip(&["link", "add", &dummy, "type", "dummy"]) {
        added
            .0
            .push(vec!["link".into(), "del".into(), dummy.clone()]);
        assert!(ip(&["link", "set", &dummy, "up"]));
        dummy
    } else {
        "lo".to_string()
    };
    for (family, addr, extra) in [
        ("-4", "203.0.113.66/32", &[][..]),
        (
            "-6",
            "2001:db8:66::1/128",
            &["nodad", "preferred_lft", "0"][..],
        ),
        ("-6", "2001:db8:66::66/128", &["nodad"][..]),
    ] {
        let mut args = vec![family, "addr", "add", addr, "dev", &name];
        args.extend(extra);
        assert!(ip(&args), "ip {args:?}");
        added.0.push(
            [family, "addr", "del", addr, "dev", &name]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
    }
    let s = setup(
        "client-interface",
        &format!(
            "ipv6 = interface\nipv4 = interface\ninterface_v4 = {name}\ninterface_v6 = {name}\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.66 (was 198.51.100.7)\ngood home.example.com AAAA 2001:db8:66::66 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    // Without accept_ranges the documentation address counts as not public: NAT.
    let s = setup(
        "client-interface-nat",
        &format!("ipv4 = interface\ninterface_v4 = {name}"),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged(&format!("interface {name} has no public IPv4 address (203.0.113.66): this host is behind NAT; use ipv4 = web"));
    // An interface without such addresses.
    let s = setup(
        "client-interface-none",
        "ipv6 = interface\ninterface_v6 = nosuchif0\nipv4 = off",
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged("interface nosuchif0 has no usable global stable (non-temporary) IPv6 address");
}

/// `ip` found through PATH: a script printing iproute2 JSON with only a private address.
#[test]
fn the_interface_method_says_nat_for_a_private_only_interface() {
    let dir = TempDir::new("client-ip-fixture");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("ip");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '[{\"ifname\":\"eth7\",\"addr_info\":[{\"family\":\"inet\",\"local\":\"10.0.0.2\",\"prefixlen\":24,\"scope\":\"global\"},{\"family\":\"inet\",\"local\":\"100.64.1.1\",\"prefixlen\":10,\"scope\":\"global\"}]}]'\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = setup(
        "client-ip-fixture2",
        "ipv4 = interface\ninterface_v4 = eth7",
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cli_env(&s.config, &["client"], &[("PATH", &path)]);
    out.expect(75, "");
    out.logged("interface eth7 has no public IPv4 address (10.0.0.2, 100.64.1.1): this host is behind NAT; use ipv4 = web");
}

#[test]
fn runs_never_overlap_and_wait_when_asked() {
    let slow_one = || {
        Echo::fixed(
            false,
            EchoReply::body("203.0.113.7").after(Duration::from_millis(1500)),
        )
    };
    let (slow, slow2) = (slow_one(), slow_one());
    let s = setup(
        "client-lock",
        &format!(
            "providers_v4 = {}, {}\nprovider_timeout = 3s\n{DOC_RANGES}",
            slow.url(),
            slow2.url()
        ),
    );
    let first = command(&s.config, &["client"], &[])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let busy = cli(&s.config, &["client"]);
    busy.expect(75, "");
    busy.logged("another ddns-cgi client or update run holds");
    assert!(started.elapsed() < Duration::from_millis(900));
    let waited = cli(&s.config, &["client", "--wait", "10", "-v"]);
    waited.expect(0, "nochg home.example.com A 203.0.113.7\n");
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n"
    );
}

/// A cron run and a router's CGI request change two names of one SchlundTech zone at the
/// same time, again and again: the zone lock they share keeps both changes every time.
#[test]
fn client_and_cgi_updates_of_one_zone_lose_nothing() {
    let dir = TempDir::new("client-concurrent");
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", "pw", "10")],
        &[FIXTURE_ZONE],
    );
    fake.set_latency(Duration::from_millis(60));
    let cfg = dir.write_config(
        "ddns.ini",
        &format!("[default]\nusername = 7654321\npassword = pw\nurl = {}\ncache_seconds = 0\nabuse_limit = 0\n[client]\nhostnames = home.example.co.uk\nipv4 = command\nrecheck = 0\ncommand_v4 = cat {}/addr\n", fake.url(), dir.path().display()),
    );
    for round in 0..4 {
        let client_addr = format!("84.17.6.{round}");
        let cgi_addr = format!("84.17.7.{round}");
        std::fs::write(dir.path().join("addr"), &client_addr).unwrap();
        let client = command(&cfg, &["client"], &[]).output();
        let cgi_cfg = cfg.clone();
        let cgi = std::thread::spawn(move || {
            crate::util::run(
                &cgi_cfg,
                &get(&format!("hostname=a.b.example.co.uk&myip={cgi_addr}")).user(Some("router")),
            )
        });
        let client = client.unwrap();
        assert_eq!(
            client.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&client.stderr)
        );
        assert_answer(
            &cgi.join().unwrap(),
            "200 OK",
            &format!("good 84.17.7.{round}\n"),
        );
        let zone = fake.zone("example.co.uk").unwrap();
        assert_eq!(zone.rr("home", "A")[0].value, client_addr, "round {round}");
        assert_eq!(
            zone.rr("a.b", "A")[0].value,
            format!("84.17.7.{round}"),
            "round {round}"
        );
    }
}

/// The client runs as root, the CGI as www-data; a setgid state directory of the
/// www-data group, as docs/install.md sets it up, keeps every file usable by both.
#[test]
fn state_and_locks_are_shared_between_the_client_and_the_web_servers_user() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-shared",
        &format!(
            "providers_v4 = {}\nrecheck = 0\n{DOC_RANGES}",
            urls(&[&a, &b])
        ),
    );
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&s.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let state = s.dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let group = 33;
    std::os::unix::fs::chown(&state, Some(0), Some(group)).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o2770)).unwrap();
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    let as_www_data = |query: &str| {
        let mut cmd = crate::util::command(&s.config, &get(query).user(Some("router")));
        cmd.uid(33).gid(33);
        let out = cmd.output().unwrap();
        crate::util::parse_output(
            &String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The router's request reads and replaces the state file the client wrote as root.
    let answer = as_www_data("hostname=home.example.com&myip=84.17.5.70");
    assert_answer(&answer, "200 OK", "good 84.17.5.70\n");
    assert_eq!(s.a(), Some(Rrset::new("home", "A", 300, &["84.17.5.70"])));
    // And the client, as root, uses the files www-data wrote.
    cli(&s.config, &["client"]).expect(0, "good home.example.com A 203.0.113.7 (was 84.17.5.70)\n");
    for entry in [
        "hosts",
        "locks",
        "client",
        "hosts/home.example.com",
        "client/run.lock",
    ] {
        let meta = std::fs::metadata(state.join(entry)).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(meta.gid(), group, "{entry}");
        assert_eq!(meta.mode() & 0o060, 0o060, "{entry} usable by the group");
    }
}

#[test]
fn client_refusals_and_the_secret_scan() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    // No hostnames: 78. A host not in the list: 64.
    let dir = TempDir::new("client-refusals");
    let gandi = FakeGandi::start(&[TOKEN], vec![fixture_zone()]);
    let cfg = gandi_config(&dir, &gandi, "[client]\nipv4 = web\n");
    let out = cli(&cfg, &["client"]);
    out.expect(78, "");
    out.logged("[client] hostnames is not set");
    let s = setup(
        "client-refusals2",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&a, &b])),
    );
    let out = cli(&s.config, &["client", "other.example.com"]);
    out.expect(64, "");
    out.logged("client: other.example.com is not in [client] hostnames");
    // A refused token: 77, and no token anywhere, at debug level too.
    let wrong = "pat_leakleakleakleakleakleakleakleakleak0002";
    let cfg = dir.write_config(
        "wrong.ini",
        &format!("[default]\n[gandi]\ntoken = {wrong}\nurl = {}\nzones = example.com\n[client]\nhostnames = home.example.com\nproviders_v4 = {}\n{DOC_RANGES}\n", gandi.base_url(), urls(&[&a, &b])),
    );
    let out: Out = cli_env(&cfg, &["client", "-vv"], &[("DDNS_LOG_LEVEL", "debug")]);
    out.expect(77, "911 home.example.com A\n");
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[wrong, TOKEN]);
    let out = cli(&cfg, &["check-config"]);
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[wrong]);
    let out = cli(&cfg, &["detect", "-vv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[wrong]);
}

#[test]
fn detect_without_consensus_is_75_and_ddns_log_level_sets_the_level() {
    let (a, b) = (body("203.0.113.7"), body("198.51.100.9"));
    let s = setup(
        "client-detect",
        &format!("providers_v4 = {}\n{DOC_RANGES}", urls(&[&a, &b])),
    );
    let out = cli(&s.config, &["detect"]);
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        out.stdout.contains("v4  no address: providers disagree"),
        "{}",
        out.stdout
    );
    assert!(s.gandi.requests().is_empty());
    let quiet = cli_env(&s.config, &["client"], &[("DDNS_LOG_LEVEL", "error")]);
    assert!(
        quiet
            .stderr
            .starts_with("ddns-cgi: error: providers disagree"),
        "{}",
        quiet.stderr
    );
    let chatty = cli_env(&s.config, &["client", "-q"], &[("DDNS_LOG_LEVEL", "info")]);
    assert!(!chatty.stderr.contains("info:"), "{}", chatty.stderr);
}

/// A provider that failed on each of the last 10 runs is named as probably gone; one good
/// answer ends its streak.
#[test]
fn a_provider_failing_ten_runs_in_a_row_is_reported_as_gone() {
    let dead = body("");
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-gone",
        &format!(
            "providers_v4 = {}\nquorum = 2\nmax_queries = 3\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&dead, &a, &b])
        ),
    );
    for run in 1..=10 {
        let out = cli(&s.config, &["client"]);
        assert_eq!(out.code, 0, "run {run}: {}", out.stderr);
        let warned = out
            .stderr
            .contains("failed on each of the last 10 runs; it may be gone");
        assert_eq!(warned, run == 10, "run {run}: {}", out.stderr);
    }
    let state =
        std::fs::read_to_string(s.dir.path().join("state/client/provider-backoff")).unwrap();
    assert_eq!(state, format!("failed 10 {}\n", dead.url()));
}

/// A Retry-After of any size is capped at a week, never an overflow.
#[test]
fn a_huge_retry_after_is_capped() {
    let limited = Echo::fixed(
        false,
        EchoReply::status(429).header("Retry-After", "18446744073709551615"),
    );
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "client-retry-after",
        &format!(
            "providers_v4 = {}\nprovider_order = listed\n{DOC_RANGES}",
            urls(&[&limited, &a, &b])
        ),
    );
    let out = cli(&s.config, &["client"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(s.dir.path().join("state/client/provider-backoff")).unwrap();
    let until: u64 = text.split(' ').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(until > now && until <= now + 7 * 86_400 + 5, "{text}");
}

/// Kills a process the test's command left running, by the PID it wrote.
struct Leftover(PathBuf);

impl Drop for Leftover {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", pid.trim()])
                .status();
        }
    }
}

/// A process the command starts in a session of its own escapes the process group that
/// is killed, and holds the output pipes open: the run waits for them no longer than
/// command_timeout and uses what the command printed.
#[test]
fn a_command_whose_background_child_holds_the_pipes_ends_within_its_timeout() {
    let dir = TempDir::new("client-setsid");
    let pid = dir.path().join("sleep.pid");
    let _leftover = Leftover(pid.clone());
    let s = setup(
        "client-setsid",
        &format!(
            "ipv4 = command\ncommand_v4 = setsid sleep 20 & echo $! > {}; echo 84.17.5.9\ncommand_timeout = 2s\n",
            pid.display()
        ),
    );
    let started = Instant::now();
    let out = cli(&s.config, &["client"]);
    let took = started.elapsed();
    out.expect(0, "good home.example.com A 84.17.5.9 (was 198.51.100.7)\n");
    out.logged(
        "command_v4 exited, but a process it started in the background still holds its output open",
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert_eq!(s.a(), Some(Rrset::new("home", "A", 300, &["84.17.5.9"])));
}

/// Two entries naming one server would give it two votes: a config error, before any
/// provider is asked.
#[test]
fn one_server_listed_twice_is_a_config_error() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.8"));
    let s = setup(
        "client-twice",
        &format!(
            "providers_v4 = {} {}?x {}\n{DOC_RANGES}",
            a.url(),
            a.url(),
            b.url()
        ),
    );
    // check-config says 1 for any config it cannot load, the runs 78.
    for (args, code) in [
        (&["client"][..], 78),
        (&["detect", "-4"], 78),
        (&["check-config"], 1),
    ] {
        let out = cli(&s.config, args);
        assert_eq!(out.code, code, "{args:?}: {out:?}");
        out.logged(&format!(
            "`{}` and `{}?x` are the same server (scheme, host and port), so its vote would count twice toward quorum",
            a.url(),
            a.url()
        ));
    }
    assert_eq!(asked(&[&a, &b]), 0);
    assert!(s.gandi.requests().is_empty());
}
