//! No lost updates, bounded waits, faults answered cleanly, and no secret anywhere.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundFault, SchlundUser};

use crate::schlund::{PASSWORD, TOTP, USER, config_text, fake};
use crate::util::{TempDir, assert_answer, binary, get, run};

const HOSTS: usize = 100;

/// The fixture zone plus `h0` … `h99`, each with an A record.
fn crowded_zone() -> String {
    let extra: String = (0..HOSTS)
        .map(|i| format!("<rr><name>h{i}</name><ttl>300</ttl><type>A</type><value>198.51.100.{}</value></rr>", i % 250))
        .collect();
    FIXTURE_ZONE.replacen("<free>", &format!("{extra}<free>"), 1)
}

/// Starts every process at once, then waits for all: the real shape of a burst of routers.
fn run_concurrently(config: &std::path::Path, queries: Vec<String>) -> Vec<String> {
    let children: Vec<_> = queries
        .iter()
        .map(|query| {
            Command::new(binary())
                .env_clear()
                .env("GATEWAY_INTERFACE", "CGI/1.1")
                .env("REQUEST_METHOD", "GET")
                .env("QUERY_STRING", query)
                .env("REMOTE_ADDR", "84.17.5.1")
                .env("REMOTE_USER", "alice")
                .env("DDNS_CONFIG", config)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start ddns-cgi")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            if !body.starts_with("good") {
                eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            }
            body
        })
        .collect()
}

#[test]
fn concurrent_updates_of_one_schlund_zone_are_all_kept() {
    let dir = TempDir::new("crowd-schlund");
    let zone = crowded_zone();
    let gw = FakeSchlund::start(
        vec![SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP)],
        &[zone.as_str()],
    );
    let before = gw.zone("example.co.uk").unwrap();
    gw.set_latency(Duration::from_millis(200));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\nlock_wait = 120\ntimeout = 60").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = *.example.co.uk ",
        ),
    );
    let queries = (0..HOSTS)
        .map(|i| format!("hostname=h{i}.example.co.uk&myip=84.17.6.{i}"))
        .collect();
    let bodies = run_concurrently(&cfg, queries);
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("good 84.17.6.{i}\n"), "process {i}");
    }
    let after = gw.zone("example.co.uk").unwrap();
    for i in 0..HOSTS {
        assert_eq!(
            after.rr(&format!("h{i}"), "A")[0].value,
            format!("84.17.6.{i}"),
            "h{i} lost"
        );
    }
    let untouched = |z: &fake_registrars::schlund::StoredZone| {
        z.all_rr()
            .into_iter()
            .filter(|r| !r.name.starts_with('h') || r.name == "home")
            .collect::<Vec<_>>()
    };
    assert_eq!(untouched(&after), untouched(&before));
    assert_eq!(after.main(), before.main());
    assert_eq!(after.free(), before.free());
    assert_eq!(gw.requests().len(), 2 * HOSTS);
}

#[test]
fn concurrent_updates_of_one_gandi_zone_are_all_kept() {
    let dir = TempDir::new("crowd-gandi");
    let (name, mut rrsets) = fixture_zone();
    rrsets.extend((0..HOSTS).map(|i| Rrset::new(&format!("h{i}"), "A", 600, &["198.51.100.1"])));
    let before: Vec<Rrset> = rrsets
        .iter()
        .filter(|r| !r.name.starts_with('h') || r.name == "home")
        .cloned()
        .collect();
    let gandi = FakeGandi::start(&[crate::gandi::TOKEN], vec![(name, rrsets)]);
    gandi.set_latency(Duration::from_millis(200));
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = *.example.com\nlock_wait = 120\ntimeout = 60\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n",
            crate::gandi::TOKEN,
            gandi.base_url()
        ),
    );
    let queries = (0..HOSTS)
        .map(|i| format!("hostname=h{i}.example.com&myip=84.17.7.{i}"))
        .collect();
    let bodies = run_concurrently(&cfg, queries);
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("good 84.17.7.{i}\n"), "process {i}");
    }
    for i in 0..HOSTS {
        assert_eq!(
            gandi.rrset("example.com", &format!("h{i}"), "A"),
            Some(Rrset::new(
                &format!("h{i}"),
                "A",
                600,
                &[&format!("84.17.7.{i}")]
            )),
        );
    }
    let after: Vec<Rrset> = gandi
        .rrsets("example.com")
        .into_iter()
        .filter(|r| !r.name.starts_with('h') || r.name == "home")
        .collect();
    let mut expected = before;
    expected.sort_by(|a, b| (&a.name, &a.rr_type).cmp(&(&b.name, &b.rr_type)));
    assert_eq!(after, expected);
    assert_eq!(gandi.writes().len(), HOSTS);
}

