//! Credentials ddns-cgi checks itself, through the real binary: users and passwords from
//! the query and from an `Authorization` header the web server passes on, against
//! htpasswd files Apache's `htpasswd` made and against `password_hash`; their precedence
//! below REMOTE_USER; the failure limit; and that no password or hash is ever shown.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::schlund::{config_text, fake};
use crate::util::{
    Answer, TempDir, assert_answer, assert_logged, assert_not_logged, binary, get, run,
};
use crate::webserver::{base64, sh};

/// Passwords of the htpasswd users; `:` and `&` check splitting and query decoding.
pub const BCRYPT_PASSWORD: &str = "b-cr:ypt&pw";
pub const APR1_PASSWORD: &str = "apr1-pass:w";
pub const SHA_PASSWORD: &str = "sha-pa55";
pub const ARGON_PASSWORD: &str = "argon-pa55:x";
pub const SECRET: &str = "carol-s3cret-1";

/// An htpasswd file made by Debian's `htpasswd` with one user per format, and a
/// plain-text line that must never match.
pub fn htpasswd_file(dir: &Path) -> PathBuf {
    let path = dir.join("htpasswd");
    sh(
        "htpasswd",
        &[
            "-c",
            "-b",
            "-B",
            "-C",
            "5",
            p(&path),
            "bcrypt-user",
            BCRYPT_PASSWORD,
        ],
    );
    sh(
        "htpasswd",
        &["-b", "-m", p(&path), "apr1-user", APR1_PASSWORD],
    );
    sh(
        "htpasswd",
        &["-b", "-s", p(&path), "sha-user", SHA_PASSWORD],
    );
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("plain-user:plain-pa55\n");
    std::fs::write(&path, text).unwrap();
    path
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `ddns-cgi hash-secret` with `secret` on stdin.
pub fn hash_secret(secret: &str) -> String {
    let mut child = Command::new(binary())
        .arg("hash-secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{secret}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hash = String::from_utf8(out.stdout).unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(secret));
    hash.trim_end().to_string()
}

struct Setup {
    dir: TempDir,
    gw: fake_registrars::schlund::FakeSchlund,
    cfg: PathBuf,
    htpasswd: PathBuf,
    argon_hash: String,
}

fn setup(tag: &str, switches: &str) -> Setup {
    let dir = TempDir::new(tag);
    let gw = fake();
    let htpasswd = htpasswd_file(dir.path());
    let argon_hash = hash_secret(ARGON_PASSWORD);
    let extra = format!(
        "zones = example.co.uk\nhtpasswd = {}\nauth_fail_limit = 4\nauth_fail_window = 600\n\
         [user:argon-user]\npassword_hash = {}\n\
         [user:carol]\nsecret = {SECRET}\n\
         [dialect:noip]\n{switches}",
        htpasswd.display(),
        argon_hash.replace('%', "%%"),
    );
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, &extra));
    Setup {
        dir,
        gw,
        cfg,
        htpasswd,
        argon_hash,
    }
}

const UPDATE: &str = "hostname=home.example.co.uk&myip=84.17.5.1";

fn query(user: &str, password: &str) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!("username={}&password={}&{UPDATE}", enc(user), enc(password))
}

fn header(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

#[track_caller]
fn assert_badauth(answer: &Answer) {
    assert_answer(answer, "401 Unauthorized", "badauth\n");
    assert_eq!(
        answer.header("WWW-Authenticate"),
        Some("Basic realm=\"ddns\"")
    );
}

#[track_caller]
fn assert_nothing_shown(s: &Setup, answers: &[&Answer]) {
    let mut secrets = vec![
        BCRYPT_PASSWORD,
        APR1_PASSWORD,
        SHA_PASSWORD,
        ARGON_PASSWORD,
        SECRET,
        "plain-pa55",
    ];
    let hashes = std::fs::read_to_string(&s.htpasswd).unwrap();
    let hash_list: Vec<&str> = hashes
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(_, h)| h)
        .collect();
    secrets.extend(hash_list.iter().copied());
    secrets.push(&s.argon_hash);
    let state = crate::util::text_below(&s.dir.path().join("state"));
    for answer in answers {
        for secret in &secrets {
            assert!(!answer.raw.contains(secret), "answer holds {secret:?}");
            assert_not_logged(answer, secret);
            // Percent-encoded, as the query carried it.
            let encoded =
                percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            assert_not_logged(answer, &encoded);
        }
    }
    for secret in &secrets {
        assert!(!state.contains(secret), "state holds {secret:?}");
    }
}

