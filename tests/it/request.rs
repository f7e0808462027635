//! The request as the web server hands it over, through the real CGI process: the user
//! name in `REMOTE_USER` (any bytes, not only UTF-8) and the body on stdin (which may
//! never come).
//!
//! Alice is narrowed to `a.b.example.co.uk` with `use_global = no`; the global list is
//! `home.example.co.uk`.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Output, Stdio};
use std::time::{Duration, Instant};

use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund};

use crate::schlund::{config_text, fake};
use crate::util::{
    Answer, Request, TempDir, assert_answer, assert_not_logged, command, get, parse_output,
};

const HOME: &str = "home.example.co.uk";
const AB: &str = "a.b.example.co.uk";

struct Env {
    _dir: TempDir,
    gw: FakeSchlund,
    cfg: PathBuf,
}

fn setup(tag: &str) -> Env {
    let dir = TempDir::new(tag);
    let gw = fake();
    let text = config_text(&gw, "zones = example.co.uk")
        .replace(
            "allowed_hostnames = home.example.co.uk a.b.example.co.uk example.co.uk nothere.example.co.uk",
            "allowed_hostnames = home.example.co.uk",
        )
        + "[user:alice]\nallowed_hostnames = a.b.example.co.uk\nuse_global = no\n";
    let cfg = dir.write_config("ddns.ini", &text);
    Env { _dir: dir, gw, cfg }
}

/// Runs the CGI with `REMOTE_USER` set to exactly these bytes.
fn run_as(env: &Env, user: &[u8], query: &str) -> Answer {
    let mut cmd = command(&env.cfg, &get(query));
    cmd.env("REMOTE_USER", OsStr::from_bytes(user));
    finish(cmd.stdin(Stdio::null()).output().expect("run ddns-cgi"))
}

fn finish(out: Output) -> Answer {
    parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The zone is the fixture and the gateway was never called.
#[track_caller]
fn assert_untouched(env: &Env, what: &str) {
    assert_eq!(
        env.gw.zone("example.co.uk").unwrap().to_xml(),
        FIXTURE_ZONE,
        "{what}"
    );
    assert!(env.gw.requests().is_empty(), "{what} reached the registrar");
}

/// A spelling of alice's login that is not plain printable ASCII must not fall back to the
/// global list (which `use_global = no` denies her): it is refused like a failed login.
#[test]
fn variant_spellings_of_a_user_name_are_refused() {
    let env = setup("user-variants");
    let cases: [(&[u8], &str); 7] = [
        (b"alice ", "has trailing white space"),
        (b"alice\t", "has trailing white space"),
        (b" alice", "has leading white space"),
        (b"alice\xff", "holds a byte outside printable ASCII"),
        (b"alice\xc3", "holds a byte outside printable ASCII"),
        ("ALİCE".as_bytes(), "holds a byte outside printable ASCII"),
        (b"ali\x1bce", "holds a control character"),
    ];
    for (user, reason) in cases {
        let answer = run_as(&env, user, &format!("hostname={HOME}&myip=84.17.5.60"));
        assert_eq!(
            answer.raw,
            "Status: 401 Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 8\r\nWWW-Authenticate: Basic realm=\"ddns\"\r\n\r\nbadauth\n",
            "{user:?}: {}",
            answer.stderr
        );
        let warning = format!(
            "ddns-cgi: warning: REMOTE_USER {reason}; user names must be printable ASCII without surrounding white space, so that no spelling of a login can miss its [user:NAME] section; answering 401\n"
        );
        assert!(
            answer.stderr.starts_with(&warning),
            "{user:?}: {}",
            answer.stderr
        );
        assert_untouched(&env, &String::from_utf8_lossy(user));
    }
}

/// ASCII case folding is the documented spelling rule: `ALICE` is alice.
#[test]
fn a_user_name_in_other_case_gets_its_own_section() {
    let env = setup("user-case");
    let answer = run_as(
        &env,
        b"ALICE",
        &format!("hostname={HOME},{AB}&myip=84.17.5.61"),
    );
    assert_answer(&answer, "200 OK", "nohost\ngood 84.17.5.61\n");
    let zone = env.gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("a.b", "A")[0].value, "84.17.5.61");
    assert_eq!(zone.rr("home", "A")[0].value, "198.51.100.7");
    // Anyone else gets the global list.
    let answer = run_as(&env, b"carol", &format!("hostname={HOME}&myip=84.17.5.62"));
    assert_answer(&answer, "200 OK", "good 84.17.5.62\n");
}

