//! What other local users can do to the state directory: read nothing and lock nothing
//! (modes are set whatever the umask), redirect nothing (no link is followed), stall
//! nothing (no FIFO is waited for), and reset no abuse limit (no user name adds a line; a
//! damaged file counts against the limit). Plus what `check-config` says about files others
//! may open.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use fake_registrars::schlund::FakeSchlund;

use crate::schlund::{config_text, fake};
use crate::util::{Answer, TempDir, assert_answer, assert_logged, binary, parse_output};
use crate::webserver::{run_bounded, sh, tool};

const HOST: &str = "home.example.co.uk";
const LOCK: &str = "schlund-example.co.uk.lock";
/// A guard against a hanging request, far above what any request here takes.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// The CGI environment of a GET by `user`, run through `sh` so that `prelude` (a umask)
/// applies to ddns-cgi; `exec` keeps the shell's process id for ddns-cgi.
fn cgi(config: &Path, user: &str, query: &str, prelude: &str) -> Command {
    let mut cmd = Command::new(tool("sh"));
    cmd.args(["-c", &format!("{prelude} exec \"$0\""), binary()])
        .env_clear()
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", "GET")
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "84.17.5.1")
        .env("REMOTE_USER", user)
        .env("AUTH_TYPE", "Basic")
        .env("DDNS_CONFIG", config);
    cmd
}

