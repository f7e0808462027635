//! Real DynDNS clients from Debian (ddclient, inadyn) updating through a real web server:
//! what they send is what routers and servers in the field send, and they must read our
//! answers as success (noip-protocol.md §3).
//!
//! The clients get their address from the config, never from a lookup service, so no
//! traffic leaves 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use fake_registrars::gandi::Rrset;

use crate::apache::Apache;
use crate::nginx::Nginx;
use crate::webserver::{Frontend, PASSWORD, Stack, USER, path, run_bounded, sh, tool};

/// Longest one client run may take; each makes at most a few loopback requests.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The combined output of a client run, which must have exited successfully.
#[track_caller]
fn output(name: &str, out: Output, server: &dyn Frontend) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{text}\n{}",
        out.status,
        server.logs()
    );
    text
}

/// Fails unless some line of `text` holds all of `words`.
#[track_caller]
fn assert_line(text: &str, words: &[&str], server: &dyn Frontend) {
    assert!(
        text.lines().any(|l| words.iter().all(|w| l.contains(w))),
        "no line with {words:?} in:\n{text}\n{}",
        server.logs()
    );
}

/// ddclient, one shot in the foreground, with its own config and cache.
struct Ddclient {
    config: PathBuf,
    cache: PathBuf,
}

impl Ddclient {
    /// `hosts` are host lines preceded by their `use=ip, ip=...` line, as ddclient binds
    /// global settings to the hosts that follow them.
    fn new(dir: &Path, port: u16, hosts: &[(&str, &str)]) -> Ddclient {
        tool("ddclient");
        let mut text = format!(
            "daemon=0\n\
             syslog=no\n\
             ssl=no\n\
             protocol=dyndns2\n\
             server=127.0.0.1:{port}\n\
             login={USER}\n\
             password={PASSWORD}\n"
        );
        for (ip, names) in hosts {
            // `use=ip` is the one source ddclient 3.10's dyndns2 caches for either family
            // (its usev4/usev6 results are sent but not remembered).
            text.push_str(&format!("use=ip, ip={ip}\n{names}\n"));
        }
        let config = dir.join("ddclient.conf");
        std::fs::write(&config, text).unwrap();
        // ddclient refuses a config others could read: it holds the password.
        sh("chmod", &["600", path(&config)]);
        Ddclient {
            config,
            cache: dir.join("ddclient.cache"),
        }
    }

    fn run(&self, extra: &[&str], server: &dyn Frontend) -> String {
        let mut cmd = Command::new(tool("ddclient"));
        cmd.args([
            "-foreground",
            "-daemon=0",
            "-verbose",
            "-noquiet",
            "-timeout",
            "20",
        ])
        .arg("-file")
        .arg(&self.config)
        .arg("-cache")
        .arg(&self.cache)
        .args(extra);
        output("ddclient", run_bounded(cmd, CLIENT_TIMEOUT), server)
    }
}

#[test]
fn ddclient_groups_hosts_in_one_request_then_skips_then_forces_nochg() {
    let stack = Stack::new("ddclient-v4");
    let apache = Apache::start(&stack.site);
    let client = Ddclient::new(
        stack.site.dir.path(),
        apache.port(),
        &[("84.17.5.30", "home.example.co.uk,a.b.example.co.uk")],
    );

    let text = client.run(&[], &apache);
    for host in ["home.example.co.uk", "a.b.example.co.uk"] {
        assert_line(&text, &["SUCCESS", host, "good", "84.17.5.30"], &apache);
    }
    assert!(!text.contains("FAILED"), "{text}");
    assert_eq!(stack.value("home", "A"), "84.17.5.30");
    assert_eq!(stack.value("a.b", "A"), "84.17.5.30");
    let requests = apache.requests();
    assert_eq!(
        requests.len(),
        1,
        "one request for both hosts: {requests:?}"
    );
    // ddclient sorts the hosts of a group.
    assert!(
        requests[0].contains("hostname=a.b.example.co.uk,home.example.co.uk&myip=84.17.5.30")
            && requests[0].ends_with(" 200"),
        "{requests:?}"
    );

    // Its cache says nothing changed, so it sends nothing.
    let text = client.run(&[], &apache);
    for host in ["home.example.co.uk", "a.b.example.co.uk"] {
        assert_line(&text, &[host, "skipped", "84.17.5.30"], &apache);
    }
    assert_eq!(apache.requests().len(), 1);

    // Forced, it asks anyway and takes `nochg` as success.
    let text = client.run(&["-force"], &apache);
    for host in ["home.example.co.uk", "a.b.example.co.uk"] {
        assert_line(&text, &[host, "nochg"], &apache);
    }
    assert!(!text.contains("FAILED"), "{text}");
    assert_eq!(apache.requests().len(), 2);
    assert_eq!(stack.zone_writes(), 1);
}

