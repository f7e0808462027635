//! No lost updates, bounded waits, faults answered cleanly, and no secret anywhere.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundFault, SchlundUser};

use crate::schlund::{PASSWORD, TOTP, USER, config_text, fake};
use crate::util::{
    TempDir, assert_answer, assert_logged, binary, get, printed, run, state_text, text_below,
};

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
fn concurrent_changes_of_one_host_all_reach_its_state() {
    let dir = TempDir::new("crowd-one-host");
    let gw = fake();
    gw.set_latency(Duration::from_millis(30));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(
            &gw,
            "zones = example.co.uk\nabuse_limit = 50\nlock_wait = 60",
        ),
    );
    const ROUTERS: usize = 8;
    let queries = (0..ROUTERS)
        .map(|i| format!("hostname=home.example.co.uk&myip=84.17.7.{i}"))
        .collect();
    let bodies = run_concurrently(&cfg, queries);
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("good 84.17.7.{i}\n"), "process {i}");
    }
    // Each change was made under the zone's lock from the state the previous one left, so
    // every change time is there, and the state names the address the registrar holds.
    let state = state_text(dir.path(), "home.example.co.uk").unwrap();
    let changes = state
        .lines()
        .find_map(|l| l.strip_prefix("changes "))
        .map_or(0, |times| times.split(' ').count());
    assert_eq!(changes, ROUTERS, "{state}");
    let stored = gw.zone("example.co.uk").unwrap().rr("home", "A")[0]
        .value
        .clone();
    assert!(
        state.contains(&format!("\nA {stored} ")),
        "{stored}: {state}"
    );
}

#[test]
fn routers_arriving_together_cannot_pass_the_abuse_limit_together() {
    let dir = TempDir::new("crowd-abuse");
    let gw = fake();
    gw.set_latency(Duration::from_millis(30));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(
            &gw,
            "zones = example.co.uk\nabuse_limit = 3\nlock_wait = 60",
        ),
    );
    let queries = (0..8)
        .map(|i| format!("hostname=home.example.co.uk&myip=84.17.8.{i}"))
        .collect();
    let bodies = run_concurrently(&cfg, queries);
    let good: Vec<&String> = bodies.iter().filter(|b| b.starts_with("good ")).collect();
    let abuse = bodies.iter().filter(|b| *b == "abuse\n").count();
    assert_eq!((good.len(), abuse), (3, 5), "{bodies:?}");
    let stored = gw.zone("example.co.uk").unwrap().rr("home", "A")[0]
        .value
        .clone();
    assert!(
        good.iter().any(|b| **b == format!("good {stored}\n")),
        "{stored}: {bodies:?}"
    );
    assert_eq!(gw.requests().len(), 2 * 3);
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
fn lock_wait_bounds_the_whole_request_however_many_zones_it_touches() {
    let dir = TempDir::new("lock-two-zones");
    let second = FIXTURE_ZONE.replace("example.co.uk", "example.net");
    let gw = FakeSchlund::start(
        vec![SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP)],
        &[FIXTURE_ZONE, second.as_str()],
    );
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk example.net\nlock_wait = 2").replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.net ",
        ),
    );
    let locks = dir.path().join("state/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held: Vec<std::fs::File> = ["example.co.uk", "example.net"]
        .iter()
        .map(|zone| {
            let file = std::fs::File::create(locks.join(format!("schlund-{zone}.lock"))).unwrap();
            file.lock().unwrap();
            file
        })
        .collect();
    let started = Instant::now();
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk,home.example.net&myip=84.17.5.23"),
    );
    let took = started.elapsed();
    drop(held);
    assert_answer(&answer, "200 OK", "911\n");
    // Two seconds for both zones together, not two for each.
    assert!(
        took < Duration::from_millis(3500),
        "the request took {took:?}"
    );
    assert!(gw.requests().is_empty());
}