fn answer(out: Output) -> Answer {
    parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One update of [`HOST`] to `addr` by `user`, with umask 000: any mode that is not
/// 0777/0666 was set by ddns-cgi itself.
fn update_as(config: &Path, user: &str, addr: &str) -> Answer {
    let query = format!("hostname={HOST}&myip={addr}");
    answer(run_bounded(
        cgi(config, user, &query, "umask 000;"),
        HANG_GUARD,
    ))
}

fn update(config: &Path, addr: &str) -> Answer {
    update_as(config, "alice", addr)
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn gid(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().gid()
}

fn www_data_gid() -> u32 {
    let groups = fs::read_to_string("/etc/group").unwrap();
    groups
        .lines()
        .find_map(|l| l.strip_prefix("www-data:x:"))
        .and_then(|rest| rest.split(':').next())
        .and_then(|gid| gid.parse().ok())
        .expect("a www-data group")
}

/// A fake SchlundTech account, a config for it and the paths of the state directory.
struct Setup {
    dir: TempDir,
    gw: FakeSchlund,
    config: PathBuf,
}

impl Setup {
    fn new(tag: &str, extra: &str) -> Setup {
        let dir = TempDir::new(tag);
        let gw = fake();
        let config = dir.write_config(
            "ddns.ini",
            &config_text(&gw, &format!("zones = example.co.uk\n{extra}")),
        );
        Setup { dir, gw, config }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn host_file(&self) -> PathBuf {
        self.state().join("hosts").join(HOST)
    }

    fn lock_file(&self) -> PathBuf {
        self.state().join("locks").join(LOCK)
    }

    fn stored(&self) -> String {
        self.gw.zone("example.co.uk").unwrap().rr("home", "A")[0]
            .value
            .clone()
    }
}

#[test]
fn what_ddns_cgi_creates_is_its_own_whatever_the_umask() {
    let s = Setup::new("modes", "");
    assert_answer(
        &update(&s.config, "84.17.5.60"),
        "200 OK",
        "good 84.17.5.60\n",
    );
    for (path, want) in [
        (s.state(), 0o700),
        (s.state().join("hosts"), 0o700),
        (s.host_file(), 0o600),
        (s.state().join("locks"), 0o700),
        (s.lock_file(), 0o600),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }
    // A second save replaces the file by a new one of the same mode.
    assert_answer(
        &update(&s.config, "84.17.5.61"),
        "200 OK",
        "good 84.17.5.61\n",
    );
    assert_eq!(mode(&s.host_file()), 0o600);
    let names: Vec<_> = fs::read_dir(s.state().join("hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [HOST], "no temporary file is left");
}

#[test]
fn files_of_older_versions_are_closed_to_others() {
    let s = Setup::new("modes-old", "");
    // As an older version, or an admin's umask 022, left them; the admin chose 0750.
    let locks = s.state().join("locks");
    fs::create_dir_all(&locks).unwrap();
    fs::create_dir_all(s.state().join("hosts")).unwrap();
    fs::write(s.lock_file(), "").unwrap();
    fs::set_permissions(s.state(), fs::Permissions::from_mode(0o750)).unwrap();
    for (path, old) in [(&locks, 0o755), (&s.state().join("hosts"), 0o755)] {
        fs::set_permissions(path, fs::Permissions::from_mode(old)).unwrap();
    }
    fs::set_permissions(s.lock_file(), fs::Permissions::from_mode(0o644)).unwrap();
    assert_answer(
        &update(&s.config, "84.17.5.62"),
        "200 OK",
        "good 84.17.5.62\n",
    );
    assert_eq!(mode(&s.state()), 0o750, "the admin's choice stays");
    assert_eq!(mode(&locks), 0o750);
    assert_eq!(mode(&s.state().join("hosts")), 0o750);
    assert_eq!(mode(&s.lock_file()), 0o640);
    assert_eq!(mode(&s.host_file()), 0o600);
}

#[test]
fn a_group_writable_state_dir_is_shared_with_its_group() {
    let group = www_data_gid();
    // 2770 as docs/install.md has it for a shared directory, and 0770 without setgid: the
    // group is given to what is created either way.
    for dir_mode in [0o2770, 0o770] {
        let s = Setup::new("modes-group", "");
        fs::create_dir(s.state()).unwrap();
        std::os::unix::fs::chown(s.state(), None, Some(group)).unwrap();
        fs::set_permissions(s.state(), fs::Permissions::from_mode(dir_mode)).unwrap();
        assert_answer(
            &update(&s.config, "84.17.5.63"),
            "200 OK",
            "good 84.17.5.63\n",
        );
        for (path, want) in [
            (s.state().join("hosts"), 0o2770),
            (s.host_file(), 0o660),
            (s.state().join("locks"), 0o2770),
            (s.lock_file(), 0o660),
        ] {
            let shown = format!("{} in a {dir_mode:o} state_dir", path.display());
            assert_eq!(mode(&path), want, "{shown}");
            assert_eq!(gid(&path), group, "{shown}");
        }
        assert_eq!(
            mode(&s.state()),
            dir_mode,
            "the admin's directory is left alone"
        );
    }
}

#[test]
fn a_planted_lock_link_is_refused_and_its_target_left_alone() {
    let s = Setup::new("lock-link", "");
    let before = s.gw.zone("example.co.uk").unwrap().to_xml();
    let outside = s.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let victim = outside.join("victim");
    fs::write(&victim, "root's file\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir_all(s.state().join("locks")).unwrap();
    // One link to an existing file, one to a file that does not exist yet.
    for target in [victim.clone(), outside.join("new")] {
        let _ = fs::remove_file(s.lock_file());
        symlink(&target, s.lock_file()).unwrap();
        let answer = update(&s.config, "84.17.5.64");
        assert_answer(&answer, "200 OK", "911\n");
        let line = format!(
            "ddns-cgi: error: schlund: {} is a symbolic link, which ddns-cgi does not use in the state_dir (one planted there could make it write elsewhere or hang); remove it; answering 911\n",
            s.lock_file().display()
        );
        assert_logged(&answer, &line);
        assert!(s.gw.requests().is_empty());
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "root's file\n");
    assert_eq!(mode(&victim), 0o644);
    assert!(!outside.join("new").exists());
    assert_eq!(s.gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert!(!s.host_file().exists());

    // A link in place of the whole locks directory is refused the same way.
    fs::remove_dir_all(s.state().join("locks")).unwrap();
    symlink(&outside, s.state().join("locks")).unwrap();
    let answer = update(&s.config, "84.17.5.64");
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        &format!(
            "schlund: {} is a symbolic link, which ddns-cgi does not use",
            s.state().join("locks").display()
        ),
    );
    assert!(!outside.join(LOCK).exists());

    // Once the admin removes it, updates work again.
    fs::remove_file(s.state().join("locks")).unwrap();
    assert_answer(
        &update(&s.config, "84.17.5.64"),
        "200 OK",
        "good 84.17.5.64\n",
    );
}

/// A state file that would answer `nochg` from the cache, if it were read.
fn fresh_state(addr: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("ddns-cgi-state 3\nA {addr} {now} - alice\n")
}

#[track_caller]
fn assert_damaged(answer: &Answer, path: &Path, problem: &str) {
    assert_answer(answer, "200 OK", "abuse\n");
    let line = format!(
        "ddns-cgi: error: state {} {problem}; {HOST} counts as over its abuse_limit until the admin removes {}; answering abuse\n",
        path.display(),
        path.display()
    );
    assert_logged(answer, &line);
}

#[test]
fn a_planted_state_link_is_not_followed() {
    let s = Setup::new("state-link", "");
    let outside = s.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let target = outside.join("state");
    let original = fresh_state("84.17.5.65");
    fs::write(&target, &original).unwrap();
    fs::create_dir_all(s.state().join("hosts")).unwrap();
    symlink(&target, s.host_file()).unwrap();
    // Followed, the link would answer nochg from the cache; it counts as damaged state.
    let answer = update(&s.config, "84.17.5.65");
    assert_damaged(&answer, &s.host_file(), "is a symbolic link");
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.stored(), "198.51.100.7");

    // Without an abuse limit, it is only replaced: the registrar is asked, and the link
    // (not its target) gives way to a state file.
    let s2 = Setup::new("state-link-nolimit", "abuse_limit = 0");
    fs::create_dir_all(s2.state().join("hosts")).unwrap();
    symlink(&target, s2.host_file()).unwrap();
    let answer = update(&s2.config, "84.17.5.65");
    assert_answer(&answer, "200 OK", "good 84.17.5.65\n");
    assert_logged(
        &answer,
        &format!(
            "ddns-cgi: warning: state {} is a symbolic link; read as no state (abuse_limit = 0), and replaced once the update succeeds\n",
            s2.host_file().display()
        ),
    );
    assert_eq!(s2.stored(), "84.17.5.65");
    assert!(fs::symlink_metadata(s2.host_file()).unwrap().is_file());
    let written = fs::read_to_string(s2.host_file()).unwrap();
    assert!(
        written.starts_with("ddns-cgi-state 3\nA 84.17.5.65 "),
        "{written}"
    );
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        original,
        "the target is unchanged"
    );

    // A link in place of the hosts directory: damaged state too, never followed.
    let s3 = Setup::new("hosts-link", "");
    fs::create_dir_all(s3.state()).unwrap();
    fs::write(outside.join(HOST), fresh_state("84.17.5.65")).unwrap();
    symlink(&outside, s3.state().join("hosts")).unwrap();
    let answer = update(&s3.config, "84.17.5.65");
    assert_damaged(&answer, &s3.state().join("hosts"), "is a symbolic link");
    assert!(s3.gw.requests().is_empty());
}

#[test]
fn a_planted_fifo_is_answered_at_once() {
    for (limit, want) in [("", "abuse\n"), ("abuse_limit = 0", "good 84.17.5.66\n")] {
        let s = Setup::new("state-fifo", limit);
        fs::create_dir_all(s.state().join("hosts")).unwrap();
        sh("mkfifo", &[s.host_file().to_str().unwrap()]);
        // update() fails the test if the request takes longer than HANG_GUARD.
        let answer = update(&s.config, "84.17.5.66");
        assert_answer(&answer, "200 OK", want);
        let problem = "is a FIFO, not a regular file";
        if limit.is_empty() {
            assert_damaged(&answer, &s.host_file(), problem);
            assert!(s.gw.requests().is_empty());
            assert!(
                fs::symlink_metadata(s.host_file())
                    .unwrap()
                    .file_type()
                    .is_fifo()
            );
        } else {
            assert_logged(&answer, problem);
            assert_eq!(s.stored(), "84.17.5.66");
            assert!(fs::symlink_metadata(s.host_file()).unwrap().is_file());
        }
    }
}

/// Runs one update whose process id is known before ddns-cgi starts: the shell waits for
/// a line on stdin, then execs ddns-cgi under its own id. `plant` gets that id.
fn update_with_known_pid(config: &Path, addr: &str, plant: impl FnOnce(u32)) -> Answer {
    let query = format!("hostname={HOST}&myip={addr}");
    let mut child = cgi(config, "alice", &query, "read go; umask 000;")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    plant(child.id());
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
    }
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("ddns-cgi did not finish within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    answer(child.wait_with_output().unwrap())
}

#[test]
fn temporary_names_cannot_be_guessed_or_planted() {
    let s = Setup::new("temp-name", "cache_seconds = 0");
    let hosts = s.state().join("hosts");
    fs::create_dir_all(&hosts).unwrap();
    let victim = s.dir.path().join("victim");
    fs::write(&victim, "untouched\n").unwrap();
    let mut planted = Vec::new();
    // Two saves, each with a link planted at the name a process-id scheme would use.
    for addr in ["84.17.5.67", "84.17.5.68"] {
        let answer = update_with_known_pid(&s.config, addr, |pid| {
            let link = hosts.join(format!(".saving.{pid}.tmp"));
            symlink(&victim, &link).unwrap();
            planted.push(link);
        });
        assert_answer(&answer, "200 OK", &format!("good {addr}\n"));
        assert!(fs::symlink_metadata(s.host_file()).unwrap().is_file());
        let text = fs::read_to_string(s.host_file()).unwrap();
        assert!(
            text.starts_with(&format!("ddns-cgi-state 3\nA {addr} ")),
            "{text}"
        );
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched\n");
    for link in &planted {
        assert!(fs::symlink_metadata(link).unwrap().file_type().is_symlink());
    }
    let mut left: Vec<_> = fs::read_dir(&hosts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    let mut want = planted.clone();
    want.push(s.host_file());
    want.sort();
    assert_eq!(left, want, "only the planted links and the state file");
}

#[test]
fn line_breaks_in_the_user_name_cannot_reset_the_abuse_limit() {
    let s = Setup::new("user-lines", "abuse_limit = 2\ncache_seconds = 0");
    // A login with a line break never gets as far as the state: it is refused outright.
    let refused = update_as(&s.config, "eve\r\nchanges\n x", "84.17.5.70");
    assert_eq!(refused.status, "401 Unauthorized", "{}", refused.stderr);
    assert!(!s.host_file().exists());
    // What a login may hold is still encoded, so no field or line can be added.
    let user = "eve x%";
    assert_answer(
        &update_as(&s.config, user, "84.17.5.70"),
        "200 OK",
        "good 84.17.5.70\n",
    );
    assert_answer(
        &update_as(&s.config, user, "84.17.5.71"),
        "200 OK",
        "good 84.17.5.71\n",
    );
    let text = fs::read_to_string(s.host_file()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text:?}");
    assert!(
        lines[1].starts_with("A 84.17.5.71 ") && lines[1].ends_with(" - eve%20x%25"),
        "{text:?}"
    );
    assert!(lines[2].starts_with("changes "), "{text:?}");
    // The third change within the window is refused, by this user or any other.
    for who in [user, "alice"] {
        let answer = update_as(&s.config, who, "84.17.5.72");
        assert_answer(&answer, "200 OK", "abuse\n");
        assert!(
            answer
                .stderr
                .contains(&format!("{HOST} changed 2 times within 3600 s")),
            "{}",
            answer.stderr
        );
    }
    assert_eq!(s.stored(), "84.17.5.71");
}

#[test]
fn damaged_state_counts_against_the_abuse_limit() {
    let s = Setup::new("state-damaged", "");
    assert_answer(
        &update(&s.config, "84.17.5.73"),
        "200 OK",
        "good 84.17.5.73\n",
    );
    // One line too many, as a user name with a line break wrote into older files.
    let mut text = fs::read_to_string(s.host_file()).unwrap();
    text.push_str("x\n");
    fs::write(s.host_file(), &text).unwrap();
    s.gw.clear_requests();
    let answer = update(&s.config, "84.17.5.74");
    assert_damaged(
        &answer,
        &s.host_file(),
        "is damaged or of an unknown version",
    );
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.stored(), "84.17.5.73");
    assert_eq!(
        fs::read_to_string(s.host_file()).unwrap(),
        text,
        "kept for the admin"
    );
}

#[test]
fn state_files_of_the_previous_layout_are_still_read() {
    let s = Setup::new("state-v2", "");
    fs::create_dir_all(s.state().join("hosts")).unwrap();
    let v2 = fresh_state("84.17.5.75").replace("state 3", "state 2");
    fs::write(s.host_file(), v2.replace(" alice", " al ice")).unwrap();
    let answer = update(&s.config, "84.17.5.75");
    assert_answer(&answer, "200 OK", "nochg 84.17.5.75\n");
    assert!(s.gw.requests().is_empty(), "answered from the state");
}

// ---------------------------------------------------------------------------------------
// check-config
// ---------------------------------------------------------------------------------------

fn check_config(config: &Path, strict: bool) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(["check-config", "--config"])
        .arg(config)
        .env_clear();
    if strict {
        cmd.arg("--strict");
    }
    cmd.output().unwrap()
}

/// A config that deserves no warning once its files are set up as docs/install.md says.
fn quiet_setup(tag: &str) -> Setup {
    let s = Setup::new(tag, "");
    fs::create_dir(s.state()).unwrap();
    // Owned by the web server's user, as docs/install.md has it (not root: that warns).
    sh("chown", &["www-data", s.state().to_str().unwrap()]);
    fs::set_permissions(s.state(), fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(&s.config, fs::Permissions::from_mode(0o640)).unwrap();
    s
}

#[test]
fn check_config_is_quiet_about_files_closed_to_others() {
    let s = quiet_setup("check-quiet");
    for strict in [false, true] {
        let out = check_config(&s.config, strict);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).ends_with("config OK\n"));
    }
}

#[test]
fn check_config_warns_about_a_config_others_may_open() {
    let s = quiet_setup("check-config-mode");
    for (mode, may) in [
        (0o644, "readable by"),
        (0o642, "writable by"),
        (0o666, "readable and writable by"),
        (0o641, "open to"),
    ] {
        fs::set_permissions(&s.config, fs::Permissions::from_mode(mode)).unwrap();
        let warning = format!(
            "ddns-cgi: warning: config {} is {may} other users (mode {mode:04o}): it holds the registrar credentials; run chmod o-rwx {}\n",
            s.config.display(),
            s.config.display()
        );
        let out = check_config(&s.config, false);
        assert_eq!(String::from_utf8_lossy(&out.stderr), warning);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).ends_with("config OK\n"));

        let out = check_config(&s.config, true);
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "{warning}ddns-cgi: --strict: 1 warning(s) above; fix them, or run without --strict\n"
            )
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(!String::from_utf8_lossy(&out.stdout).contains("config OK"));
    }
}