/// Far above the body deadline: a request still running then would hang forever.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Starts the CGI with `CONTENT_LENGTH` set to `declared`, writes `sent` to its stdin and
/// returns the stdin still open, as a client that stalls leaves it.
fn start_stalled(env: &Env, req: &Request, declared: usize, sent: &[u8]) -> (Child, ChildStdin) {
    let mut child = command(&env.cfg, req)
        .env("CONTENT_LENGTH", declared.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ddns-cgi");
    let mut stdin = child.stdin.take().unwrap();
    // A CGI that does not want the body may have answered and gone already.
    let _ = stdin.write_all(sent).and_then(|()| stdin.flush());
    (child, stdin)
}

/// Waits for the CGI to answer while `stdin`, if given, stays open.
fn answer_of(mut child: Child, stdin: Option<ChildStdin>) -> Answer {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("the CGI still waits for its body after {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    finish(child.wait_with_output().unwrap())
}

fn form(query: &str) -> Request {
    get(query)
        .method("POST")
        .user(Some("carol"))
        .body("application/x-www-form-urlencoded", "")
}

/// A GET's CONTENT_LENGTH is not waited for: the body is never read.
#[test]
fn a_get_with_a_content_length_is_answered_without_reading_stdin() {
    let env = setup("get-length");
    let req = get(&format!("hostname={HOME}&myip=84.17.5.63")).user(Some("carol"));
    let (child, stdin) = start_stalled(&env, &req, 5, b"");
    let answer = answer_of(child, Some(stdin));
    assert_answer(&answer, "200 OK", "good 84.17.5.63\n");
    assert_not_logged(&answer, "request body");
    assert_eq!(
        env.gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.63"
    );
}

/// A complete body is used as soon as it is there; the client need not close the pipe.
#[test]
fn a_complete_body_is_used_without_waiting_for_the_end_of_stdin() {
    let env = setup("post-complete");
    let body = format!("hostname={HOME}&myip=84.17.5.64");
    let (child, stdin) = start_stalled(&env, &form(""), body.len(), body.as_bytes());
    let answer = answer_of(child, Some(stdin));
    assert_answer(&answer, "200 OK", "good 84.17.5.64\n");
    assert_not_logged(&answer, "request body");
}

/// A client announcing more than it sends gets the answer to its query alone, once the
/// deadline is over: here no host name, so `notfqdn`, and the zone is not touched.
#[test]
fn a_body_that_never_completes_counts_as_no_body() {
    let env = setup("post-stalled");
    let body = format!("hostname={HOME}&myip=84.17.5.65");
    let (child, stdin) = start_stalled(&env, &form(""), 1000, body.as_bytes());
    let answer = answer_of(child, Some(stdin));
    assert_answer(&answer, "200 OK", "notfqdn\n");
    assert!(
        answer.stderr.starts_with(
            "ddns-cgi: warning: request body of 1000 bytes (CONTENT_LENGTH) did not arrive within 5 s; answering as if the request had no body (only the query counts)\n"
        ),
        "{}",
        answer.stderr
    );
    assert_untouched(&env, "a stalled body");

    // The query still counts.
    let (child, stdin) = start_stalled(
        &env,
        &form(&format!("hostname={HOME}")),
        1000,
        b"myip=84.17.5.66",
    );
    let answer = answer_of(child, Some(stdin));
    assert_answer(&answer, "200 OK", "good 84.17.5.1\n");
}

/// A body cut short, or one larger than any update form, carries no parameters either.
#[test]
fn a_short_or_oversized_body_counts_as_no_body() {
    let env = setup("post-short");
    let body = format!("hostname={HOME}&myip=84.17.5.67");
    let (child, stdin) = start_stalled(&env, &form(""), body.len() + 10, body.as_bytes());
    drop(stdin);
    let answer = answer_of(child, None);
    assert_answer(&answer, "200 OK", "notfqdn\n");
    assert!(
        answer.stderr.starts_with(&format!(
            "ddns-cgi: warning: request body ended after {} of {} bytes (CONTENT_LENGTH); the client gave up or the web server cut it off; answering as if the request had no body (only the query counts)\n",
            body.len(),
            body.len() + 10
        )),
        "{}",
        answer.stderr
    );

    let (child, stdin) = start_stalled(&env, &form(""), 65_537, body.as_bytes());
    let answer = answer_of(child, Some(stdin));
    assert_answer(&answer, "200 OK", "notfqdn\n");
    assert!(
        answer.stderr.starts_with(
            "ddns-cgi: warning: request body of 65537 bytes (CONTENT_LENGTH) is larger than the 65536 bytes an update form can need; answering as if the request had no body (only the query counts)\n"
        ),
        "{}",
        answer.stderr
    );
    assert_untouched(&env, "a short or oversized body");
}
