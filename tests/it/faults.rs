//! The faults of the README's table that the registrar test files do not cover on their own:
//! Gandi unreachable or silent, an unwritable state directory with Gandi, one zone failing
//! among others in one request, and config files that cannot be read. Each test asserts the
//! exact answer, a log line saying what to fix, and that the registrar's zones are as before.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fake_registrars::gandi::{FakeGandi, GandiFault, Rrset, fixture_zone};
use fake_registrars::schlund::{
    FIXTURE_ZONE, FakeSchlund, SchlundFault, SchlundUser, fixture_zone_named,
};
use fake_registrars::server::{HttpServer, Reply};

use crate::gandi::TOKEN;
use crate::schlund::{PASSWORD, TOTP, USER, config_text};
use crate::util::{Answer, TempDir, assert_answer, assert_logged, binary, get, parse_output, run};

/// The host state files ddns-cgi wrote under the test's state directory.
fn host_states(dir: &TempDir) -> Vec<String> {
    std::fs::read_dir(dir.path().join("state/hosts"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A Gandi-only config; `extra_gandi` holds the `zones` key.
fn gandi_config(url: &str, extra_default: &str, extra_gandi: &str) -> String {
    format!(
        "[default]\nallowed_hostnames = *.example.com example.com *.example.net\n{extra_default}\n[gandi]\ntoken = {TOKEN}\nurl = {url}\n{extra_gandi}\n"
    )
}

#[test]
fn gandi_refusing_the_connection_is_911_with_the_fix() {
    let dir = TempDir::new("gandi-refused");
    let gandi = crate::gandi::fake();
    let before = gandi.rrsets("example.com");
    let url = format!("http://127.0.0.1:{}/v5/livedns", closed_port());
    let cfg = dir.write_config("ddns.ini", &gandi_config(&url, "", "zones = example.com"));
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.80"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "gandi: cannot reach the registrar (");
    assert_logged(&answer, "check the url key, DNS and outgoing firewall");
    assert!(gandi.requests().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
    assert!(host_states(&dir).is_empty(), "{:?}", host_states(&dir));
}

#[test]
fn a_silent_gandi_costs_at_most_the_timeout() {
    let dir = TempDir::new("gandi-hang");
    let gandi = crate::gandi::fake();
    let before = gandi.rrsets("example.com");
    // Far longer than the bound below: a client that ignored `timeout` would fail it.
    gandi.set_fault(GandiFault::Hang(Duration::from_secs(60)));
    let cfg = dir.write_config(
        "ddns.ini",
        &gandi_config(&gandi.base_url(), "timeout = 2", "zones = example.com"),
    );
    let started = Instant::now();
    let answer = run(
        &cfg,
        &get("hostname=home.example.com,a.b.example.com&myip=84.17.5.81"),
    );
    let took = started.elapsed();
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        "gandi: the registrar did not answer within the configured timeout; it may be down, or raise `timeout`",
    );
    assert!(
        took < Duration::from_secs(2 + 10),
        "the request took {took:?}"
    );
    // Only the first read was sent; the second host found the time already used up.
    assert_eq!(gandi.requests().len(), 1);
    assert!(gandi.writes().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
    assert!(host_states(&dir).is_empty(), "{:?}", host_states(&dir));
}

#[test]
fn an_unwritable_state_dir_answers_911_for_gandi_too() {
    let dir = TempDir::new("gandi-state-ro");
    let gandi = crate::gandi::fake();
    let before = gandi.rrsets("example.com");
    // A regular file where the state directory should be: no one can create it, root included.
    dir.write("not-a-dir", "");
    let text = gandi_config(
        &gandi.base_url(),
        &format!("state_dir = {}/not-a-dir/state", dir.path().display()),
        "zones = example.com",
    );
    let cfg = dir.write("ddns.ini", &text);
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.82"));
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, "not-a-dir/state");
    assert_logged(
        &answer,
        "the state_dir must exist and be writable by the web server's user",
    );
    assert!(gandi.requests().is_empty());
    assert_eq!(gandi.rrsets("example.com"), before);
}

/// A second server on 127.0.0.1, where a redirect points; it counts what reaches it.
fn redirect_target() -> (HttpServer, Arc<AtomicUsize>) {
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&reached);
    let server = HttpServer::start(0, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Reply::new(200, "text/plain", "followed\n")
    })
    .unwrap();
    (server, reached)
}

/// A gateway answering with a redirect is not followed: 911, a log line naming where it
/// pointed (without the secret it carried), and nothing reaches the other server.
#[test]
fn a_schlund_redirect_is_not_followed() {
    for status in [302, 307] {
        let dir = TempDir::new("schlund-redirect");
        let gw = crate::schlund::fake();
        let before = gw.zone("example.co.uk").unwrap().to_xml();
        let (target, reached) = redirect_target();
        let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
        let location = format!(
            "{}/gateway?password={}",
            target.base_url(),
            percent_encoding::utf8_percent_encode(PASSWORD, percent_encoding::NON_ALPHANUMERIC)
        );
        gw.set_fault(SchlundFault::Redirect {
            status,
            location: location.clone(),
        });
        let answer = run(&cfg, &get("hostname=home.example.co.uk&myip=84.17.5.84"));
        assert_answer(&answer, "200 OK", "911\n");
        assert_logged(
            &answer,
            &format!(
                "ddns-cgi: error: schlund: unusable answer from the registrar: HTTP {status} for zone inquiry for example.co.uk, redirecting to `{}/gateway?password=***`; not followed, since a registrar API never redirects: check the url key\n",
                target.base_url()
            ),
        );
        crate::reliability::assert_no_secret(&answer.stderr, &[PASSWORD]);
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "the redirect was followed"
        );
        assert_eq!(gw.requests().len(), 1);
        gw.set_fault(SchlundFault::None);
        assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
        assert!(host_states(&dir).is_empty());
    }
}

/// The same for Gandi, on a read and on a write.
#[test]
fn a_gandi_redirect_is_not_followed() {
    for (status, known) in [(301, false), (308, true)] {
        let dir = TempDir::new("gandi-redirect");
        let gandi = crate::gandi::fake();
        let before = gandi.rrsets("example.com");
        let (target, reached) = redirect_target();
        let cfg = dir.write_config(
            "ddns.ini",
            &gandi_config(
                &gandi.base_url(),
                "create_missing_records = yes\ncollapse_round_robin = yes",
                "zones = example.com",
            ),
        );
        let what = if known {
            // The record is known from our last write, so the change is one PUT.
            assert_answer(
                &run(&cfg, &get("hostname=home.example.com&myip=84.17.5.85")),
                "200 OK",
                "good 84.17.5.85\n",
            );
            "writing A of home.example.com"
        } else {
            "reading A of home.example.com"
        };
        let before = if known {
            gandi.rrsets("example.com")
        } else {
            before
        };
        gandi.clear_requests();
        gandi.set_fault(GandiFault::Redirect(
            status,
            format!("{}/v5/livedns/domains?token={TOKEN}", target.base_url()),
        ));
        let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.86"));
        assert_answer(&answer, "200 OK", "911\n");
        assert_logged(
            &answer,
            &format!(
                "ddns-cgi: error: home.example.com: gandi: unusable answer from the registrar: HTTP {status} for {what}, redirecting to `{}/v5/livedns/domains?token=***`; not followed, since a registrar API never redirects: check the url key\n",
                target.base_url()
            ),
        );
        crate::reliability::assert_no_secret(&answer.stderr, &[TOKEN]);
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "the redirect was followed"
        );
        assert_eq!(gandi.requests().len(), 1);
        assert_eq!(gandi.rrsets("example.com"), before);
    }
}