#[test]
fn waiting_for_the_lock_does_not_use_up_the_registrar_timeout() {
    let dir = TempDir::new("lock-wait-budget");
    let gw = fake();
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\nlock_wait = 10\ntimeout = 1"),
    );
    let locks = dir.path().join("state/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let held = std::fs::File::create(locks.join("schlund-example.co.uk.lock")).unwrap();
    held.lock().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        drop(held);
    });
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.22"));
    release.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_answer(&answer, "200 OK", "good 84.17.5.22\n");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.22"
    );
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
    // Far longer than the bound below: a client that ignored `timeout` would fail it.
    gw.set_fault(SchlundFault::Hang(Duration::from_secs(60)));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\ntimeout = 1"),
    );
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.22"));
    let took = started.elapsed();
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        "schlund: the registrar did not answer within the configured timeout; it may be down, or raise `timeout`",
    );
    // Loose on purpose: timing asserts must not be flaky.
    assert!(
        took < Duration::from_secs(1 + 10),
        "the request hung for {took:?}"
    );
    gw.set_fault(SchlundFault::None);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    // The inquiry was still waiting; no update was sent after it.
    assert!(gw.requests().iter().all(|r| r.task_code == "0205"));
    assert_eq!(state_text(dir.path(), "home.example.co.uk"), None);
}

/// The inquiry works, the update never comes back: the request still ends within
/// `timeout` (which spans all calls of the request), answers 911 and keeps no state.
#[test]
fn an_update_stuck_after_a_good_inquiry_costs_at_most_the_timeout() {
    let dir = TempDir::new("hang-update");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    gw.set_fault(SchlundFault::HangUpdates(Duration::from_secs(30)));
    let cfg = dir.write_config(
        "ddns.ini",
        &config_text(&gw, "zones = example.co.uk\ntimeout = 2"),
    );
    let started = Instant::now();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.23"));
    let took = started.elapsed();
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        "schlund: the registrar did not answer within the configured timeout; it may be down, or raise `timeout`",
    );
    assert!(
        took < Duration::from_secs(2 + 10),
        "the request hung for {took:?}"
    );
    let tasks: Vec<String> = gw.requests().iter().map(|r| r.task_code.clone()).collect();
    assert_eq!(tasks, ["0205", "0202"]);
    assert_eq!(gw.requests()[0].status_code, "S0205");
    gw.set_fault(SchlundFault::None);
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert_eq!(state_text(dir.path(), "home.example.co.uk"), None);
}

#[test]
fn a_refused_connection_is_911_with_the_fix() {
    let dir = TempDir::new("refused");
    let gw = fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // The account's config, with a url nothing listens on.
    let text = config_text(&gw, "zones = example.co.uk")
        .replace(&gw.url(), &format!("http://127.0.0.1:{port}/"));
    let cfg = dir.write_config("ddns.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.23"));
    assert_answer(&answer, "200 OK", "911\n");
    assert!(
        answer
            .stderr
            .contains("schlund: cannot reach the registrar ("),
        "{}",
        answer.stderr
    );
    assert!(
        answer
            .stderr
            .contains("check the url key, DNS and outgoing firewall"),
        "{}",
        answer.stderr
    );
    assert!(gw.requests().is_empty());
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert_eq!(state_text(dir.path(), "home.example.co.uk"), None);
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
fn the_state_remembers_no_more_changes_than_the_abuse_limit_needs() {
    let changes_line = |dir: &TempDir| {
        let text = state_text(dir.path(), "home.example.co.uk").unwrap();
        text.lines()
            .find(|l| l.starts_with("changes "))
            .map(|l| l.split(' ').count() - 1)
    };
    for (limit, kept) in [(0, None), (2, Some(2)), (12, Some(5))] {
        let dir = TempDir::new("abuse-history");
        let gw = fake();
        let cfg = dir.write_config(
            "ddns.ini",
            &config_text(
                &gw,
                &format!("zones = example.co.uk\nabuse_limit = {limit}\ncache_seconds = 0"),
            ),
        );
        let mut last = String::new();
        for n in 0..5 {
            last = format!("84.17.5.{}", 50 + n);
            let answer = run(
                &cfg,
                &get(&format!("hostname=home.example.co.uk&myip={last}")),
            );
            let want = if limit == 2 && n >= 2 {
                "abuse\n".to_string()
            } else {
                format!("good {last}\n")
            };
            assert_answer(&answer, "200 OK", &want);
        }
        assert_eq!(changes_line(&dir), kept, "abuse_limit = {limit}");
        let stored = &gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value;
        let want = if limit == 2 {
            "84.17.5.51"
        } else {
            last.as_str()
        };
        assert_eq!(stored, want, "abuse_limit = {limit}");
    }
}

