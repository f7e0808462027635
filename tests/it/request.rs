//! The request as the web server hands it over, through the real CGI process: the user
//! name in `REMOTE_USER` (any bytes, not only UTF-8) and the body on stdin (which may
//! never come).
//!
//! Alice is narrowed to `a.b.example.co.uk` with `use_global = no`; the global list is
//! `home.example.co.uk`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund};

use crate::schlund::{config_text, fake};
use crate::util::{Answer, TempDir, assert_answer, command, get, parse_output};

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