/// The SchlundTech account of `schlund::fake` holding these zones.
fn schlund_with(zones: &[&str]) -> FakeSchlund {
    FakeSchlund::start(
        vec![SchlundUser::new(USER, PASSWORD, "10").with_totp(TOTP)],
        zones,
    )
}

/// A config with both registrars: SchlundTech for `schlund_zones`, Gandi for example.com.
fn mixed_config(gw: &FakeSchlund, gandi: &FakeGandi, schlund_zones: &str) -> String {
    format!(
        "{}\n[gandi]\ntoken = {TOKEN}\nurl = {}\nzones = example.com\n",
        config_text(gw, &format!("zones = {schlund_zones}")).replace(
            "allowed_hostnames = ",
            "allowed_hostnames = home.example.com home.example.net home.example.org ",
        ),
        gandi.base_url()
    )
}

#[test]
fn a_failing_gandi_zone_leaves_the_schlund_zone_applied() {
    let dir = TempDir::new("mixed-gandi-fails");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let gandi_before = gandi.rrsets("example.com");
    let schlund_before = gw.zone("example.co.uk").unwrap();
    let cfg = dir.write_config("ddns.ini", &mixed_config(&gw, &gandi, "example.co.uk"));
    gandi.set_fault(GandiFault::Status500Html);
    let answer = run(
        &cfg,
        &get("hostname=home.example.com,home.example.co.uk&myip=84.17.5.83"),
    );
    assert_answer(&answer, "200 OK", "911\ngood 84.17.5.83\n");
    assert_logged(
        &answer,
        "home.example.com: gandi: unusable answer from the registrar: reading A of home.example.com: HTTP 500",
    );
    assert_eq!(gandi.rrsets("example.com"), gandi_before);
    assert!(gandi.writes().is_empty());
    // Only home's A record differs from the fixture (plus what the gateway stamps itself).
    let mut expected = schlund_before.all_rr();
    for rr in &mut expected {
        if rr.name == "home" && rr.rr_type == "A" {
            rr.value = "84.17.5.83".into();
        }
    }
    let zone = gw.zone("example.co.uk").unwrap();
    assert_eq!(zone.all_rr(), expected);
    assert_eq!(zone.main(), schlund_before.main());
    assert_eq!(zone.free(), schlund_before.free());
    assert_eq!(host_states(&dir), ["home.example.co.uk"]);
}

