//! Commands, flags and `[client]` keys of the command line through the real binary:
//! `update` detecting the address, `detect -4/-6`, `client HOST`, `--version`, and the keys
//! `ttl`, `recheck`, `proxy`, `hostnames_v4/_v6`, `command_v6`, `resolve_v6`,
//! `ipv6_interface_id` with a length, `accept_ranges` and `allow_private_addresses`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_registrars::echo::{Echo, EchoReply};
use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};

use crate::cli::{cli, gandi_config};
use crate::gandi::TOKEN;
use crate::util::TempDir;

const DOC_RANGES: &str =
    "accept_ranges = 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32";

fn body(text: &str) -> Echo {
    Echo::fixed(false, EchoReply::body(text))
}

fn body6(text: &str) -> Echo {
    Echo::fixed(true, EchoReply::body(text))
}

struct Setup {
    _dir: TempDir,
    gandi: FakeGandi,
    config: PathBuf,
}

impl Setup {
    fn rrset(&self, name: &str, rr_type: &str) -> Option<Rrset> {
        self.gandi.rrset("example.com", name, rr_type)
    }
}

/// A Gandi account with the fixture zone, and `client` as the `[client]` section.
fn setup(tag: &str, client: &str) -> Setup {
    let dir = TempDir::new(tag);
    let gandi = FakeGandi::start(&[TOKEN], vec![fixture_zone()]);
    let hostnames = if client.contains("hostnames =") {
        ""
    } else {
        "hostnames = home.example.com\n"
    };
    let config = gandi_config(
        &dir,
        &gandi,
        &format!("[client]\n{hostnames}provider_timeout = 500ms\ndetect_timeout = 3s\n{client}\n"),
    );
    Setup {
        _dir: dir,
        gandi,
        config,
    }
}

fn fixture(name: &str, rr_type: &str) -> Option<Rrset> {
    fixture_zone()
        .1
        .into_iter()
        .find(|r| r.name == name && r.rr_type == rr_type)
}