#[test]
fn check_config_warns_about_a_state_dir_others_may_open() {
    let s = quiet_setup("check-state-mode");
    fs::set_permissions(s.state(), fs::Permissions::from_mode(0o755)).unwrap();
    let warning = format!(
        "ddns-cgi: warning: state_dir {} is readable by other users (mode 0755): it holds each host's address and user, and the zone locks; run chmod o-rwx {}\n",
        s.state().display(),
        s.state().display()
    );
    let out = check_config(&s.config, false);
    assert_eq!(String::from_utf8_lossy(&out.stderr), warning);
    assert_eq!(out.status.code(), Some(0));
    let out = check_config(&s.config, true);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&warning));
}

#[test]
fn strict_check_config_fails_on_every_kind_of_warning() {
    // A root-owned state directory, and no allowed_hostnames: the warnings check-config
    // gave before --strict existed count too.
    let s = quiet_setup("check-strict");
    sh("chown", &["root", s.state().to_str().unwrap()]);
    let open = s.dir.write_config(
        "open.ini",
        &fs::read_to_string(&s.config)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("allowed_hostnames") && !l.starts_with("state_dir"))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    fs::set_permissions(&open, fs::Permissions::from_mode(0o600)).unwrap();
    let out = check_config(&open, false);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stderr.contains("is owned by root"), "{stderr}");
    assert!(stderr.contains("allowed_hostnames is not set"), "{stderr}");
    let out = check_config(&open, true);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "{stderr}ddns-cgi: --strict: 2 warning(s) above; fix them, or run without --strict\n"
        )
    );
}

