//! Running the real binary as a CGI process, and small helpers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("ddns-cgi-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a config file whose state directory lies inside this directory, so tests
    /// never share state.
    pub fn write_config(&self, name: &str, text: &str) -> PathBuf {
        let state = format!("[default]\nstate_dir = {}/state\n", self.0.display());
        assert!(
            text.starts_with("[default]\n"),
            "test configs start with [default]"
        );
        self.write(name, &text.replacen("[default]\n", &state, 1))
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One CGI invocation.
#[derive(Clone)]
pub struct Request {
    pub method: String,
    pub path_info: String,
    pub query: String,
    pub user: Option<String>,
    pub remote_addr: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub agent: Option<String>,
    pub extra: Vec<(String, String)>,
}

pub fn get(query: &str) -> Request {
    Request {
        method: "GET".into(),
        path_info: String::new(),
        query: query.into(),
        user: Some("alice".into()),
        remote_addr: "84.17.5.1".into(),
        content_type: None,
        body: Vec::new(),
        agent: Some("ddclient/4.0.0".into()),
        extra: Vec::new(),
    }
}

impl Request {
    pub fn user(mut self, user: Option<&str>) -> Request {
        self.user = user.map(str::to_string);
        self
    }
    pub fn method(mut self, method: &str) -> Request {
        self.method = method.into();
        self
    }
    pub fn path(mut self, path: &str) -> Request {
        self.path_info = path.into();
        self
    }
    pub fn from(mut self, addr: &str) -> Request {
        self.remote_addr = addr.into();
        self
    }
    pub fn body(mut self, content_type: &str, body: &str) -> Request {
        self.content_type = Some(content_type.into());
        self.body = body.as_bytes().to_vec();
        self
    }
    pub fn env(mut self, name: &str, value: &str) -> Request {
        self.extra.push((name.into(), value.into()));
        self
    }
}

/// What the CGI printed.
#[derive(Debug)]
pub struct Answer {
    pub status: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub stderr: String,
    pub raw: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The binary under test: the static release binary `deploy/build` made when
/// `DDNS_CGI_BINARY` names it (as `ci/test` does), else the one cargo built for the tests.
/// Under CI the variable is required, so the tests never pass on a binary nobody deploys.
pub fn binary() -> &'static str {
    static BINARY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BINARY.get_or_init(|| match std::env::var("DDNS_CGI_BINARY") {
        Ok(path) if !path.is_empty() => {
            assert!(
                Path::new(&path).is_file(),
                "DDNS_CGI_BINARY={path} does not exist; build it with deploy/build"
            );
            path
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "under CI the tests run the static release binary: set DDNS_CGI_BINARY (ci/test does)"
            );
            env!("CARGO_BIN_EXE_ddns-cgi").to_string()
        }
    })
}

/// Runs the binary with a clean environment holding only CGI variables.
pub fn run(config: &Path, req: &Request) -> Answer {
    let mut child = command(config, req)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ddns-cgi");
    child.stdin.take().unwrap().write_all(&req.body).unwrap();
    let out = child.wait_with_output().unwrap();
    parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The binary with a clean environment holding only the CGI variables of `req`, for tests
/// that start it themselves.
pub fn command(config: &Path, req: &Request) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &req.method)
        .env("QUERY_STRING", &req.query)
        .env("REMOTE_ADDR", &req.remote_addr)
        .env("SCRIPT_NAME", "/nic/update")
        .env("DDNS_CONFIG", config)
        .env("CONTENT_LENGTH", req.body.len().to_string());
    if !req.path_info.is_empty() {
        cmd.env("PATH_INFO", &req.path_info);
    }
    if let Some(user) = &req.user {
        cmd.env("REMOTE_USER", user).env("AUTH_TYPE", "Basic");
    }
    if let Some(ct) = &req.content_type {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(agent) = &req.agent {
        cmd.env("HTTP_USER_AGENT", agent);
    }
    for (k, v) in &req.extra {
        cmd.env(k, v);
    }
    cmd
}

pub fn parse_output(raw: &str, stderr: String) -> Answer {
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block in CGI output: {raw:?}\nstderr: {stderr}"));
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .map(|line| {
            let (n, v) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            (n.to_string(), v.to_string())
        })
        .collect();
    let status = headers
        .iter()
        .find(|(n, _)| n == "Status")
        .map(|(_, v)| v.clone())
        .expect("Status header");
    Answer {
        status,
        headers,
        body: body.to_string(),
        stderr,
        raw: raw.to_string(),
    }
}

/// Asserts the exact status, body and standard headers of a protocol answer.
#[track_caller]
pub fn assert_answer(answer: &Answer, status: &str, body: &str) {
    assert_eq!(
        (answer.status.as_str(), answer.body.as_str()),
        (status, body),
        "stderr:\n{}",
        answer.stderr
    );
    assert_eq!(
        answer.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        answer.header("Content-Length"),
        Some(body.len().to_string().as_str())
    );
}

/// Asserts that the CGI logged a line holding `needle`.
#[track_caller]
pub fn assert_logged(answer: &Answer, needle: &str) {
    assert!(
        answer.stderr.contains(needle),
        "the log lacks {needle:?}:\n{}",
        answer.stderr
    );
}

/// Asserts that nothing the CGI logged holds `needle` (a secret, a word that must not be
/// said).
#[track_caller]
pub fn assert_not_logged(answer: &Answer, needle: &str) {
    assert!(
        !answer.stderr.contains(needle),
        "the log holds {needle:?}:\n{}",
        answer.stderr
    );
}

/// The state file ddns-cgi keeps for `host` under a test directory's `state/`, as text;
/// None when there is none.
pub fn state_text(dir: &Path, host: &str) -> Option<String> {
    std::fs::read_to_string(dir.join("state/hosts").join(host)).ok()
}

/// The text of every file below `dir` (bytes that are not UTF-8 replaced), for the scans
/// that no secret reached a file.
pub fn text_below(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&text_below(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    text
}

/// What a command printed: its standard output, then its standard error.
pub fn printed(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