#[test]
fn ddclient_ipv6_and_two_registrars_through_nginx() {
    let stack = Stack::new("ddclient-v6");
    let nginx = Nginx::start(&stack.site);
    let client = Ddclient::new(
        stack.site.dir.path(),
        nginx.port(),
        &[
            ("84.17.5.31", "a.b.example.co.uk,home.example.com"),
            ("2a01:4f8::31", "home.example.co.uk"),
        ],
    );
    let a_before = stack.value("home", "A");

    let text = client.run(&[], &nginx);
    for (host, ip) in [
        ("a.b.example.co.uk", "84.17.5.31"),
        ("home.example.com", "84.17.5.31"),
        ("home.example.co.uk", "2a01:4f8::31"),
    ] {
        assert_line(&text, &["SUCCESS", host, "good", ip], &nginx);
    }
    assert!(!text.contains("FAILED"), "{text}");
    assert_eq!(stack.value("a.b", "A"), "84.17.5.31");
    assert_eq!(stack.value("home", "AAAA"), "2a01:4f8::31");
    assert_eq!(stack.value("home", "A"), a_before, "IPv6 leaves A alone");
    assert_eq!(
        stack.gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.31"]))
    );

    let text = client.run(&[], &nginx);
    assert_line(
        &text,
        &["home.example.co.uk", "skipped", "2a01:4f8::31"],
        &nginx,
    );
    let text = client.run(&["-force"], &nginx);
    assert_line(&text, &["home.example.co.uk", "nochg"], &nginx);
    assert!(!text.contains("FAILED"), "{text}");
}

/// inadyn, one shot in the foreground, with a `custom` provider pointed at the server.
struct Inadyn {
    config: PathBuf,
    cache: PathBuf,
    pid: PathBuf,
}

impl Inadyn {
    fn new(dir: &Path, port: u16, host: &str, ip: &str) -> Inadyn {
        tool("inadyn");
        let ipv6 = ip.contains(':');
        let dir = dir.join(format!("inadyn-{host}-{}", if ipv6 { 6 } else { 4 }));
        let cache = dir.join("cache");
        sh("install", &["-d", "-m", "0700", path(&dir), path(&cache)]);
        // Without a cache file inadyn looks the host name up in the DNS to learn its last
        // address; an empty one means "address unknown" without that lookup.
        std::fs::write(cache.join(format!("{host}.cache")), "").unwrap();
        // The address comes from a command, so inadyn never asks a web service for it.
        let text = format!(
            "allow-ipv6 = {ipv6}\n\
             custom ddns-cgi {{\n\
             \x20   ssl = false\n\
             \x20   ddns-server = \"127.0.0.1:{port}\"\n\
             \x20   ddns-path = \"/nic/update?hostname=%h&myip=%i\"\n\
             \x20   username = \"{USER}\"\n\
             \x20   password = \"{PASSWORD}\"\n\
             \x20   hostname = \"{host}\"\n\
             \x20   checkip-command = \"echo {ip}\"\n\
             }}\n"
        );
        let config = dir.join("inadyn.conf");
        std::fs::write(&config, text).unwrap();
        sh("chmod", &["600", path(&config)]);
        Inadyn {
            config,
            cache,
            pid: dir.join("inadyn.pid"),
        }
    }