/// uid and gid 65534 (`nobody`, `nogroup` on Debian): a local user ddns-cgi is not.
const STRANGER: u32 = 65534;

fn plant_as_stranger(path: &Path) {
    std::os::unix::fs::lchown(path, Some(STRANGER), Some(STRANGER)).unwrap();
}

#[test]
fn a_state_dir_every_local_user_may_write_is_refused() {
    let s = Setup::new("open-to-all", "");
    let before = s.gw.zone("example.co.uk").unwrap().to_xml();
    fs::create_dir_all(s.state()).unwrap();
    fs::set_permissions(s.state(), fs::Permissions::from_mode(0o1777)).unwrap();
    let answer = update(&s.config, "84.17.5.80");
    assert_answer(&answer, "200 OK", "911\n");
    let line = format!(
        "ddns-cgi: error: schlund: {} is writable by every local user, who could plant or replace its files (run chmod o-w on it); nothing was changed; answering 911\n",
        s.state().display()
    );
    assert!(answer.stderr.contains(&line), "{}", answer.stderr);
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert!(!s.state().join("hosts").exists() && !s.state().join("locks").exists());
}

#[test]
fn state_somebody_else_planted_is_never_believed() {
    let s = Setup::new("stranger-state", "");
    assert_answer(
        &update(&s.config, "84.17.5.81"),
        "200 OK",
        "good 84.17.5.81\n",
    );
    // A forged state file claiming the host already holds .82, owned by another user.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    fs::remove_file(s.host_file()).unwrap();
    fs::write(
        s.host_file(),
        format!("ddns-cgi-state 3\nA 84.17.5.82 {now} - alice\n"),
    )
    .unwrap();
    plant_as_stranger(&s.host_file());
    s.gw.clear_requests();
    let answer = update(&s.config, "84.17.5.82");
    assert_answer(&answer, "200 OK", "abuse\n");
    let owned = format!(
        "state {} is owned by uid {STRANGER}, who is neither the state directory's owner, root nor of its group",
        s.host_file().display()
    );
    assert!(answer.stderr.contains(&owned), "{}", answer.stderr);
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.stored(), "84.17.5.81");

    // The same when the whole hosts/ directory is somebody else's: its owner could
    // replace any file in it.
    fs::remove_file(s.host_file()).unwrap();
    plant_as_stranger(&s.state().join("hosts"));
    let answer = update(&s.config, "84.17.5.82");
    assert_answer(&answer, "200 OK", "abuse\n");
    let owned = format!(
        "state {} is owned by uid {STRANGER}",
        s.state().join("hosts").display()
    );
    assert!(answer.stderr.contains(&owned), "{}", answer.stderr);
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.stored(), "84.17.5.81");
}