#[test]
fn update_without_an_address_asks_the_providers_and_version_prints_it() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let s = setup(
        "flags-update-detect",
        &format!("providers_v4 = {} {}\n{DOC_RANGES}", a.url(), b.url()),
    );
    cli(&s.config, &["update", "home.example.com"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(a.count() + b.count(), 2);
    assert_eq!(
        s.rrset("home", "A"),
        Some(Rrset::new("home", "A", 300, &["203.0.113.7"]))
    );
    // ipv6 = off by default: the AAAA is left alone.
    assert_eq!(s.rrset("home", "AAAA"), fixture("home", "AAAA"));
    let off = setup("flags-update-off", "ipv4 = off\nipv6 = off\n");
    let out = cli(&off.config, &["update", "home.example.com"]);
    out.expect(64, "");
    out.logged("update: no address given, and [client] detects none");
    assert!(off.gandi.requests().is_empty());
    cli(&s.config, &["--version"]).expect(0, "ddns-cgi 0.1.0\n");
}

#[test]
fn detect_asks_only_the_family_named() {
    let (a, b) = (body("203.0.113.7"), body("203.0.113.7"));
    let (c, d) = (body6("2001:db8:1::7"), body6("2001:db8:1::7"));
    let s = setup(
        "flags-detect",
        &format!(
            "ipv6 = web\nprovider_order = listed\nproviders_v4 = {} {}\nproviders_v6 = {} {}\n{DOC_RANGES}",
            a.url(),
            b.url(),
            c.url(),
            d.url()
        ),
    );
    let out = cli(&s.config, &["detect", "-4"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines.iter().all(|l| l.starts_with("v4  ")),
        "{}",
        out.stdout
    );
    for echo in [&a, &b] {
        assert!(
            lines[..2]
                .iter()
                .any(|l| l.contains(&echo.url()) && l.contains(" 200  203.0.113.7  ")),
            "{}",
            out.stdout
        );
    }
    assert_eq!(
        lines[2],
        "v4  consensus 203.0.113.7 (2 of 2 valid answers, quorum 2)"
    );
    assert_eq!((a.count(), b.count(), c.count(), d.count()), (1, 1, 0, 0));
    let out = cli(&s.config, &["detect", "-6"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines.iter().all(|l| l.starts_with("v6  ")),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines[2],
        "v6  consensus 2001:db8:1::7 (2 of 2 valid answers, quorum 2)"
    );
    assert_eq!((a.count(), b.count(), c.count(), d.count()), (1, 1, 1, 1));
    assert!(s.gandi.requests().is_empty(), "detect writes nothing");
}

#[test]
fn client_with_hosts_changes_only_those() {
    let s = setup(
        "flags-client-subset",
        &format!(
            "hostnames = home.example.com a.b.example.com\nipv4 = command\ncommand_v4 = echo 203.0.113.7\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client", "a.b.example.com"])
        .expect(0, "good a.b.example.com A 203.0.113.7 (was 198.51.100.8)\n");
    assert_eq!(s.rrset("home", "A"), fixture("home", "A"));
    let out = cli(&s.config, &["client", "www.example.com"]);
    out.expect(64, "");
    out.logged("client: www.example.com is not in [client] hostnames");
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
}

#[test]
fn client_ttl_is_written_and_recheck_expires() {
    let s = setup(
        "flags-ttl-recheck",
        &format!(
            "hostnames = home.example.com\nipv4 = command\ncommand_v4 = echo 203.0.113.7\nttl = 900\nrecheck = 2s\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(
        s.rrset("home", "A"),
        Some(Rrset::new("home", "A", 900, &["203.0.113.7"]))
    );
    // Changed behind the client's back: within recheck the state is trusted and the
    // registrar is not asked.
    s.gandi.put_rrset(
        "example.com",
        Rrset::new("home", "A", 900, &["198.51.100.99"]),
    );
    s.gandi.clear_requests();
    cli(&s.config, &["client"]).expect(0, "");
    assert!(s.gandi.requests().is_empty(), "{:?}", s.gandi.requests());
    std::thread::sleep(Duration::from_millis(3100));
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.99)\n",
    );
    assert_eq!(
        s.rrset("home", "A"),
        Some(Rrset::new("home", "A", 900, &["203.0.113.7"]))
    );
}

/// hostnames_v4 and hostnames_v6 replace hostnames per family; command_v6 finds the IPv6.
#[test]
fn per_family_hostnames_and_command_v6() {
    let s = setup(
        "flags-per-family",
        &format!(
            "hostnames = home.example.com\nhostnames_v4 = a.b.example.com\nhostnames_v6 = home.example.com\nipv4 = command\ncommand_v4 = echo 203.0.113.7\nipv6 = command\ncommand_v6 = echo 2001:db8:1::9\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good a.b.example.com A 203.0.113.7 (was 198.51.100.8)\ngood home.example.com AAAA 2001:db8:1::9 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    assert_eq!(s.rrset("home", "A"), fixture("home", "A"));
    assert_eq!(s.rrset("a.b", "AAAA"), None);
}

/// resolve_v6 copies another name's IPv6 address; ipv6_interface_id's `/len` says how
/// much of the detected address is the prefix.
#[test]
fn resolve_v6_and_an_interface_id_with_a_length() {
    let s = setup(
        "flags-resolve-v6",
        &format!(
            "ipv4 = off\nipv6 = resolve\nresolve_v6 = 2001:db8:1::77\nhostnames = home.example.com\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com AAAA 2001:db8:1::77 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    let s = setup(
        "flags-id-len",
        &format!(
            "ipv4 = off\nipv6 = command\ncommand_v6 = echo 2001:db8:1:9::7\nhostnames = home.example.com\nipv6_interface_id = ::5:211:32ff:fe12:3456/48\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com AAAA 2001:db8:1:5:211:32ff:fe12:3456 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    // Without the length, the detected address keeps its first 64 bits.
    let s = setup(
        "flags-id-64",
        &format!(
            "ipv4 = off\nipv6 = command\ncommand_v6 = echo 2001:db8:1:9::7\nhostnames = home.example.com\nipv6_interface_id = ::211:32ff:fe12:3456\n{DOC_RANGES}"
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com AAAA 2001:db8:1:9:211:32ff:fe12:3456 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
}

/// Reads one request head (up to the empty line).
fn read_head(conn: &mut std::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A loopback CONNECT proxy that answers through each tunnel itself, with `answer`,
/// recording the CONNECT line and the request line inside. Stops after `max` connections
/// or ten seconds.
fn start_proxy(answer: &'static str, max: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut served = 0;
        while served < max && Instant::now() < deadline {
            let Ok((mut conn, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            served += 1;
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let connect = read_head(&mut conn);
            let _ = write!(conn, "HTTP/1.1 200 Connection established\r\n\r\n");
            let inner = read_head(&mut conn);
            let first = |t: &str| t.lines().next().unwrap_or("").to_string();
            record
                .lock()
                .unwrap()
                .push(format!("{} / {}", first(&connect), first(&inner)));
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (port, seen)
}

/// `[client] proxy` carries every provider request; a proxy that is not there fails the
/// detection with the proxy named.
#[test]
fn the_configured_proxy_carries_the_provider_requests() {
    let (a, b) = (body("198.51.100.1"), body("198.51.100.1"));
    let (port, seen) = start_proxy("203.0.113.7", 2);
    let s = setup(
        "flags-proxy",
        &format!(
            "providers_v4 = {} {}\nproxy = http://127.0.0.1:{port}\n{DOC_RANGES}",
            a.url(),
            b.url()
        ),
    );
    cli(&s.config, &["client"]).expect(
        0,
        "good home.example.com A 203.0.113.7 (was 198.51.100.7)\n",
    );
    assert_eq!(
        a.count() + b.count(),
        0,
        "asked directly, not through the proxy"
    );
    let mut lines = seen.lock().unwrap().clone();
    lines.sort();
    let tunnel = |e: &Echo| {
        format!(
            "CONNECT {} HTTP/1.1 / GET /ip HTTP/1.1",
            e.base_url()
                .trim_start_matches("http://")
                .trim_end_matches('/')
        )
    };
    let mut wanted = vec![tunnel(&a), tunnel(&b)];
    wanted.sort();
    assert_eq!(lines, wanted);
    // A proxy port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = setup(
        "flags-proxy-closed",
        &format!(
            "providers_v4 = {} {}\nproxy = http://127.0.0.1:{closed}\n{DOC_RANGES}",
            a.url(),
            b.url()
        ),
    );
    let out = cli(&s.config, &["client"]);
    out.expect(75, "");
    out.logged(&format!(
        "no provider answered through [client] proxy http://127.0.0.1:{closed}; check that the proxy runs"
    ));
    out.logged("nothing is written for IPv4");
    assert_eq!(a.count() + b.count(), 0);
    assert!(s.gandi.requests().is_empty());
}

/// An address given on the command line passes the CGI's checks: `[client] accept_ranges`
/// admits just its ranges, `allow_private_addresses` the private ones, and what neither
/// admits stays refused (64, nothing written).
#[test]
fn accept_ranges_and_allow_private_addresses_admit_command_line_addresses() {
    let s = setup(
        "flags-admit-ranges",
        "accept_ranges = 192.0.2.0/24 2001:db8:1::/48\n",
    );
    cli(&s.config, &["update", "home.example.com", "192.0.2.7", "2001:db8:1::7"]).expect(
        0,
        "good home.example.com A 192.0.2.7 (was 198.51.100.7)\ngood home.example.com AAAA 2001:db8:1::7 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    s.gandi.clear_requests();
    for refused in ["198.51.100.9", "10.1.2.3", "2001:db8:2::7"] {
        let out = cli(&s.config, &["update", "home.example.com", refused]);
        out.expect(64, "");
        out.logged("accept_ranges");
    }
    assert!(s.gandi.requests().is_empty());
    let dir = TempDir::new("flags-admit-private");
    let gandi = FakeGandi::start(&[TOKEN], vec![fixture_zone()]);
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallow_private_addresses = yes\n[gandi]\ntoken = {TOKEN}\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    cli(&cfg, &["update", "home.example.com", "10.1.2.3", "fd00::7"]).expect(
        0,
        "good home.example.com A 10.1.2.3 (was 198.51.100.7)\ngood home.example.com AAAA fd00::7 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["10.1.2.3"]))
    );
}