#[test]
fn stale_state_means_asking_the_registrar_and_broken_state_waits_for_the_admin() {
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
        text.starts_with("ddns-cgi-state 3\nA 84.17.5.40 "),
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

    // Garbage: not a reset of the abuse limit, but over it until the admin removes it.
    std::fs::write(&state_file, "\0\0garbage").unwrap();
    gw.clear_requests();
    let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.40"));
    assert_answer(&answer, "200 OK", "abuse\n");
    assert_logged(
        &answer,
        &format!(
            "ddns-cgi: error: state {} is damaged or of an unknown version; home.example.co.uk counts as over its abuse_limit until the admin removes {}; answering abuse\n",
            state_file.display(),
            state_file.display()
        ),
    );
    assert!(gw.requests().is_empty());
    assert_eq!(std::fs::read(&state_file).unwrap(), b"\0\0garbage");
    // Removed: the registrar is asked, and the state is written anew.
    std::fs::remove_file(&state_file).unwrap();
    assert_answer(
        &run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.40")),
        "200 OK",
        "nochg 84.17.5.40\n",
    );
    assert_eq!(gw.requests().len(), 1);
    assert!(
        std::fs::read_to_string(&state_file)
            .unwrap()
            .starts_with("ddns-cgi-state 3\n")
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
        answer
            .stderr
            .contains(&format!("config {}: is a directory", dir.path().display())),
        "{}",
        answer.stderr
    );
    assert!(
        answer.stderr.ends_with("; answering 911\n"),
        "{}",
        answer.stderr
    );
}

/// The missing-file line says to point DDNS_CONFIG at the file; a path that is a
/// directory deserves the same hint.
#[test]
fn a_config_path_that_is_a_directory_names_the_fix() {
    let dir = TempDir::new("config-dir-fix");
    let answer = run(
        dir.path(),
        &get("hostname=home.example.co.uk&myip=84.17.5.51"),
    );
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "DDNS_CONFIG");
}

#[test]
fn concurrent_updates_of_one_bind_zone_are_all_kept() {
    use crate::nameserver::{Flavour, NameServer};
    let dir = TempDir::new("crowd-bind");
    let hosts: String = (0..HOSTS)
        .map(|i| format!("h{i} 600 IN A 198.51.100.1\n"))
        .collect();
    let ns = NameServer::with_zone(Flavour::Bind, crate::rfc2136::POLICY, "hmac-sha256", &hosts);
    let before: Vec<String> = ns
        .zone()
        .into_iter()
        .filter(|l| !l.starts_with('h') || l.starts_with("home."))
        .collect();
    let cfg = crate::nameserver::config(&dir, &ns, "lock_wait = 120\ntimeout = 60", "");
    let queries = (0..HOSTS)
        .map(|i| format!("hostname=h{i}.example.com&myip=84.17.7.{i}"))
        .collect();
    let bodies = run_concurrently(&cfg, queries);
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(body, &format!("good 84.17.7.{i}\n"), "process {i}");
    }
    let zone = ns.zone();
    for i in 0..HOSTS {
        assert!(
            zone.contains(&format!("h{i}.example.com. 600 IN A 84.17.7.{i}")),
            "h{i} lost: {zone:?}"
        );
    }
    let after: Vec<String> = zone
        .into_iter()
        .filter(|l| !l.starts_with('h') || l.starts_with("home."))
        .collect();
    assert_eq!(after, before);
    // One UPDATE per request, each raising the serial once.
    assert_eq!(ns.serial(), 1 + HOSTS as u32);
    assert_eq!(crate::rfc2136::updates_applied(&ns), HOSTS);
}