#[test]
fn a_busy_zone_lock_answers_911_and_changes_nothing() {
    let dir = TempDir::new("lock-busy");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\nlock_wait = 1"),
    );
    let locks = dir.path().join("state/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held = std::fs::File::create(locks.join("schlund-example.co.uk.lock")).unwrap();
    held.lock().unwrap();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.20"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("still held by another request after 1 s; nothing was changed"),
        "{}",
        answer.stderr
    );
    assert!(gw.requests().is_empty());
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    drop(held);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.20"));
    assert_answer(&answer, "200 OK", "good 84.17.5.20\n");
}

#[test]
fn an_unwritable_state_dir_answers_911_and_says_so() {
    let dir = TempDir::new("state-ro");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    // A regular file where the state directory should be: no one can create it, root included.
    dir.write("not-a-dir", "");
    let text = config_text(
        &gw,
        &format!(
            "zones = example.co.uk\nstate_dir = {}/not-a-dir/state",
            dir.path().display()
        ),
    );
    let cfg = dir.write("ddns.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.21"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("the state_dir must exist and be writable by the web server's user"),
        "{}",
        answer.stderr
    );
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert!(gw.requests().is_empty());

    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("state_dir: cannot write"));
}

#[test]
fn a_silent_registrar_costs_at_most_the_timeout() {
    let dir = TempDir::new("hang");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    gw.set_fault(SchlundFault::Hang(Duration::from_secs(8)));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\ntimeout = 1"),
    );
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.22"));
    let took = started.elapsed();
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("did not answer within the configured timeout"),
        "{}",
        answer.stderr
    );
    assert!(
        took < Duration::from_secs(6),
        "the request hung for {took:?}"
    );
    gw.set_fault(SchlundFault::None);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
}

#[test]
fn a_refused_connection_is_911_with_the_fix() {
    let dir = TempDir::new("refused");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let text = format!(
        "[default]\nusername = {USER}\npassword = x\nurl = http://127.0.0.1:{port}/\nzones = example.co.uk\nallowed_hostnames = home.example.co.uk\n"
    );
    let cfg = dir.write_config("ddns.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.23"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer.stderr.contains("cannot reach the registrar"),
        "{}",
        answer.stderr
    );
    assert!(
        answer.stderr.contains("check the url key"),
        "{}",
        answer.stderr
    );
}

#[test]
fn too_many_changes_are_abuse_without_a_registrar_call() {
    let dir = TempDir::new("abuse");
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(
            &gw,
            "zones = example.co.uk\nabuse_limit = 2\ncache_seconds = 0",
        ),
    );
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.30")),
        "200 OK",
        "good 84.17.5.30\n",
    );
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.31")),
        "200 OK",
        "good 84.17.5.31\n",
    );
    gw.clear_requests();
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk,a.b.example.co.uk&myip=84.17.5.32"),
    );
    assert_answer(&answer, "200 OK", "abuse\ngood 84.17.5.32\n");
    assert!(
        answer
            .stderr
            .contains("home.example.co.uk changed 2 times within 3600 s"),
        "{}",
        answer.stderr
    );
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.31"
    );
    // Repeating the current address is never abuse.
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.31"));
    assert_answer(&answer, "200 OK", "nochg 84.17.5.31\n");
}