/// SchlundTech refuses the update of example.net (it holds a record with a TTL below the
/// gateway's minimum), example.org is not in the account, and example.co.uk and the Gandi
/// zone example.com are fine: each zone gets its own word, in request order.
#[test]
fn one_schlund_zone_refused_while_the_other_zones_are_applied() {
    let dir = TempDir::new("mixed-schlund-zones");
    let net = fixture_zone_named("example.net").replacen(
        "<free>",
        "<rr><name>legacy</name><ttl>30</ttl><type>TXT</type><value>old</value></rr><free>",
        1,
    );
    assert!(net.contains("<name>legacy</name>"), "{net}");
    let gw = schlund_with(&[FIXTURE_ZONE, &net]);
    let gandi = crate::gandi::fake();
    let net_before = gw.zone("example.net").unwrap().to_xml();
    let zones_before = gw.zones().len();
    let cfg = dir.write_config(
        "ddns.ini",
        &mixed_config(&gw, &gandi, "example.co.uk example.net example.org"),
    );
    let answer = run(
        &cfg,
        &get(
            "hostname=home.example.net,home.example.co.uk,home.example.org,home.example.com&myip=84.17.5.84",
        ),
    );
    assert_answer(
        &answer,
        "200 OK",
        "dnserr\ngood 84.17.5.84\nnohost\ngood 84.17.5.84\n",
    );
    assert_logged(
        &answer,
        "schlund: the registrar refused the change: zone update for example.net: E0202",
    );
    assert_logged(
        &answer,
        "schlund: zone example.org does not exist in the account; fix the zones key or the allowed host names",
    );
    assert_eq!(gw.zone("example.net").unwrap().to_xml(), net_before);
    assert_eq!(gw.zones().len(), zones_before, "no zone was created");
    assert_eq!(
        gw.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.5.84"
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.84"]))
    );
    let codes: Vec<_> = gw
        .requests()
        .iter()
        .map(|r| {
            (
                r.zone_name.clone().unwrap_or_default(),
                r.task_code.clone(),
                r.status_code.clone(),
            )
        })
        .collect();
    let code = |z: &str, t: &str, s: &str| (z.to_string(), t.to_string(), s.to_string());
    assert_eq!(
        codes,
        [
            code("example.net", "0205", "S0205"),
            code("example.net", "0202", "E0202"),
            code("example.co.uk", "0205", "S0205"),
            code("example.co.uk", "0202", "S0202"),
            code("example.org", "0205", "E0205"),
        ]
    );
    let mut states = host_states(&dir);
    states.sort();
    assert_eq!(states, ["home.example.co.uk", "home.example.com"]);
}