/// Runs many scenarios at the most verbose level and looks for every secret in everything
/// ddns-cgi wrote: answers, log lines and state files.
#[test]
fn no_secret_in_any_answer_log_or_state_file() {
    let dir = TempDir::new("secrets-all");
    let gw = fake();
    let gandi = crate::gandi::fake();
    // Credentials ddns-cgi checks itself, of every kind.
    let htpasswd = crate::credentials::htpasswd_file(dir.path());
    let argon_hash = crate::credentials::hash_secret(crate::credentials::ARGON_PASSWORD);
    let text = format!(
        "{}\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com\n\
         [user:argon-user]\npassword_hash = {}\n[user:carol]\nsecret = {}\n\
         [dialect:noip]\nquery_credentials = yes\nauthorization_header = yes\n\
         [dialect:acme]\nauthorization_header = yes\n",
        config_text(
            &gw,
            &format!(
                "zones = example.co.uk\nlog_level = debug\ncache_seconds = 0\nhtpasswd = {}\nauth_fail_limit = 3",
                htpasswd.display()
            )
        )
        .replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.com rr.example.com "
        ),
        crate::gandi::TOKEN,
        gandi.base_url(),
        argon_hash,
        crate::credentials::SECRET,
    );
    let cfg = dir.write_config("ddns.ini", &text);
    let mut seen = String::new();
    let mut go_as = |req: crate::util::Request| {
        let answer = run(&cfg, &req);
        seen.push_str(&answer.raw);
        seen.push_str(&answer.stderr);
    };
    let mut go = |query: &str| go_as(get(query));
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
    gw.set_clock_offset(0);
    // Registrars quoting what we sent them: the gateway our request, Gandi our header.
    gw.set_fault(SchlundFault::EchoRequest);
    gandi.set_fault(fake_registrars::gandi::GandiFault::EchoCredential(401));
    go("hostname=home.example.co.uk,home.example.com&myip=84.17.5.65");
    gandi.set_fault(fake_registrars::gandi::GandiFault::EchoCredential(400));
    let _ = std::fs::remove_file(dir.path().join("state/hosts/home.example.com"));
    go("hostname=home.example.com&myip=84.17.5.66");
    gw.set_fault(SchlundFault::None);
    use crate::credentials::{APR1_PASSWORD, ARGON_PASSWORD, BCRYPT_PASSWORD, SHA_PASSWORD};
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            crate::webserver::base64(format!("{user}:{password}").as_bytes())
        )
    };
    for (user, password) in [
        ("bcrypt-user", BCRYPT_PASSWORD),
        ("apr1-user", APR1_PASSWORD),
        ("sha-user", SHA_PASSWORD),
        ("argon-user", ARGON_PASSWORD),
        ("argon-user", BCRYPT_PASSWORD),
        ("nobody", SHA_PASSWORD),
        ("plain-user", "plain-pa55"),
    ] {
        let q = format!(
            "username={}&password={}&hostname=home.example.co.uk&myip=84.17.5.67",
            enc(user),
            enc(password)
        );
        go_as(get(&q).user(None).from("84.17.7.1"));
        go_as(
            get("hostname=home.example.co.uk&myip=84.17.5.68")
                .user(None)
                .from("84.17.7.2")
                .env("HTTP_AUTHORIZATION", &basic(user, password)),
        );
        // A FritzBox sends its password unescaped.
        go_as(
            get(&format!(
                "username={user}&password={password}&hostname=home.example.co.uk"
            ))
            .user(None)
            .from("84.17.7.3"),
        );
    }
    // lego's httpreq with the password in its Authorization header, at both registrars.
    for (user, password) in [("sha-user", SHA_PASSWORD), ("sha-user", "wrong")] {
        for fqdn in [
            "_acme-challenge.home.example.co.uk",
            "_acme-challenge.home.example.com",
        ] {
            for route in ["present", "cleanup"] {
                let body = format!(r#"{{"fqdn":"{fqdn}","value":"{}"}}"#, crate::acme::V1);
                go_as(
                    crate::acme::lego(route, "-", &body)
                        .user(None)
                        .from("84.17.7.4")
                        .env("HTTP_AUTHORIZATION", &basic(user, password)),
                );
            }
        }
    }
    // The dyndns URLs carry carol's secret in the path or the query, in either mounting.
    let secret = crate::credentials::SECRET;
    for (script, path, query) in [
        (
            "/ddns",
            format!("/update-by-path/{secret}/home.example.com/84.17.5.69"),
            String::new(),
        ),
        (
            "/update-by-path",
            format!("/{secret}/home.example.co.uk"),
            String::new(),
        ),
        (
            "/ddns",
            "/update-by-query".into(),
            format!("secret={secret}&fqdn=home.example.co.uk&ttl=x"),
        ),
        (
            "/ddns",
            "/update-by-query".into(),
            format!("fqdn=home.example.co.uk&secret={secret}&ipv4=1.2"),
        ),
        (
            "/delete-by-path",
            format!("/{secret}/home.example.com"),
            String::new(),
        ),
        (
            "/ddns",
            format!("/delete-by-path/{secret}x/home.example.com"),
            String::new(),
        ),
    ] {
        go_as(
            get(&query)
                .user(None)
                .from("84.17.8.1")
                .env("SCRIPT_NAME", script)
                .path(&path),
        );
    }
    seen.push_str(&printed(
        Command::new(binary())
            .args(["check-config", "--config"])
            .arg(&cfg)
            .env_clear(),
    ));
    seen.push_str(&text_below(&dir.path().join("state")));
    for marker in [
        "schlund: zone update for example.co.uk: S0202",
        "<password>***</password>",
        "<token>***</token>",
        "Authorization header Bearer *** (as received: Bearer%20***) refused",
        "did not match (unknown user, or wrong password or secret)",
        "refusing without checking",
        "user=apr1-user ",
        "GET /***/home.example.co.uk user=carol",
        "GET /delete-by-path/***/home.example.com user=-",
        "_acme-challenge.home.example.co.uk add TXT",
        "_acme-challenge.home.example.co.uk remove TXT",
        "PARAMETER_ERROR: int_parsing",
    ] {
        assert!(seen.contains(marker), "{marker} not seen:\n{seen}");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut secrets = vec![
        PASSWORD.to_string(),
        "s3cret".into(),
        TOTP.into(),
        crate::gandi::TOKEN.into(),
        BCRYPT_PASSWORD.into(),
        APR1_PASSWORD.into(),
        SHA_PASSWORD.into(),
        ARGON_PASSWORD.into(),
        crate::credentials::SECRET.into(),
        "plain-pa55".into(),
        argon_hash.clone(),
    ];
    let hashes = std::fs::read_to_string(&htpasswd).unwrap();
    secrets.extend(
        hashes
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(_, h)| h.to_string()),
    );
    secrets.extend((0..8).map(|i| fake_registrars::schlund::totp_code(TOTP, now - 60 + i * 30)));
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&seen, &secrets);
    let _ = FIXTURE_ZONE;
}

