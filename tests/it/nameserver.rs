//! Real name servers for the DNS UPDATE tests: BIND9's `named` and Knot's `knotd`, started
//! as child processes on a 127.0.0.1 port the test picks, in a directory of their own, with
//! a freshly generated TSIG key; read back with `dig`; stopped by PID on drop.

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::TempDir;

/// The zone both servers start from (rfc2136-tsig.md §5.1), plus a record with a long TTL.
pub const ZONE: &str = "$ORIGIN example.com.
$TTL 300
@        IN SOA   ns1.example.com. hostmaster.example.com. ( 1 3600 600 86400 300 )
         IN NS    ns1.example.com.
ns1      IN A     127.0.0.1
@        IN MX    10 mail.example.com.
@        IN TXT   \"v=spf1 -all\"
mail     IN A     192.0.2.25
home     IN A     192.0.2.1
home     IN AAAA  2001:db8::1
v4only   IN A     192.0.2.4
long 3600 IN A    192.0.2.7
www      IN CNAME home.example.com.
sub      IN NS    ns.sub.example.com.
ns.sub   IN A     192.0.2.53
";

/// The key's name on both sides.
pub const KEY_NAME: &str = "ddns-key";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Bind,
    Knot,
}

/// A running server; killed and reaped on drop.
pub struct NameServer {
    child: Child,
    pub port: u16,
    /// The base64 secret of the key.
    pub secret: String,
    /// The key in BIND's format, for `dig -k` (never `-y`: the secret would show in `ps`).
    pub keyfile: PathBuf,
    pub dir: TempDir,
}

/// A tool must exist: a test needing it fails without it, never skips.
fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(found, "{tool} is not installed: run ci/install-deps.sh");
}

/// A port free on 127.0.0.1 for both TCP and UDP just now.
fn free_port() -> u16 {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1");
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tool");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new secret of `algorithm` from the server's own tool.
pub fn generate_secret(flavour: Flavour, algorithm: &str) -> String {
    let text = match flavour {
        Flavour::Bind => output(Command::new("tsig-keygen").args(["-a", algorithm, KEY_NAME])),
        Flavour::Knot => output(Command::new("keymgr").args(["-t", KEY_NAME, algorithm])),
    };
    text.lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("secret \"")
                .map(|s| s.trim_end_matches("\";").to_string())
                .or_else(|| l.strip_prefix("secret: ").map(str::to_string))
        })
        .unwrap_or_else(|| panic!("no secret in {text:?}"))
}

impl NameServer {
    /// BIND with `update-policy { POLICY };` and a hmac-sha256 key.
    pub fn bind(policy: &str) -> NameServer {
        NameServer::start(Flavour::Bind, policy, "hmac-sha256")
    }

    /// Knot, its ACL allowing A and AAAA updates with the key.
    pub fn knot() -> NameServer {
        NameServer::start(Flavour::Knot, "", "hmac-sha256")
    }

    /// Starts a server; a port taken meanwhile is retried with another, three times.
    pub fn start(flavour: Flavour, policy: &str, algorithm: &str) -> NameServer {
        NameServer::with_zone(flavour, policy, algorithm, "")
    }

    /// [`NameServer::start`] with `extra` lines at the end of the zone file.
    pub fn with_zone(flavour: Flavour, policy: &str, algorithm: &str, extra: &str) -> NameServer {
        NameServer::with_files(flavour, policy, algorithm, extra, &[], "")
    }

    /// BIND with more `files` in its directory and `conf` at the end of named.conf, both
    /// with `{DIR}` standing for the directory: for more zones and keys.
    pub fn bind_with(policy: &str, files: &[(&str, &str)], conf: &str) -> NameServer {
        NameServer::with_files(Flavour::Bind, policy, "hmac-sha256", "", files, conf)
    }

    fn with_files(
        flavour: Flavour,
        policy: &str,
        algorithm: &str,
        extra: &str,
        files: &[(&str, &str)],
        conf: &str,
    ) -> NameServer {
        match flavour {
            Flavour::Bind => ["named", "tsig-keygen", "dig"]
                .into_iter()
                .for_each(require),
            Flavour::Knot => ["knotd", "keymgr", "dig"].into_iter().for_each(require),
        }
        let mut last = String::new();
        for _ in 0..3 {
            let dir = TempDir::new(match flavour {
                Flavour::Bind => "named",
                Flavour::Knot => "knotd",
            });
            let port = free_port();
            let secret = generate_secret(flavour, algorithm);
            let keyfile = dir.write(
                "ddns.key",
                &format!(
                    "key \"{KEY_NAME}\" {{\n\talgorithm {algorithm};\n\tsecret \"{secret}\";\n}};\n"
                ),
            );
            dir.write("example.com.zone", &format!("{ZONE}{extra}"));
            let here = dir.path().display().to_string();
            for (name, text) in files {
                dir.write(name, &text.replace("{DIR}", &here));
            }
            let child = match flavour {
                Flavour::Bind => spawn_bind(&dir, port, policy, &conf.replace("{DIR}", &here)),
                Flavour::Knot => spawn_knot(&dir, port, &secret, algorithm),
            };
            let mut server = NameServer {
                child,
                port,
                secret,
                keyfile,
                dir,
            };
            if server.wait_ready() {
                return server;
            }
            last = server.log();
        }
        panic!("{flavour:?} did not start:\n{last}");
    }