#[test]
fn query_credentials_of_every_format_update() {
    let s = setup("cred-query", "query_credentials = yes\n");
    let mut answers = Vec::new();
    let users = [
        ("bcrypt-user", BCRYPT_PASSWORD),
        ("apr1-user", APR1_PASSWORD),
        ("sha-user", SHA_PASSWORD),
        ("argon-user", ARGON_PASSWORD),
    ];
    for (n, (user, password)) in users.iter().enumerate() {
        let addr = format!("84.17.5.{}", 10 + n);
        let q = query(user, password).replace("84.17.5.1", &addr);
        let answer = run(&s.cfg, &get(&q).user(None));
        assert_answer(&answer, "200 OK", &format!("good {addr}\n"));
        // The summary names the principal; the password is redacted from the query.
        assert_logged(&answer, &format!("user={user} "));
        assert_logged(&answer, "password=***");
        answers.push(answer);
    }
    // user/pass spelling too.
    let q =
        format!("user=sha-user&pass={SHA_PASSWORD}&hostname=home.example.co.uk&myip=84.17.5.13");
    let answer = run(&s.cfg, &get(&q).user(None));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.13\n");
    answers.push(answer);
    let refs: Vec<&Answer> = answers.iter().collect();
    assert_nothing_shown(&s, &refs);
}

#[test]
fn wrong_unknown_plain_and_missing_credentials_look_alike() {
    let s = setup(
        "cred-wrong",
        "query_credentials = yes\nauthorization_header = yes\n",
    );
    let cases = [
        query("bcrypt-user", APR1_PASSWORD),
        query("apr1-user", "apr1-pass:W"),
        query("sha-user", ""),
        query("argon-user", BCRYPT_PASSWORD),
        query("nobody", BCRYPT_PASSWORD),
    ];
    let mut answers = Vec::new();
    for (n, q) in cases.iter().enumerate() {
        let answer = run(&s.cfg, &get(q).user(None).from(&format!("84.17.6.{n}")));
        assert_badauth(&answer);
        assert_logged(
            &answer,
            "the user and password of the query did not match (unknown user, or wrong password or secret); answering 401",
        );
        // A user name with a wrong password is not shown as the request's user.
        assert_logged(&answer, " user=- ");
        answers.push(answer);
    }
    // A plain-text htpasswd line never matches, and the admin is told why.
    let answer = run(&s.cfg, &get(&query("plain-user", "plain-pa55")).user(None));
    assert_badauth(&answer);
    assert_logged(
        &answer,
        "plain-text or crypt(3) entry, which ddns-cgi never accepts",
    );
    answers.push(answer);
    // No credentials at all: the challenge uclient-fetch waits for.
    let answer = run(&s.cfg, &get(UPDATE).user(None));
    assert_badauth(&answer);
    answers.push(answer);
    // A header that is not Basic base64.
    let answer = run(
        &s.cfg,
        &get(UPDATE)
            .user(None)
            .env("HTTP_AUTHORIZATION", "Basic ***"),
    );
    assert_badauth(&answer);
    assert_logged(&answer, "not Basic base64(user:password)");
    answers.push(answer);
    assert!(s.gw.requests().is_empty(), "nothing reached the registrar");
    let refs: Vec<&Answer> = answers.iter().collect();
    assert_nothing_shown(&s, &refs);
}

#[test]
fn an_authorization_header_after_the_challenge() {
    let s = setup("cred-header", "authorization_header = yes\n");
    // uclient-fetch: first without credentials, then with them after the 401.
    let first = run(&s.cfg, &get(UPDATE).user(None));
    assert_badauth(&first);
    let second = run(
        &s.cfg,
        &get(UPDATE)
            .user(None)
            .env("HTTP_AUTHORIZATION", &header("apr1-user", APR1_PASSWORD)),
    );
    assert_answer(&second, "200 OK", "good 84.17.5.1\n");
    let wrong = run(
        &s.cfg,
        &get(UPDATE)
            .user(None)
            .env("HTTP_AUTHORIZATION", &header("apr1-user", "x")),
    );
    assert_badauth(&wrong);
    assert_logged(
        &wrong,
        "the user and password of the Authorization header did not match",
    );
    // With the switch off, query credentials are not read.
    let ignored = run(&s.cfg, &get(&query("apr1-user", APR1_PASSWORD)).user(None));
    assert_badauth(&ignored);
    assert_logged(&ignored, "no credentials");
    assert_nothing_shown(&s, &[&first, &second, &wrong, &ignored]);
}

#[test]
fn switches_off_read_nothing_but_remote_user() {
    let s = setup("cred-off", "");
    let answer = run(
        &s.cfg,
        &get(&query("apr1-user", APR1_PASSWORD))
            .user(None)
            .env("HTTP_AUTHORIZATION", &header("apr1-user", APR1_PASSWORD)),
    );
    assert_badauth(&answer);
    assert!(s.gw.requests().is_empty());
}