/// The token covers example.com only, so Gandi refuses example.net with 403: its hosts get
/// `911` and the log says to widen the token, while example.com is updated.
#[test]
fn one_gandi_zone_refused_while_another_is_applied() {
    let dir = TempDir::new("gandi-two-zones");
    let (name, rrsets) = fixture_zone();
    let net: Vec<Rrset> = rrsets.iter().filter(|r| r.name != "rr").cloned().collect();
    let gandi = FakeGandi::start(&[TOKEN], vec![(name, rrsets), ("example.net", net)]);
    gandi.restrict_token(TOKEN, &["example.com"]);
    let net_before = gandi.rrsets("example.net");
    let cfg = dir.write_config(
        "ddns.ini",
        &gandi_config(&gandi.base_url(), "", "zones = example.com example.net"),
    );
    let answer = run(
        &cfg,
        &get("hostname=home.example.net,home.example.com,a.b.example.net&myip=84.17.5.85"),
    );
    assert_answer(&answer, "200 OK", "911\ngood 84.17.5.85\n911\n");
    assert_logged(&answer, "HTTP 403");
    assert_logged(
        &answer,
        "does not cover zone example.net: renew or widen it",
    );
    assert_eq!(gandi.rrsets("example.net"), net_before);
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.85"]))
    );
    assert_eq!(gandi.writes().len(), 1);
    assert_eq!(host_states(&dir), ["home.example.com"]);
}

/// Runs the binary as CGI under another user, as a web server does.
fn run_as_nobody(config: &Path, query: &str) -> std::io::Result<Answer> {
    let out = Command::new(binary())
        .env_clear()
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("REQUEST_METHOD", "GET")
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "84.17.5.1")
        .env("REMOTE_USER", "alice")
        .env("DDNS_CONFIG", config)
        .uid(65534)
        .gid(65534)
        .output()?;
    Ok(parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn an_unreadable_config_is_911_and_says_who_must_read_it() {
    let dir = TempDir::new("config-unreadable");
    let gw = crate::schlund::fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    // Readable by its owner only, as when root created it for a web server running as
    // another user.
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let query = "hostname=home.example.co.uk&myip=84.17.5.86";
    let answer = if reads_any_file(dir.path()) {
        // Root reads every file: run as the unprivileged `nobody`, like a web server.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        run_as_nobody(&cfg, query).unwrap_or_else(|e| {
            panic!(
                "cannot run the binary as nobody ({e}); it and the directories above it must be readable and searchable by others"
            )
        })
    } else {
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o000)).unwrap();
        run(&cfg, &get(query))
    };
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(
        &answer,
        &format!(
            "config {}: permission denied; make it readable by the web server's user (and nobody else); answering 911",
            cfg.display()
        ),
    );
    assert!(gw.requests().is_empty());
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
}

/// Whether this process reads files whose mode forbids it (root).
fn reads_any_file(dir: &Path) -> bool {
    let probe = dir.join("mode-000");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    readable
}

/// A config that points at a live registrar but does not load reaches no registrar.
#[test]
fn an_invalid_config_reaches_no_registrar() {
    let dir = TempDir::new("config-invalid");
    let gw = crate::schlund::fake();
    let gandi = crate::gandi::fake();
    let before = gw.zone("example.co.uk").unwrap().to_xml();
    let gandi_before = gandi.rrsets("example.com");
    let text = mixed_config(&gw, &gandi, "example.co.uk\ntimeout = soon");
    let cfg = dir.write_config("ddns.ini", &text);
    let answer = run(
        &cfg,
        &get("hostname=home.example.co.uk,home.example.com&myip=84.17.5.87"),
    );
    assert_answer(&answer, "200 OK", "911\n");
    assert_logged(&answer, &format!("config {} line ", cfg.display()));
    assert_logged(
        &answer,
        "[default] timeout: `soon` is not a whole number from 1 to 600; answering 911",
    );
    assert!(
        answer.stderr.ends_with("; answering 911\n"),
        "{}",
        answer.stderr
    );
    assert!(gw.requests().is_empty());
    assert!(gandi.requests().is_empty());
    assert_eq!(gw.zone("example.co.uk").unwrap().to_xml(), before);
    assert_eq!(gandi.rrsets("example.com"), gandi_before);
    assert!(!dir.path().join("state").exists(), "state written");
}