    fn run(&self, extra: &[&str], server: &dyn Frontend) -> String {
        let mut cmd = Command::new(tool("inadyn"));
        cmd.args(["--once", "--foreground", "--loglevel=info"])
            .arg(format!("--config={}", self.config.display()))
            .arg(format!("--cache-dir={}", self.cache.display()))
            .arg(format!("--pidfile={}", self.pid.display()))
            .args(extra);
        output("inadyn", run_bounded(cmd, CLIENT_TIMEOUT), server)
    }
}

/// inadyn takes only an exact `200 OK` status line with `good` or `nochg` in the body as
/// success and exits on anything else (noip-protocol.md §3); it sends one host and one
/// address family per request, over HTTP/1.0.
#[test]
fn ddclient_suite_inadyn_updates_each_family_then_sees_no_change() {
    let stack = Stack::new("inadyn");
    let apache = Apache::start(&stack.site);
    let requests = || apache.requests();

    let v4 = Inadyn::new(
        stack.site.dir.path(),
        apache.port(),
        "home.example.co.uk",
        "84.17.5.40",
    );
    let text = v4.run(&[], &apache);
    assert_eq!(stack.value("home", "A"), "84.17.5.40", "{text}");
    assert_eq!(
        requests(),
        ["GET /nic/update?hostname=home.example.co.uk&myip=84.17.5.40 HTTP/1.0 200"],
        "{text}"
    );

    let text = v4.run(&[], &apache);
    assert_eq!(requests().len(), 1, "no change, no request:\n{text}");
    let text = v4.run(&["--force"], &apache);
    assert_eq!(requests().len(), 2, "{text}");
    assert_eq!(stack.zone_writes(), 1, "forced, the answer is nochg");

    let v6 = Inadyn::new(
        stack.site.dir.path(),
        apache.port(),
        "home.example.co.uk",
        "2a01:4f8::40",
    );
    let text = v6.run(&[], &apache);
    assert_eq!(stack.value("home", "AAAA"), "2a01:4f8::40", "{text}");
    assert_eq!(stack.value("home", "A"), "84.17.5.40");
    assert_eq!(requests().len(), 3, "{text}");
}

#[test]
fn ddclient_updates_a_bind_zone_by_dns_update_through_apache() {
    use crate::nameserver::NameServer;
    use crate::webserver::Site;
    let ns = NameServer::bind(crate::rfc2136::POLICY);
    let site = Site::new(
        "ddclient-bind",
        &format!(
            "[default]\nallowed_hostnames = home.example.com v4only.example.com\n[rfc2136]\nserver = 127.0.0.1\nport = {}\nkey_name = ddns-key\nkey_secret = {}\nzones = example.com\n",
            ns.port, ns.secret
        ),
    );
    let apache = Apache::start(&site);
    let before = ns.zone();
    let client = Ddclient::new(
        site.dir.path(),
        apache.port(),
        &[("84.17.5.31", "home.example.com,v4only.example.com")],
    );
    let text = client.run(&[], &apache);
    for host in ["home.example.com", "v4only.example.com"] {
        assert_line(&text, &["SUCCESS", host, "good", "84.17.5.31"], &apache);
    }
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.31"]);
    assert_eq!(ns.values("v4only.example.com", "A"), ["84.17.5.31"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2001:db8::1"]);
    assert_eq!(ns.serial(), 2, "both hosts in one UPDATE");
    let names = ["home.example.com.", "v4only.example.com."];
    assert_eq!(
        crate::rfc2136::except(&ns.zone(), &names),
        crate::rfc2136::except(&before, &names)
    );
    assert_eq!(apache.requests().len(), 1);

    let text = client.run(&["-force"], &apache);
    for host in ["home.example.com", "v4only.example.com"] {
        assert_line(&text, &[host, "nochg"], &apache);
    }
    assert_eq!(ns.serial(), 2);
    assert!(!apache.logs().contains(&ns.secret));
}