#[test]
fn remote_user_wins_and_other_users_are_refused() {
    let s = setup(
        "cred-precedence",
        "query_credentials = yes\nauthorization_header = yes\n",
    );
    // The web server checked alice; a wrong query password for alice changes nothing.
    let answer = run(
        &s.cfg,
        &get(&query("alice", "not-checked")).user(Some("alice")),
    );
    assert_answer(&answer, "200 OK", "good 84.17.5.1\n");
    assert_logged(&answer, "user=alice ");
    // Credentials of somebody else beside REMOTE_USER: refused, even if they are right.
    let answer = run(
        &s.cfg,
        &get(&query("sha-user", SHA_PASSWORD)).user(Some("alice")),
    );
    assert_badauth(&answer);
    assert_logged(&answer, "credentials of different users");
    let answer = run(
        &s.cfg,
        &get(&query("sha-user", SHA_PASSWORD))
            .user(None)
            .env("HTTP_AUTHORIZATION", &header("apr1-user", APR1_PASSWORD)),
    );
    assert_badauth(&answer);
    assert_logged(&answer, "credentials of different users");
    assert_eq!(
        s.gw.requests()
            .iter()
            .filter(|r| r.task_code.starts_with("0202"))
            .count(),
        1
    );
}

#[test]
fn failures_are_limited_per_source_address() {
    let s = setup("cred-limit", "query_credentials = yes\n");
    let from = "2a01:4f8:1:2::10";
    for _ in 0..4 {
        let answer = run(
            &s.cfg,
            &get(&query("bcrypt-user", "guess")).user(None).from(from),
        );
        assert_badauth(&answer);
    }
    // Over the limit: the right password is not even checked, and one line says so.
    let right = get(&query("bcrypt-user", BCRYPT_PASSWORD)).user(None);
    let answer = run(&s.cfg, &right.clone().from("2a01:4f8:1:2::99"));
    assert_badauth(&answer);
    let lines: Vec<&str> = answer
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", answer.stderr);
    assert!(lines[0].contains("4 failed credential checks from this address within 600 s (auth_fail_limit); refusing without checking; answering 401"), "{}", lines[0]);
    // Another address is not limited; REMOTE_USER is not limited either.
    let answer = run(&s.cfg, &right.clone().from("84.17.5.1"));
    assert_answer(&answer, "200 OK", "good 84.17.5.1\n");
    let answer = run(&s.cfg, &get(UPDATE).from(from));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.1\n");
    let counted = std::fs::read_to_string(s.dir.path().join("state/auth/v6-2a01-4f8-1-2")).unwrap();
    assert_eq!(counted.lines().count(), 5, "{counted}");
    assert_nothing_shown(&s, &[&answer]);
}

#[test]
fn parallel_guesses_are_all_counted_before_any_check() {
    let s = setup("cred-parallel", "query_credentials = yes\n");
    let from = "84.17.5.40";
    // An argon2id check takes tens of milliseconds: time enough for the others to pass a
    // count that is read before the check and written after it.
    let wrong = get(&query("argon-user", "guess")).user(None).from(from);
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..40)
            .map(|_| scope.spawn(|| run(&s.cfg, &wrong)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let with = |text: &str| answers.iter().filter(|a| a.stderr.contains(text)).count();
    for answer in &answers {
        assert_badauth(answer);
    }
    // auth_fail_limit = 4: four checks, whatever the timing, and the rest refused unchecked.
    assert_eq!(with("did not match"), 4);
    assert_eq!(with("refusing without checking"), 36);
    let counted = std::fs::read_to_string(s.dir.path().join("state/auth/v4-84.17.5.40")).unwrap();
    assert_eq!(counted.lines().count(), 5, "{counted}");
    assert_nothing_shown(&s, &answers.iter().collect::<Vec<_>>());
}

#[test]
fn an_unusable_state_dir_answers_911_for_right_and_wrong_passwords() {
    use std::os::unix::fs::PermissionsExt;
    let s = setup("cred-open-state", "query_credentials = yes\n");
    let state = s.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    for password in [BCRYPT_PASSWORD, "guess"] {
        let answer = run(
            &s.cfg,
            &get(&query("bcrypt-user", password))
                .user(None)
                .from("84.17.5.41"),
        );
        assert_answer(&answer, "200 OK", "911\n");
        assert_logged(&answer, "is writable by every local user");
        assert_not_logged(&answer, "did not match");
    }
    assert!(!state.join("auth").exists());
}

#[test]
fn check_config_warns_about_plain_secrets_and_lines() {
    let s = setup("cred-check", "query_credentials = yes\n");
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&s.cfg)
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("[user:carol] credentials\n  secret = *** (plain text)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[user:argon-user] credentials\n  password_hash = *** (argon2id hash)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[dialect:noip]\n  query_credentials = yes\n  authorization_header = no\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[user:carol] secret is plain text")
            && stderr.contains("run `ddns-cgi hash-secret`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: the entry of user plain-user is plain text or crypt(3)"),
        "{stderr}"
    );
    for secret in [SECRET, "plain-pa55", s.argon_hash.as_str()] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret}"
        );
    }
    let strict = Command::new(binary())
        .args(["check-config", "--strict", "--config"])
        .arg(&s.cfg)
        .env_clear()
        .output()
        .unwrap();
    assert!(!strict.status.success());
}