/// The TSIG key's secret (and a wrong one) in no answer, log line, command output or state
/// file, whatever the name server answered, at `log_level = debug`.
#[test]
fn no_tsig_secret_in_any_answer_log_or_state_file() {
    use crate::nameserver::NameServer;
    const WRONG: &str = "d3Jvbmcgc2VjcmV0IG9mIHRoZSByaWdodCBsZW5ndGgh";
    let dir = TempDir::new("secrets-rfc2136");
    let ns = NameServer::bind("grant ddns-key. name home.example.com. A AAAA;");
    let good = crate::nameserver::config(&dir, &ns, "log_level = debug\ncache_seconds = 0", "");
    let text = std::fs::read_to_string(&good).unwrap();
    let wrong = dir.write("wrong.ini", &text.replace(&ns.secret, WRONG));
    let udp = dir.write("udp.ini", &format!("{text}transport = udp\n"));
    let mut seen = String::new();
    for cfg in [&good, &wrong, &udp] {
        for query in [
            "hostname=home.example.com&myip=84.17.5.70,2a01:4f8::70",
            "hostname=home.example.com&myip=84.17.5.70,2a01:4f8::70",
            "hostname=v4only.example.com,www.example.com,a.sub.example.com&myip=84.17.5.71",
        ] {
            let answer = run(cfg, &get(query));
            seen.push_str(&answer.raw);
            seen.push_str(&answer.stderr);
        }
        for args in [&["check-config"][..], &["check-config", "--probe"][..]] {
            seen.push_str(&printed(
                Command::new(binary())
                    .args(args)
                    .arg("--config")
                    .arg(cfg)
                    .env_clear(),
            ));
        }
    }
    seen.push_str(&text_below(&dir.path().join("state")));
    for marker in [
        "good 84.17.5.70",
        "nochg 84.17.5.70",
        "BADSIG",
        "REFUSED",
        "key_secret = ***",
        "over udp",
    ] {
        assert!(seen.contains(marker), "{marker} not seen:\n{seen}");
    }
    assert_no_secret(&seen, &[&ns.secret, WRONG]);
}