#[test]
fn stale_or_broken_state_means_asking_the_registrar() {
    let dir = TempDir::new("stale");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.40")),
        "200 OK",
        "good 84.17.5.40\n",
    );
    let state_file = dir.path().join("state/hosts/home.example.co.uk");
    let text = std::fs::read_to_string(&state_file).unwrap();
    assert!(
        text.starts_with("ddns-cgi-state 2\nA 84.17.5.40 "),
        "{text}"
    );
    assert!(text.contains(" alice\n"), "{text}");

    // Older than cache_seconds: the registrar is asked again.
    let old: String = text
        .lines()
        .map(|l| match l.split(' ').collect::<Vec<_>>().as_slice() {
            ["A", addr, _, ttl, by] => format!("A {addr} 1000 {ttl} {by}\n"),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&state_file, old).unwrap();
    gw.clear_requests();
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.40")),
        "200 OK",
        "nochg 84.17.5.40\n",
    );
    assert_eq!(gw.requests().len(), 1);

    // Garbage: the registrar is asked, and the state is written anew.
    std::fs::write(&state_file, "\0\0garbage").unwrap();
    gw.clear_requests();
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.40")),
        "200 OK",
        "nochg 84.17.5.40\n",
    );
    assert_eq!(gw.requests().len(), 1);
    assert!(
        std::fs::read_to_string(&state_file)
            .unwrap()
            .starts_with("ddns-cgi-state 2\n")
    );
}

#[test]
fn a_config_path_that_is_a_directory_is_911() {
    let dir = TempDir::new("config-dir");
    let answer = run(
        dir.path(),
        &get("hostname=home.example.co.uk&myip=84.17.5.50"),
    );
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer.stderr.contains("cannot be read"),
        "{}",
        answer.stderr
    );
}

/// Runs many scenarios at the most verbose level and looks for every secret in everything
/// ddns-cgi wrote: answers, log lines and state files.
#[test]
fn no_secret_in_any_answer_log_or_state_file() {
    let dir = TempDir::new("secrets-all");
    let gw = fake();
    let gandi = crate::gandi::fake();
    let text = format!(
        "{}\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n",
        config_text(
            &gw,
            "zones = example.co.uk\nlog_level = debug\ncache_seconds = 0"
        )
        .replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.com rr.example.com "
        ),
        crate::gandi::TOKEN,
        gandi.base_url()
    );
    let cfg = dir.write_config("ddns.ini", &text);
    let mut seen = String::new();
    let mut go = |query: &str| {
        let answer = run(&cfg, &get(query));
        seen.push_str(&answer.raw);
        seen.push_str(&answer.stderr);
    };
    go("hostname=home.example.co.uk,home.example.com&myip=84.17.5.60,2a01:4f8::60");
    go("hostname=home.example.co.uk,home.example.com&myip=84.17.5.60,2a01:4f8::60");
    go("hostname=rr.example.com,nothere.example.co.uk&myip=84.17.5.61");
    for fault in [
        SchlundFault::Http500Html,
        SchlundFault::UpdateFailsE0202002,
        SchlundFault::NotXml,
    ] {
        gw.set_fault(fault);
        go("hostname=home.example.co.uk&myip=84.17.5.62");
    }
    gw.set_fault(SchlundFault::None);
    gw.set_clock_offset(3600);
    go("hostname=home.example.co.uk&myip=84.17.5.63");
    gandi.set_fault(fake_registrars::gandi::GandiFault::FailWrites(403));
    go("hostname=home.example.com&myip=84.17.5.64");
    let out = Command::new(binary())
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env_clear()
        .output()
        .unwrap();
    seen.push_str(&String::from_utf8_lossy(&out.stdout));
    seen.push_str(&String::from_utf8_lossy(&out.stderr));
    for entry in walk(&dir.path().join("state")) {
        seen.push_str(&std::fs::read_to_string(entry).unwrap_or_default());
    }
    assert!(
        seen.contains("schlund: zone update for example.co.uk: S0202"),
        "{seen}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut secrets = vec![
        PASSWORD.to_string(),
        "s3cret".into(),
        TOTP.into(),
        crate::gandi::TOKEN.into(),
    ];
    secrets.extend((0..8).map(|i| fake_registrars::schlund::totp_code(TOTP, now - 60 + i * 30)));
    for secret in secrets {
        assert!(!seen.contains(&secret), "{secret} leaked:\n{seen}");
    }
    let _ = FIXTURE_ZONE;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}