    /// Asks for the SOA every 100 ms for up to 5 s, or until the server died.
    fn wait_ready(&mut self) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if self
                .dig(&["example.com", "SOA", "+short"])
                .contains("hostmaster")
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// `dig` at this server, without recursion, over TCP (a loaded machine can make a
    /// single UDP exchange go unanswered), bounded.
    pub fn dig(&self, args: &[&str]) -> String {
        output(
            Command::new("dig")
                .args([
                    "-p",
                    &self.port.to_string(),
                    "@127.0.0.1",
                    "+norec",
                    "+tcp",
                    "+time=5",
                    "+tries=2",
                ])
                .args(args),
        )
    }

    /// The values of `name`'s RRset of `rtype`, sorted.
    pub fn values(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .dig(&[name, rtype, "+short"])
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    /// `TTL VALUE` lines of `name`'s RRset of `rtype`.
    pub fn with_ttl(&self, name: &str, rtype: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .dig(&[name, rtype, "+noall", "+answer"])
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() >= 5 && f[3] == rtype).then(|| format!("{} {}", f[1], f[4..].join(" ")))
            })
            .collect();
        v.sort();
        v
    }

    /// The zone's SOA serial.
    pub fn serial(&self) -> u32 {
        let soa = self.dig(&["example.com", "SOA", "+short"]);
        soa.split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no SOA: {soa:?}"))
    }

    /// The whole zone by AXFR (signed with the key), without the SOA records, sorted and
    /// with whitespace normalised.
    pub fn zone(&self) -> Vec<String> {
        let keyfile = self.keyfile.to_string_lossy().into_owned();
        let text = self.dig(&["-k", &keyfile, "example.com", "AXFR", "+noall", "+answer"]);
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty() && !l.starts_with(';') && !l.contains(" SOA "))
            .collect();
        assert!(!lines.is_empty(), "AXFR failed: {text}");
        lines.sort();
        lines.dedup();
        lines
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// stdout and stderr into one `server.log`, sharing one file offset.
fn log_files(dir: &TempDir) -> (Stdio, Stdio) {
    let file = std::fs::File::create(dir.path().join("server.log")).unwrap();
    (Stdio::from(file.try_clone().unwrap()), Stdio::from(file))
}

fn spawn_bind(dir: &TempDir, port: u16, policy: &str, extra: &str) -> Child {
    let d = dir.path().display();
    let conf = dir.write(
        "named.conf",
        &format!(
            "options {{
    directory \"{d}\";
    pid-file \"{d}/named.pid\";
    session-keyfile \"{d}/session.key\";
    managed-keys-directory \"{d}\";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
}};
controls {{ }};
include \"{d}/ddns.key\";
zone \"example.com\" {{
    type primary;
    file \"{d}/example.com.zone\";
    update-policy {{ {policy} }};
    allow-transfer {{ key {KEY_NAME}.; }};
}};
{extra}"
        ),
    );
    let (out, err) = log_files(dir);
    Command::new("named")
        .args(["-g", "-4", "-c"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start named")
}

fn spawn_knot(dir: &TempDir, port: u16, secret: &str, algorithm: &str) -> Child {
    let d = dir.path().display();
    let conf = dir.write(
        "knot.conf",
        &format!(
            "server:
    rundir: \"{d}\"
    listen: 127.0.0.1@{port}
log:
  - target: stderr
    any: info
database:
    storage: \"{d}\"
key:
  - id: {KEY_NAME}
    algorithm: {algorithm}
    secret: {secret}
acl:
  - id: ddns-update
    key: {KEY_NAME}
    action: [update, transfer]
    update-type: [A, AAAA]
zone:
  - domain: example.com
    storage: \"{d}\"
    file: \"example.com.zone\"
    acl: ddns-update
"
        ),
    );
    let (out, err) = log_files(dir);
    Command::new("knotd")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start knotd")
}

impl Drop for NameServer {
    fn drop(&mut self) {
        // By its own PID only; SIGKILL is enough for a server whose files are thrown away.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config whose `[rfc2136]` section points at `server`, with extra lines for
/// `[default]` and the section.
pub fn config(dir: &TempDir, server: &NameServer, default: &str, section: &str) -> PathBuf {
    dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com example.com\n{default}\n[rfc2136]\nserver = 127.0.0.1\nport = {}\nkey_name = {KEY_NAME}\nkey_secret = {}\nzones = example.com\n{section}\n",
            server.port, server.secret
        ),
    )
}