/// A secret in each form a registrar may echo it: as sent, XML-escaped (once, or twice as
/// when our XML request is quoted inside an XML answer), JSON-escaped, percent-encoded.
pub fn encoded_forms(secret: &str) -> Vec<String> {
    let xml = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let xml_quotes = |t: &str| xml(t).replace('"', "&quot;").replace('\'', "&apos;");
    let json = |t: &str| {
        serde_json::to_string(t)
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    let percent = |t: &str| {
        percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut out = Vec::new();
    for form in [
        secret.to_string(),
        xml(secret),
        xml_quotes(secret),
        xml(&xml(secret)),
        xml(&xml_quotes(secret)),
    ] {
        out.push(json(&form));
        out.push(percent(&form));
        out.push(percent(&form).to_lowercase());
        out.push(form);
    }
    out.sort();
    out.dedup();
    out
}

/// Fails naming the form when any form of any of the secrets occurs in `seen`.
#[track_caller]
pub fn assert_no_secret(seen: &str, secrets: &[&str]) {
    for secret in secrets {
        for form in encoded_forms(secret) {
            assert!(!seen.contains(&form), "{secret} leaked as {form}:\n{seen}");
        }
    }
}

/// Whether `code` occurs in `text` as a number of its own (not inside a longer digit run
/// such as a Unix time), the way a leaked TOTP code would appear.
fn contains_code(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Every fault scenario of the README's table, for both registrars, at `log_level = debug`,
/// plus `check-config` and `check-config --probe`: no password, TOTP seed, TOTP code or
/// token in any answer, log line, command output or state file.
#[test]
fn no_secret_in_any_fault_scenario() {
    use fake_registrars::gandi::GandiFault;
    use fake_registrars::schlund::fixture_zone_named;

    const WRONG_PASSWORD: &str = "wr0ng&pass<x";
    const WRONG_TOKEN: &str = "pat_wrongwrongwrongwrongwrongwrongwrongwrong0";
    const EXPIRED_TOKEN: &str = "pat_expiredexpiredexpiredexpiredexpiredexp01";
    const BROKEN_TOTP: &str = "JBSWY3DPEHPK3PX1";

    let dir = TempDir::new("secrets-faults");
    // example.net holds a record the gateway refuses on update: that zone's update fails.
    let net = fixture_zone_named("example.net").replacen(
        "<free>",
        "<rr><name>legacy</name><ttl>30</ttl><type>TXT</type><value>old</value></rr><free>",
        1,
    );
    let gw = FakeSchlund::start(
        vec![SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP)],
        &[FIXTURE_ZONE, &net],
    );
    let gandi = crate::gandi::fake();
    gandi.add_expired_token(EXPIRED_TOKEN);
    let closed = format!("http://127.0.0.1:{}", {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    });

    struct Cfg<'a> {
        password: &'a str,
        totp: &'a str,
        schlund_url: String,
        token: &'a str,
        gandi_url: String,
        extra: &'a str,
    }
    let good = || Cfg {
        password: PASSWORD,
        totp: TOTP,
        schlund_url: gw.url(),
        token: crate::gandi::TOKEN,
        gandi_url: gandi.base_url(),
        extra: "",
    };
    let text = |c: &Cfg<'_>| {
        format!(
            "[default]\nusername = {USER}\npassword = {}\ncontext = 10\nurl = {}\ntotp_secret = {}\nallowed_hostnames = home.example.co.uk home.example.net home.example.org home.example.com home.example.info\nzones = example.co.uk example.net example.org\nlog_level = debug\ncache_seconds = 0\n{}\n[gandi]\ntoken = {}\nurl = {}\nzones = example.com example.info\n",
            c.password.replace('%', "%%"),
            c.schlund_url,
            c.totp,
            c.extra,
            c.token,
            c.gandi_url
        )
    };
    let mut n = 0;
    let mut write = |c: &Cfg<'_>| {
        n += 1;
        dir.write_config(&format!("c{n}.ini"), &text(c))
    };

    let mut seen = String::new();
    let mut ip = 100;
    let mut go = |cfg: &std::path::Path, hosts: &str| {
        ip += 1;
        let answer = run(cfg, &get(&format!("hostname={hosts}&myip=84.17.5.{ip}")));
        seen.push_str(&answer.raw);
        seen.push_str(&answer.stderr);
        answer
    };
    let both = "home.example.co.uk,home.example.com";

    // Good, then a repeat.
    let cfg = write(&good());
    assert_eq!(go(&cfg, both).body, "good 84.17.5.101\ngood 84.17.5.101\n");
    // Missing zones at both registrars, a zone whose 0202 fails next to a good one.
    go(
        &cfg,
        "home.example.org,home.example.info,home.example.net,home.example.co.uk,home.example.com",
    );
    // Every SchlundTech fault while the Gandi zone in the same request succeeds.
    for fault in [
        SchlundFault::Http500Html,
        SchlundFault::TruncatedXml,
        SchlundFault::NotXml,
        SchlundFault::UpdateFailsE0202002,
        SchlundFault::UpdateRejectedEF09904,
        SchlundFault::EchoRequest,
        SchlundFault::Redirect {
            status: 307,
            location: format!(
                "{closed}/?password={}",
                percent_encoding::utf8_percent_encode(PASSWORD, percent_encoding::NON_ALPHANUMERIC)
            ),
        },
    ] {
        gw.set_fault(fault);
        go(&cfg, both);
    }
    gw.set_fault(SchlundFault::None);
    // Every Gandi fault while the SchlundTech zone succeeds: once with the record known
    // from state (written without a read), once without (read first).
    let gandi_state = dir.path().join("state/hosts/home.example.com");
    for fault in [
        GandiFault::Status429,
        GandiFault::Status500Html,
        GandiFault::NotJson,
        GandiFault::TruncatedJson,
        GandiFault::FailWrites(400),
        GandiFault::FailWrites(403),
        GandiFault::EchoCredential(400),
        GandiFault::EchoCredential(401),
        GandiFault::Redirect(
            302,
            format!("{closed}/v5/livedns?token={}", crate::gandi::TOKEN),
        ),
    ] {
        gandi.set_fault(fault);
        go(&cfg, both);
        let _ = std::fs::remove_file(&gandi_state);
        go(&cfg, both);
    }
    gandi.set_fault(GandiFault::None);
    // Wrong TOTP codes (the gateway's clock is an hour off).
    gw.set_clock_offset(3600);
    go(&cfg, both);
    gw.set_clock_offset(0);
    // Both registrars silent, with a short timeout.
    gw.set_fault(SchlundFault::Hang(Duration::from_secs(60)));
    gandi.set_fault(GandiFault::Hang(Duration::from_secs(60)));
    let hang = write(&Cfg {
        extra: "timeout = 2",
        ..good()
    });
    go(&hang, both);
    gw.set_fault(SchlundFault::None);
    gandi.set_fault(GandiFault::None);
    // Wrong gateway password, wrong and expired Gandi tokens.
    let wrong_password = write(&Cfg {
        password: WRONG_PASSWORD,
        token: WRONG_TOKEN,
        ..good()
    });
    go(&wrong_password, both);
    let expired = write(&Cfg {
        token: EXPIRED_TOKEN,
        ..good()
    });
    go(&expired, both);
    // Nothing listens at either url.
    let refused = write(&Cfg {
        schlund_url: format!("{closed}/"),
        gandi_url: format!("{closed}/v5/livedns"),
        ..good()
    });
    go(&refused, both);
    // The state directory cannot be created.
    dir.write("not-a-dir", "");
    let state_extra = format!("state_dir = {}/not-a-dir/state", dir.path().display());
    let unwritable = dir.write(
        "unwritable.ini",
        &text(&Cfg {
            extra: &state_extra,
            ..good()
        }),
    );
    go(&unwritable, both);
    // Invalid configs that hold every secret.
    let mut invalid = vec![write(&Cfg {
        totp: BROKEN_TOTP,
        ..good()
    })];
    let good_text = text(&good());
    for (i, broken) in [
        // A bad value next to the secrets.
        good_text.replacen("log_level = debug", "log_level = loud", 1),
        // No `=` on the password line.
        good_text.replacen("password = ", "password ", 1),
        // The token twice.
        good_text.replacen("token = ", &format!("token = {WRONG_TOKEN}\ntoken = "), 1),
        // Both credentials for Gandi.
        good_text.replacen("token = ", &format!("api_key = {WRONG_TOKEN}\ntoken = "), 1),
        // A section header left open after the secrets.
        format!("{good_text}[user:bob\n"),
    ]
    .into_iter()
    .enumerate()
    {
        invalid.push(dir.write_config(&format!("broken{i}.ini"), &broken));
    }
    for cfg in &invalid {
        let answer = go(cfg, both);
        assert_eq!(answer.body, "911\n", "{}", answer.stderr);
    }
    // check-config, with and without --probe, for every config above and one whose zones
    // all exist.
    let probe_ok = dir.write_config(
        "probe-ok.ini",
        &good_text
            .replace("example.co.uk example.net example.org", "example.co.uk")
            .replace("example.com example.info", "example.com"),
    );
    for cfg in [
        &probe_ok,
        &cfg,
        &wrong_password,
        &expired,
        &refused,
        &unwritable,
    ]
    .into_iter()
    .chain(&invalid)
    {
        for probe in [false, true] {
            let mut cmd = Command::new(binary());
            cmd.arg("check-config");
            if probe {
                cmd.arg("--probe");
            }
            seen.push_str(&printed(cmd.arg("--config").arg(cfg).env_clear()));
        }
    }
    gw.set_clock_offset(3600);
    seen.push_str(&printed(
        Command::new(binary())
            .args(["check-config", "--probe", "--config"])
            .arg(&probe_ok)
            .env_clear(),
    ));
    seen.push_str(&text_below(&dir.path().join("state")));

    // The scenarios ran as meant.
    for marker in [
        "schlund: zone update for example.co.uk: S0202",
        "zone update for example.net: E0202",
        "E0202002",
        "EF09904",
        "HTTP 500 for zone inquiry",
        "answer is not XML",
        "HTTP 429",
        "answer is not an rrset",
        "writing A of home.example.com: HTTP 400",
        "EF09901",
        "EF09903",
        "zone example.org does not exist",
        "zone example.info does not exist",
        "did not answer within the configured timeout",
        "cannot reach the registrar",
        "HTTP 401",
        "has expired",
        "the state_dir must exist",
        "`loud` is not one of",
        "is not a base32 TOTP secret",
        "expected `key = value`",
        "appears twice",
        "not both",
        "section header is not closed",
        "password = ***",
        "<password>***</password><context>10</context><token>***</token>",
        "Authorization header Bearer *** (as received: Bearer%20***) refused",
        "/?password=***`; not followed",
        "/v5/livedns?token=***`; not followed",
        "probe schlund: login accepted",
        "probe gandi: token accepted",
        "probe failed",
        "config OK",
    ] {
        assert!(seen.contains(marker), "{marker} not seen:\n{seen}");
    }

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_no_secret(
        &seen,
        &[
            PASSWORD,
            "s3cret",
            WRONG_PASSWORD,
            "wr0ng",
            TOTP,
            BROKEN_TOTP,
            crate::gandi::TOKEN,
            WRONG_TOKEN,
            EXPIRED_TOKEN,
        ],
    );
    for step in (0..=6).map(|i| now - 90 + i * 30) {
        let code = fake_registrars::schlund::totp_code(TOTP, step);
        assert!(
            !contains_code(&seen, &code),
            "TOTP code {code} leaked:\n{seen}"
        );
    }
}
