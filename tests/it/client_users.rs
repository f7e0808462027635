//! Who runs the command line: the client as a user of the web server's group, as
//! docs/install.md section 5 and deploy/client/ set it up, next to the CGI as www-data; and
//! a run as a user who would lock the CGI out of an unshared state directory.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use fake_registrars::gandi::{FakeGandi, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser};

use crate::cli::cli;
use crate::gandi::TOKEN;
use crate::util::{Answer, TempDir, assert_answer, get, parse_output};

const WWW_DATA: u32 = 33;
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A CGI request run as www-data, as the web server runs it.
fn cgi_as_www_data(config: &Path, query: &str) -> Answer {
    let mut cmd = crate::util::command(config, &get(query).user(Some("router")));
    cmd.uid(WWW_DATA).gid(WWW_DATA);
    let out = cmd.output().unwrap();
    parse_output(
        &String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ddns-cgi client` as `nobody` with www-data as a supplementary group, like the
/// service's `User=` and `SupplementaryGroups=www-data` (runuser keeps the umask 022).
fn client_as_group_member(config: &Path) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "nobody", "-g", "nogroup", "-G", "www-data", "--"])
        .arg(crate::util::binary())
        .arg("client")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DDNS_CONFIG", config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// The documented setup: state directory root:www-data 2770, config root:www-data 0640,
/// the client as a non-root member of www-data, the CGI as www-data. Both change names of
/// one SchlundTech zone at the same time, round after round; nothing is lost, and every
/// file either made stays usable by the other.
#[test]
fn a_client_of_the_web_servers_group_and_the_cgi_share_state_and_zone_locks() {
    let dir = TempDir::new("client-group");
    chmod(dir.path(), 0o755);
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", "pw", "10")],
        &[FIXTURE_ZONE],
    );
    fake.set_latency(std::time::Duration::from_millis(60));
    let addr = dir.path().join("addr");
    let cfg = dir.write_config(
        "ddns.ini",
        &format!("[default]\nusername = 7654321\npassword = pw\nurl = {}\ncache_seconds = 0\nabuse_limit = 0\n[client]\nhostnames = home.example.co.uk\nipv4 = command\nrecheck = 0\ncommand_v4 = cat {}\n", fake.url(), addr.display()),
    );
    std::os::unix::fs::chown(&cfg, Some(0), Some(WWW_DATA)).unwrap();
    chmod(&cfg, 0o640);
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(0), Some(WWW_DATA)).unwrap();
    chmod(&state, 0o2770);
    for round in 0..3 {
        let client_addr = format!("84.17.6.{round}");
        std::fs::write(&addr, &client_addr).unwrap();
        chmod(&addr, 0o644);
        let client = client_as_group_member(&cfg).spawn().unwrap();
        let cgi = cgi_as_www_data(
            &cfg,
            &format!("hostname=a.b.example.co.uk&myip=84.17.7.{round}"),
        );
        let client = client.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&client.stderr);
        assert_eq!(client.status.code(), Some(0), "{stderr}");
        assert_eq!(
            String::from_utf8_lossy(&client.stdout),
            format!(
                "good home.example.co.uk A {client_addr} (was {})\n",
                if round == 0 {
                    "198.51.100.7".to_string()
                } else {
                    format!("84.17.6.{}", round - 1)
                }
            ),
            "{stderr}"
        );
        assert_answer(&cgi, "200 OK", &format!("good 84.17.7.{round}\n"));
        let zone = fake.zone("example.co.uk").unwrap();
        assert_eq!(zone.rr("home", "A")[0].value, client_addr, "round {round}");
        assert_eq!(zone.rr("a.b", "A")[0].value, format!("84.17.7.{round}"));
        // The rest of the zone is as it was.
        assert_eq!(zone.rr("www", "A"), fake_fixture().rr("www", "A"));
    }
    for entry in ["hosts", "locks", "client"] {
        let meta = std::fs::metadata(state.join(entry)).unwrap();
        assert_eq!(
            (meta.gid(), meta.mode() & 0o7777),
            (WWW_DATA, 0o2770),
            "{entry}"
        );
    }
    let files = [
        ("hosts/home.example.co.uk", NOBODY),
        ("hosts/a.b.example.co.uk", WWW_DATA),
        ("client/run.lock", NOBODY),
    ];
    for (entry, _) in files {
        let meta = std::fs::metadata(state.join(entry)).unwrap();
        assert_eq!(
            (meta.gid(), meta.mode() & 0o7777),
            (WWW_DATA, 0o660),
            "{entry}"
        );
    }
    // Each host's state was last written by the one who changed it.
    for (entry, uid) in &files[..2] {
        assert_eq!(
            std::fs::metadata(state.join(entry)).unwrap().uid(),
            *uid,
            "{entry}"
        );
    }
}

fn fake_fixture() -> fake_registrars::schlund::StoredZone {
    FakeSchlund::start(vec![SchlundUser::new("1", "p", "10")], &[FIXTURE_ZONE])
        .zone("example.co.uk")
        .unwrap()
}

/// The default setup: a state directory of www-data's, 0750, not shared. A root run would
/// leave root-only locks and state that lock the CGI out, so it is refused before it makes
/// anything, with the two ways out; the CGI keeps working.
#[test]
fn a_run_as_another_user_on_an_unshared_state_dir_is_refused_before_it_writes() {
    let dir = TempDir::new("client-owner");
    chmod(dir.path(), 0o755);
    let gandi = FakeGandi::start(&[TOKEN], vec![fixture_zone()]);
    let cfg = crate::cli::gandi_config(
        &dir,
        &gandi,
        "[client]\nhostnames = home.example.com\nipv4 = command\ncommand_v4 = echo 84.17.5.9\n",
    );
    chmod(&cfg, 0o644);
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(WWW_DATA), Some(WWW_DATA)).unwrap();
    chmod(&state, 0o750);
    let shown = state.display().to_string();
    for args in [
        &["client"][..],
        &["update", "home.example.com", "84.17.5.9"],
        &["delete", "home.example.com"],
        &["detect"],
    ] {
        let out = cli(&cfg, args);
        out.expect(78, "");
        out.logged(&format!(
            "state_dir {shown} belongs to www-data and is not shared with a group (mode 0750)"
        ));
        out.logged("runuser -u www-data -- ddns-cgi");
        out.logged(&format!("chgrp www-data {shown} && chmod 2770 {shown}"));
        assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0, "{args:?}");
    }
    assert!(gandi.requests().is_empty());
    let answer = cgi_as_www_data(&cfg, "hostname=home.example.com&myip=84.17.5.70");
    assert_answer(&answer, "200 OK", "good 84.17.5.70\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.70"]))
    );
    // Its owner runs the command line fine.
    let out = Command::new("runuser")
        .args(["-u", "www-data", "--"])
        .arg(crate::util::binary())
        .args(["update", "home.example.com", "84.17.5.9"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DDNS_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "good home.example.com A 84.17.5.9 (was 84.17.5.70)\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A state directory shared after the CGI already used it: what the CGI made before is
/// its own (`0700`/`0600`), and the first request after sharing gives it to the group, so
/// the client of that group can then lock and read it.
#[test]
fn what_the_cgi_made_before_the_directory_was_shared_is_opened_to_the_group() {
    let dir = TempDir::new("client-shared-later");
    chmod(dir.path(), 0o755);
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", "pw", "10")],
        &[FIXTURE_ZONE],
    );
    let addr = dir.path().join("addr");
    std::fs::write(&addr, "84.17.6.1").unwrap();
    chmod(&addr, 0o644);
    let cfg = dir.write_config(
        "ddns.ini",
        &format!("[default]\nusername = 7654321\npassword = pw\nurl = {}\ncache_seconds = 0\n[client]\nhostnames = home.example.co.uk\nipv4 = command\nrecheck = 0\ncommand_v4 = cat {}\n", fake.url(), addr.display()),
    );
    std::os::unix::fs::chown(&cfg, Some(0), Some(WWW_DATA)).unwrap();
    chmod(&cfg, 0o640);
    // As section 2 of docs/install.md makes it, and used by the CGI.
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(WWW_DATA), Some(WWW_DATA)).unwrap();
    chmod(&state, 0o750);
    let cgi = cgi_as_www_data(&cfg, "hostname=home.example.co.uk&myip=84.17.7.1");
    assert_answer(&cgi, "200 OK", "good 84.17.7.1\n");
    let mode = |p: &str| std::fs::metadata(state.join(p)).unwrap().mode() & 0o7777;
    assert_eq!(
        (mode("locks"), mode("hosts/home.example.co.uk")),
        (0o700, 0o600)
    );
    // The admin shares only the directory itself; the next request opens the rest.
    chmod(&state, 0o2770);
    let cgi = cgi_as_www_data(&cfg, "hostname=home.example.co.uk&myip=84.17.7.2");
    assert_answer(&cgi, "200 OK", "good 84.17.7.2\n");
    assert_eq!(
        (
            mode("locks"),
            mode("hosts"),
            mode("locks/schlund-example.co.uk.lock")
        ),
        (0o2770, 0o2770, 0o660)
    );
    let client = client_as_group_member(&cfg).output().unwrap();
    let stderr = String::from_utf8_lossy(&client.stderr);
    assert_eq!(client.status.code(), Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&client.stdout),
        "good home.example.co.uk A 84.17.6.1 (was 84.17.7.2)\n"
    );
    assert_eq!(
        fake.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "84.17.6.1"
    );
}
