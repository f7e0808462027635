//! Shared harness of the deployment tests: installs ddns-cgi into a temporary tree the way
//! docs/install.md does, runs real servers and clients against it on 127.0.0.1, talks HTTP
//! to them, and holds the scenarios every web server must pass.
//!
//! Every server runs in its own process group with its own config, pid and log files, and
//! is stopped by a [`Daemon`] guard; every wait has an upper bound.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser, StoredZone};

use crate::util::{self, TempDir};

/// The htpasswd user every deployment test authenticates as.
pub const USER: &str = "alice";
/// Its password; the colon checks that the servers split `user:password` at the first one.
pub const PASSWORD: &str = "alice-s3cret:x";
/// The SchlundTech gateway account of the fake.
pub const GATEWAY_USER: &str = "1234567";
/// Its password.
pub const GATEWAY_PASSWORD: &str = "gateway-s3cret";
/// The Gandi personal access token of the fake.
pub const GANDI_TOKEN: &str = "pat_0123456789abcdef0123456789abcdef01234567";
/// The account web servers run CGI programs as on Debian.
pub const WEB_USER: &str = "www-data";

/// Longest a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest a stopped server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one HTTP exchange may take (a CGI run plus registrar calls on loopback).
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The path of an installed program, or a failure that says how to install it: a missing
/// web server must fail the run, never skip it.
pub fn tool(name: &str) -> PathBuf {
    let dirs = [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ];
    dirs.iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed; the deployment tests need it: run ci/install-deps.sh as root"
            )
        })
}

/// A file under the repository's `deploy/` with its placeholders replaced; fails if a
/// placeholder is left, so a new one cannot slip into the files admins copy unnoticed.
pub fn deploy_file(relative: &str, substitutions: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(relative);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    for (placeholder, value) in substitutions {
        assert!(
            text.contains(placeholder),
            "{} has no {placeholder}",
            path.display()
        );
        text = text.replace(placeholder, value);
    }
    // Only lines that configure something count; the header comment names the placeholders.
    let left: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter(|line| {
            line.split('@').skip(1).step_by(2).any(|word| {
                !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            })
        })
        .collect();
    assert!(left.is_empty(), "placeholders left in {relative}: {left:?}");
    text
}