#[test]
fn a_lock_somebody_else_planted_is_refused() {
    let s = Setup::new("stranger-lock", "");
    let before = s.gw.zone("example.co.uk").unwrap().to_xml();
    fs::create_dir_all(s.state().join("locks")).unwrap();
    fs::write(s.lock_file(), "").unwrap();
    plant_as_stranger(&s.lock_file());
    let answer = update(&s.config, "84.17.5.83");
    assert_answer(&answer, "200 OK", "911\n");
    let line = format!(
        "schlund: {} is owned by uid {STRANGER}, who is neither the state directory's owner, root nor of its group",
        s.lock_file().display()
    );
    assert!(answer.stderr.contains(&line), "{}", answer.stderr);
    assert!(s.gw.requests().is_empty());
    assert_eq!(s.gw.zone("example.co.uk").unwrap().to_xml(), before);

    // A second name for a file elsewhere is not chmodded through; as others may write it,
    // it is refused.
    let outside = s.dir.path().join("elsewhere");
    fs::write(&outside, "").unwrap();
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o666)).unwrap();
    fs::remove_file(s.lock_file()).unwrap();
    fs::hard_link(&outside, s.lock_file()).unwrap();
    let answer = update(&s.config, "84.17.5.83");
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer.stderr.contains(&format!(
            "schlund: {} is writable by every local user",
            s.lock_file().display()
        )),
        "{}",
        answer.stderr
    );
    assert_eq!(mode(&outside), 0o666);
    assert!(s.gw.requests().is_empty());
}