/// A port that was free a moment ago. Servers started on it retry with another if it was
/// taken meanwhile (see [`start_with_retry`]).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Runs a command to completion within `timeout`, killing it (and its process group) if it
/// takes longer.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    use std::os::unix::process::CommandExt;
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    // Pipes are drained on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            signal_group(child.id(), "KILL");
            let _ = child.wait();
            panic!("{shown} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Runs a setup command (as docs/install.md has the admin run it) and requires success.
pub fn sh(program: &str, args: &[&str]) {
    let mut cmd = Command::new(tool(program));
    cmd.args(args);
    let out = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn signal_group(pgid: u32, signal: &str) {
    // procps' kill reaches a whole process group; std has no portable signal call.
    let _ = Command::new(tool("kill"))
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A server process, stopped when dropped.
///
/// It leads its own process group, so stopping it reaches the workers it forked (Apache's
/// children and CGI daemon, nginx's workers, fcgiwrap's CGI runs) even if it dies first.
pub struct Daemon {
    name: String,
    child: Child,
    logs: Vec<PathBuf>,
}

impl Daemon {
    /// Starts `cmd` with stdout and stderr going to `dir/<name>.out`; `logs` are further
    /// files worth showing when something fails.
    pub fn spawn(name: &str, mut cmd: Command, dir: &Path, logs: &[PathBuf]) -> Daemon {
        use std::os::unix::process::CommandExt;
        let out_path = dir.join(format!("{name}.out"));
        let out = std::fs::File::create(&out_path).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut all = vec![out_path];
        all.extend_from_slice(logs);
        Daemon {
            name: name.to_string(),
            child,
            logs: all,
        }
    }

    /// The exit status, if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines of every log, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for path in &self.logs {
            let content = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = content.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            let _ = writeln!(
                text,
                "--- {} {} ---\n{}",
                self.name,
                path.display(),
                tail.join("\n")
            );
        }
        text
    }

    /// Waits until `ready` holds, failing with the logs if the process exits or time runs
    /// out. Returns false if it exited complaining that its address is taken.
    pub fn wait_until(&mut self, what: &str, ready: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ready() {
                return true;
            }
            if let Some(status) = self.exited() {
                let logs = self.logs();
                if logs.contains("Address already in use") {
                    return false;
                }
                panic!("{} exited ({status}) before {what}\n{logs}", self.name);
            }
            assert!(
                Instant::now() < deadline,
                "{} not {what} within {START_TIMEOUT:?}\n{}",
                self.name,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until something accepts connections on 127.0.0.1:`port`.
    pub fn wait_for_port(&mut self, port: u16) -> bool {
        self.wait_until(&format!("listening on 127.0.0.1:{port}"), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            signal_group(self.child.id(), "TERM");
            let deadline = Instant::now() + STOP_TIMEOUT;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Whatever is left of the group (or the leader itself, if TERM was not enough).
        signal_group(self.child.id(), "KILL");
        let _ = self.child.wait();
    }
}

/// Starts a server up to three times on fresh ports, for the rare case that another test
/// took the free port between [`free_port`] and the server's bind.
pub fn start_with_retry<T>(mut attempt: impl FnMut(u16) -> Option<T>) -> T {
    for _ in 0..3 {
        if let Some(server) = attempt(free_port()) {
            return server;
        }
    }
    panic!("no free port after three attempts");
}

/// What the scenarios need from a running web server.
pub trait Frontend {
    /// The loopback port it serves ddns-cgi on.
    fn port(&self) -> u16;
    /// The URL path prefix in front of `/nic/update` ("" when mounted at the root).
    fn prefix(&self) -> &str {
        ""
    }
    /// Its logs (which include ddns-cgi's stderr), for failure messages.
    fn logs(&self) -> String;
}

/// ddns-cgi installed into a temporary tree, laid out and owned as docs/install.md has it:
/// binary 0755, config and htpasswd `root:www-data` 0640, state directory owned by
/// www-data.
pub struct Site {
    pub dir: TempDir,
    pub binary: PathBuf,
    pub config: PathBuf,
    pub htpasswd: PathBuf,
}

impl Site {
    /// Installs the binary and writes `config` (which starts with `[default]`; the state
    /// directory is added) plus an htpasswd file holding [`USER`].
    pub fn new(tag: &str, config: &str) -> Site {
        let dir = TempDir::new(tag);
        let root = dir.path();
        let bin = root.join("bin");
        let etc = root.join("etc");
        let state = root.join("state");
        sh("install", &["-d", "-m", "0755", path(&bin), path(&etc)]);
        let binary = bin.join("ddns-cgi");
        sh("install", &["-m", "0755", util::binary(), path(&binary)]);
        sh(
            "install",
            &[
                "-d",
                "-o",
                WEB_USER,
                "-g",
                WEB_USER,
                "-m",
                "0750",
                path(&state),
            ],
        );

        assert!(
            config.starts_with("[default]\n"),
            "configs start with [default]"
        );
        let text = config.replacen(
            "[default]\n",
            &format!("[default]\nstate_dir = {}\n", state.display()),
            1,
        );
        let htpasswd = etc.join("htpasswd");
        // A config may name the htpasswd file for ddns-cgi's own checks.
        let text = text.replace("@HTPASSWD@", path(&htpasswd));
        let config = etc.join("ddns-cgi.ini");
        std::fs::write(&config, text).unwrap();
        sh("chown", &["root:www-data", path(&config)]);
        sh("chmod", &["640", path(&config)]);

        sh(
            "htpasswd",
            &["-c", "-b", "-B", path(&htpasswd), USER, PASSWORD],
        );
        sh("chown", &["root:www-data", path(&htpasswd)]);
        sh("chmod", &["640", path(&htpasswd)]);

        let site = Site {
            dir,
            binary,
            config,
            htpasswd,
        };
        site.check_config();
        site
    }

    /// `ddns-cgi check-config` as the web server's user: proves the binary and config are
    /// reachable with the permissions set above, as docs/install.md has the admin check.
    pub fn check_config(&self) {
        let mut cmd = Command::new(tool("runuser"));
        cmd.args(["-u", WEB_USER, "--"])
            .arg(&self.binary)
            .args(["check-config", "--config"])
            .arg(&self.config);
        let out = run_bounded(cmd, Duration::from_secs(30));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("config OK"),
            "check-config as {WEB_USER} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A directory for one server's own config, pid and logs.
    pub fn server_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        sh("install", &["-d", "-m", "0755", path(&dir)]);
        dir
    }
}

/// A path as a command argument; the temporary tree has UTF-8 names only.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Both fake registrars with their fixture zones, and ddns-cgi installed with a config
/// that reaches them: SchlundTech holds example.co.uk, Gandi example.com.
pub struct Stack {
    pub schlund: FakeSchlund,
    pub gandi: FakeGandi,
    pub site: Site,
}

impl Stack {
    pub fn new(tag: &str) -> Stack {
        Stack::with(tag, "", "")
    }

    /// A stack whose config also holds `general` in `[default]` and `sections` after the
    /// registrar sections; `@HTPASSWD@` in them names the site's htpasswd file.
    pub fn with(tag: &str, general: &str, sections: &str) -> Stack {
        let schlund = FakeSchlund::start(
            vec![SchlundUser::new(GATEWAY_USER, GATEWAY_PASSWORD, "10")],
            &[FIXTURE_ZONE],
        );
        let gandi = FakeGandi::start(&[GANDI_TOKEN], vec![fixture_zone()]);
        let config = format!(
            "[default]\n\
             allowed_hostnames = home.example.co.uk a.b.example.co.uk home.example.com\n\
             username = {GATEWAY_USER}\n\
             password = {GATEWAY_PASSWORD}\n\
             context = 10\n\
             url = {}\n\
             zones = example.co.uk\n\
             {general}\n\
             [gandi]\n\
             token = {GANDI_TOKEN}\n\
             url = {}\n\
             zones = example.com\n\
             {sections}",
            schlund.url(),
            gandi.base_url()
        );
        let site = Site::new(tag, &config);
        Stack {
            schlund,
            gandi,
            site,
        }
    }

    /// The SchlundTech zone as stored now.
    pub fn zone(&self) -> StoredZone {
        self.schlund.zone("example.co.uk").expect("fixture zone")
    }

    /// The value of the one record of that name and type in the SchlundTech zone.
    #[track_caller]
    pub fn value(&self, name: &str, rr_type: &str) -> String {
        let rrs = self.zone().rr(name, rr_type);
        assert_eq!(rrs.len(), 1, "{name} {rr_type}: {rrs:?}");
        rrs[0].value.clone()
    }

    /// How many zone writes (0202/0202001) the SchlundTech fake accepted.
    pub fn zone_writes(&self) -> usize {
        self.schlund
            .requests()
            .iter()
            .filter(|r| r.task_code.starts_with("0202") && r.status_code.starts_with('S'))
            .count()
    }
}

/// An HTTP/1.x request written byte for byte, so tests control the version and headers
/// exactly as a router or client sends them.
#[derive(Clone)]
pub struct Request {
    method: String,
    target: String,
    version: &'static str,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    pub fn get(target: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            version: "HTTP/1.1",
            headers: vec![("User-Agent".into(), "ddclient/4.0.0".into())],
            body: String::new(),
        }
    }

    pub fn post(target: &str, content_type: &str, body: &str) -> Request {
        let mut req = Request::get(target);
        req.method = "POST".into();
        req.headers
            .push(("Content-Type".into(), content_type.into()));
        req.body = body.into();
        req
    }

    /// Preemptive Basic auth, as every studied client sends it.
    pub fn auth(self, user: &str, password: &str) -> Request {
        let token = base64(format!("{user}:{password}").as_bytes());
        self.header("Authorization", &format!("Basic {token}"))
    }

    /// Sets a header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn http10(mut self) -> Request {
        self.version = "HTTP/1.0";
        self
    }

    /// Sends the request to 127.0.0.1:`port` and reads the answer until the server closes.
    pub fn send(&self, port: u16) -> Response {
        let mut raw = format!("{} {} {}\r\n", self.method, self.target, self.version);
        let _ = write!(raw, "Host: 127.0.0.1:{port}\r\n");
        for (name, value) in &self.headers {
            let _ = write!(raw, "{name}: {value}\r\n");
        }
        if self.method == "POST" {
            let _ = write!(raw, "Content-Length: {}\r\n", self.body.len());
        }
        if self.version == "HTTP/1.1" {
            raw.push_str("Connection: close\r\n");
        }
        raw.push_str("\r\n");
        raw.push_str(&self.body);

        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
        stream.set_read_timeout(Some(HTTP_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(HTTP_TIMEOUT)).unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .unwrap_or_else(|e| panic!("reading the answer to {}: {e}", self.target));
        Response::parse(&answer)
    }
}

/// An HTTP answer with the body de-chunked.
#[derive(Debug)]
pub struct Response {
    /// e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no header block in {text:?}"));
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut response = Response {
            status_line,
            status,
            headers,
            body: body.to_string(),
        };
        if response
            .header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            response.body = dechunk(body);
        }
        response
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// Standard base64 with padding, for the Basic header (not worth a crate).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Asserts a protocol answer: `200 OK` and exactly this body.
#[track_caller]
pub fn assert_body(server: &dyn Frontend, response: &Response, body: &str) {
    assert_eq!(
        (
            response.status,
            response.status_line.ends_with(" 200 OK"),
            response.body.as_str()
        ),
        (200, true, body),
        "status line {:?}\n{}",
        response.status_line,
        server.logs()
    );
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    // HTTP/1.0 clients cannot read chunks; ddns-cgi's own length must get through.
    assert_eq!(
        response.header("Content-Length"),
        Some(body.len().to_string().as_str()),
        "{response:?}"
    );
}

/// Asserts the web server's own Basic-auth challenge.
#[track_caller]
pub fn assert_challenge(server: &dyn Frontend, response: &Response) {
    assert_eq!(
        (response.status, response.header("WWW-Authenticate")),
        (401, Some("Basic realm=\"ddns\"")),
        "{response:?}\n{}",
        server.logs()
    );
}

fn update_path(server: &dyn Frontend, path: &str, query: &str) -> String {
    format!("{}{path}?{query}", server.prefix())
}

/// The scenarios each web server runs; each takes a fresh [`Stack`] and the server in front
/// of it.
pub mod scenario {
    use super::*;

    /// A first update writes the record; the same address again is `nochg` and writes
    /// nothing; a host the user may not change is `nohost` and leaves the zone alone.
    pub fn good_nochg_nohost(stack: &Stack, server: &dyn Frontend) {
        let before = stack.zone();
        let target = update_path(
            server,
            "/nic/update",
            "hostname=home.example.co.uk&myip=84.17.5.1",
        );
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good 84.17.5.1\n");
        assert_eq!(stack.value("home", "A"), "84.17.5.1");
        assert_eq!(
            stack.zone().rr("home", "AAAA"),
            before.rr("home", "AAAA"),
            "the other family stays"
        );
        assert_eq!(stack.zone_writes(), 1);

        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "nochg 84.17.5.1\n");
        assert_eq!(stack.zone_writes(), 1, "nochg writes nothing");

        let after_good = stack.zone();
        let target = update_path(
            server,
            "/nic/update",
            "hostname=mx1.example.co.uk&myip=84.17.5.2",
        );
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "nohost\n");
        assert_eq!(
            stack.zone(),
            after_good,
            "a refused host leaves the zone alone"
        );
        assert_eq!(stack.zone_writes(), 1);
    }

    /// A wrong password and a missing one get the web server's own challenge, and no
    /// registrar is called.
    pub fn auth_failures(stack: &Stack, server: &dyn Frontend) {
        let before = stack.zone();
        let target = update_path(
            server,
            "/nic/update",
            "hostname=home.example.co.uk&myip=84.17.5.9",
        );
        let answer = Request::get(&target)
            .auth(USER, "wrong-password")
            .send(server.port());
        assert_challenge(server, &answer);
        let answer = Request::get(&target)
            .auth("mallory", PASSWORD)
            .send(server.port());
        assert_challenge(server, &answer);
        let answer = Request::get(&target).send(server.port());
        assert_challenge(server, &answer);
        assert_eq!(stack.zone(), before);
        assert!(stack.schlund.requests().is_empty());
        assert!(stack.gandi.requests().is_empty());
    }

    /// `myip=v4,v6` sets A and AAAA; several hosts get one line each, in request order.
    pub fn dual_stack_and_several_hosts(stack: &Stack, server: &dyn Frontend) {
        let target = update_path(
            server,
            "/v3/update",
            "hostname=home.example.co.uk&myip=84.17.5.3,2a01:4f8::3",
        );
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good 84.17.5.3,2a01:4f8::3\n");
        assert_eq!(stack.value("home", "A"), "84.17.5.3");
        assert_eq!(stack.value("home", "AAAA"), "2a01:4f8::3");

        let target = update_path(
            server,
            "/update",
            "hostname=a.b.example.co.uk,mx1.example.co.uk,home.example.co.uk,home.example.com&myip=84.17.5.4",
        );
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(
            server,
            &answer,
            "good 84.17.5.4\nnohost\ngood 84.17.5.4\ngood 84.17.5.4\n",
        );
        assert_eq!(stack.value("a.b", "A"), "84.17.5.4");
        assert_eq!(stack.value("home", "A"), "84.17.5.4");
        assert_eq!(
            stack.value("mx1", "A"),
            "203.0.113.25",
            "refused host untouched"
        );
        assert_eq!(
            stack.gandi.rrset("example.com", "home", "A"),
            Some(Rrset::new("home", "A", 300, &["84.17.5.4"]))
        );
    }

    /// A FRITZ!Box speaks HTTP/1.0 and must get a `Content-Length`; pfSense-style clients
    /// POST a form.
    pub fn fritzbox_and_post_form(stack: &Stack, server: &dyn Frontend) {
        let target = update_path(
            server,
            "/nic/update",
            "hostname=home.example.co.uk&myip=84.17.5.5",
        );
        let answer = Request::get(&target)
            .http10()
            .header("User-Agent", "Fritz!Box DDNS/1.0.1")
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good 84.17.5.5\n");
        assert_eq!(answer.header("Content-Length"), Some("15"));
        assert_eq!(answer.header("Transfer-Encoding"), None);
        assert_eq!(stack.value("home", "A"), "84.17.5.5");

        let target = format!("{}/nic/update", server.prefix());
        let answer = Request::post(
            &target,
            "application/x-www-form-urlencoded",
            "hostname=a.b.example.co.uk&myip=84.17.5.6&wildcard=OFF&mx=&backmx=NO",
        )
        .header("User-Agent", "phpDynDNS/0.7")
        .auth(USER, PASSWORD)
        .send(server.port());
        assert_body(server, &answer, "good 84.17.5.6\n");
        assert_eq!(stack.value("a.b", "A"), "84.17.5.6");
    }

    /// nsupdate.info's delete: both address records of the host go, nothing else, and a
    /// second delete finds nothing.
    pub fn delete(stack: &Stack, server: &dyn Frontend, path: &str) {
        let before = stack.zone();
        let target = update_path(server, path, "hostname=home.example.co.uk");
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good\n");
        let after = stack.zone();
        assert!(after.rr("home", "A").is_empty() && after.rr("home", "AAAA").is_empty());
        let others = |zone: &StoredZone| -> Vec<_> {
            zone.all_rr()
                .into_iter()
                .filter(|rr| rr.name != "home")
                .collect()
        };
        assert_eq!(others(&after), others(&before));
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "nochg\n");
        assert_eq!(stack.zone_writes(), 1);
        let answer = Request::get(&target).send(server.port());
        assert_challenge(server, &answer);
    }

    /// A Gandi LiveDNS record through the same server.
    pub fn gandi_update(stack: &Stack, server: &dyn Frontend) {
        let target = update_path(
            server,
            "/nic/update",
            "hostname=home.example.com&myip=84.17.5.7,2a01:4f8::7",
        );
        let answer = Request::get(&target)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good 84.17.5.7,2a01:4f8::7\n");
        assert_eq!(
            stack.gandi.rrset("example.com", "home", "A"),
            Some(Rrset::new("home", "A", 300, &["84.17.5.7"]))
        );
        assert_eq!(
            stack.gandi.rrset("example.com", "home", "AAAA"),
            Some(Rrset::new("home", "AAAA", 300, &["2a01:4f8::7"]))
        );
        assert!(stack.schlund.requests().is_empty());
    }

    /// lego's httpreq endpoint through the server: present and cleanup of a challenge value
    /// at a name the user may update, behind the server's Basic auth; a name they may not
    /// is refused, and no password gets nothing.
    pub fn acme_httpreq(stack: &Stack, server: &dyn Frontend) {
        let before = stack.zone();
        let value = crate::acme::V1;
        let body = format!(r#"{{"fqdn":"_acme-challenge.home.example.co.uk.","value":"{value}"}}"#);
        let present = format!("{}/acme/present", server.prefix());
        let cleanup = format!("{}/acme/cleanup", server.prefix());
        let answer = Request::post(&present, "application/json", &body)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "200 changed\n");
        assert_eq!(stack.value("_acme-challenge.home", "TXT"), value);
        let answer = Request::post(&present, "application/json", &body).send(server.port());
        assert_challenge(server, &answer);
        let other = body.replace("home.example.co.uk", "mx1.example.co.uk");
        let answer = Request::post(&present, "application/json", &other)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_eq!(answer.status, 403, "{answer:?}\n{}", server.logs());
        let answer = Request::post(&cleanup, "application/json", &body)
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "200 changed\n");
        assert_eq!(
            stack.zone().all_rr(),
            before.all_rr(),
            "the zone is as before"
        );
    }

    /// The config sections that let ddns-cgi check credentials itself on the `/self/`
    /// locations of the deploy snippets.
    pub const SELF_CHECKED: &str = "[dialect:noip]\n\
         query_credentials = yes\n\
         authorization_header = yes\n";

    /// On the `/self/` locations the web server checks nothing and ddns-cgi does: no
    /// credentials get ddns-cgi's challenge, then the Authorization header (as uclient-fetch
    /// sends it after the challenge) or query credentials update; a forged header (a wrong
    /// password, an unknown user) gives nothing, and no password reaches the access log.
    pub fn self_checked(stack: &Stack, server: &dyn Frontend, access_log: &Path) {
        let target = update_path(
            server,
            "/self/nic/update",
            "hostname=home.example.co.uk&myip=84.17.5.30",
        );
        let answer = Request::get(&target).send(server.port());
        assert_eq!(
            answer.body,
            "badauth\n",
            "ddns-cgi's own 401\n{}",
            server.logs()
        );
        assert_challenge(server, &answer);
        let answer = Request::get(&target)
            .header("User-Agent", "uclient-fetch")
            .auth(USER, PASSWORD)
            .send(server.port());
        assert_body(server, &answer, "good 84.17.5.30\n");
        assert_eq!(stack.value("home", "A"), "84.17.5.30");

        let encoded: String = PASSWORD
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let target = update_path(
            server,
            "/self/update",
            &format!(
                "username={USER}&password={encoded}&hostname=home.example.co.uk&myip=84.17.5.31"
            ),
        );
        let answer = Request::get(&target).send(server.port());
        assert_body(server, &answer, "good 84.17.5.31\n");

        let before = stack.zone();
        let target = update_path(
            server,
            "/self/nic/update",
            "hostname=home.example.co.uk&myip=84.17.5.32",
        );
        for (user, password) in [(USER, "forged"), ("mallory", PASSWORD), (USER, "")] {
            let answer = Request::get(&target)
                .auth(user, password)
                .send(server.port());
            assert_eq!(
                answer.body,
                "badauth\n",
                "{user}:{password}\n{}",
                server.logs()
            );
            assert_challenge(server, &answer);
        }
        assert_eq!(stack.zone(), before, "a forged header changes nothing");
        let logged = std::fs::read_to_string(access_log).unwrap_or_default();
        assert!(
            !logged.contains(&encoded) && !logged.contains(PASSWORD),
            "{logged}"
        );
        assert!(!server.logs().contains(&encoded) && !server.logs().contains(PASSWORD));
    }
}
