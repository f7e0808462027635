//! The one-shot command line (`update`, `delete`, `check-config --example`, usage and
//! exit statuses) through the real binary against the strict registrar fakes.

use std::path::Path;
use std::process::{Command, Stdio};

use fake_registrars::gandi::{FakeGandi, GandiFault, Rrset, fixture_zone};
use fake_registrars::schlund::{FIXTURE_ZONE, FakeSchlund, SchlundUser};

use crate::gandi::TOKEN;
use crate::reliability::assert_no_secret;
use crate::util::{TempDir, binary};

/// What one run of the command line printed and returned.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    #[track_caller]
    pub fn expect(&self, code: i32, stdout: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str()),
            (code, stdout),
            "stderr: {}",
            self.stderr
        );
    }

    #[track_caller]
    pub fn logged(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "no `{needle}` in stderr:\n{}",
            self.stderr
        );
    }
}

/// The binary as a command (no CGI variables), with only `PATH` and `env` set.
pub fn command(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DDNS_CONFIG", config)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs it to the end.
pub fn cli_env(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = command(config, args, env).output().expect("run ddns-cgi");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn cli(config: &Path, args: &[&str]) -> Out {
    cli_env(config, args, &[])
}

pub fn gandi_config(dir: &TempDir, gandi: &FakeGandi, extra: &str) -> std::path::PathBuf {
    dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\n[gandi]\ntoken = {TOKEN}\nurl = {}\nzones = example.com\n{extra}\n",
            gandi.base_url()
        ),
    )
}

fn gandi() -> FakeGandi {
    FakeGandi::start(&[TOKEN], vec![fixture_zone()])
}

#[test]
fn update_sets_both_families_and_a_repeat_writes_nothing() {
    let dir = TempDir::new("cli-update");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    let out = cli(
        &cfg,
        &[
            "update",
            "home.example.com",
            "84.17.5.7",
            "2a02:810d:4a40::7",
        ],
    );
    out.expect(
        0,
        "good home.example.com A 84.17.5.7 (was 198.51.100.7)\ngood home.example.com AAAA 2a02:810d:4a40::7 (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    assert_eq!(out.stderr, "");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.7"]))
    );
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new("home", "AAAA", 300, &["2a02:810d:4a40::7"]))
    );
    assert_eq!(gandi.writes().len(), 2);
    // Quiet when nothing changed; `-v` shows the nochg lines. The state answers: no call.
    gandi.clear_requests();
    cli(&cfg, &["update", "home.example.com", "84.17.5.7"]).expect(0, "");
    cli(&cfg, &["update", "-v", "home.example.com", "84.17.5.7"])
        .expect(0, "nochg home.example.com A 84.17.5.7\n");
    assert!(gandi.requests().is_empty(), "{:?}", gandi.requests());
    // --force trusts no state and writes what the registrar already holds.
    cli(
        &cfg,
        &["update", "--force", "home.example.com", "84.17.5.7"],
    )
    .expect(0, "good home.example.com A 84.17.5.7 (was 84.17.5.7)\n");
    assert_eq!(gandi.writes().len(), 1);
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 300, &["84.17.5.7"]))
    );
}

#[test]
fn update_takes_an_ipv6_prefix_and_force_rewrites_at_each_backend() {
    let dir = TempDir::new("cli-prefix");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    // The host part of the current AAAA (2001:db8:85a3::8a2e:370:7334) follows the prefix.
    let out = cli(
        &cfg,
        &["update", "home.example.com", "2a02:908:1200:1234::/64"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        gandi.rrset("example.com", "home", "AAAA"),
        Some(Rrset::new(
            "home",
            "AAAA",
            300,
            &["2a02:908:1200:1234:0:8a2e:370:7334"]
        ))
    );
    cli(
        &cfg,
        &["update", "home.example.com", "2a02:908:1200:1234::/80"],
    )
    .expect(64, "");
    cli(&cfg, &["update", "home.example.com", "2001:db8::/64"]).expect(64, "");

    // SchlundTech: one 0202 with the zone as it was.
    let gw = crate::schlund::fake();
    let text = crate::schlund::config_text(&gw, "zones = example.co.uk");
    let cfg = dir.write_config("schlund.ini", &text);
    cli(
        &cfg,
        &["update", "--force", "home.example.co.uk", "198.51.100.7"],
    )
    .expect(64, "");
    cli(
        &cfg,
        &["update", "--force", "home.example.co.uk", "84.17.5.7"],
    )
    .expect(
        0,
        "good home.example.co.uk A 84.17.5.7 (was 198.51.100.7)\n",
    );
    cli(
        &cfg,
        &["update", "--force", "home.example.co.uk", "84.17.5.7"],
    )
    .expect(0, "good home.example.co.uk A 84.17.5.7 (was 84.17.5.7)\n");
    let updates = gw
        .requests()
        .iter()
        .filter(|r| r.task_code == "0202")
        .count();
    assert_eq!(updates, 2);
    crate::schlund::only_changed(&gw.zone("example.co.uk").unwrap(), &[("home", "A")], false);
}

#[test]
fn update_with_a_ttl_writes_it_and_refuses_one_the_registrar_cannot_take() {
    let dir = TempDir::new("cli-ttl");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    cli(
        &cfg,
        &["update", "--ttl", "900", "home.example.com", "84.17.5.7"],
    )
    .expect(0, "good home.example.com A 84.17.5.7 (was 198.51.100.7)\n");
    assert_eq!(
        gandi.rrset("example.com", "home", "A"),
        Some(Rrset::new("home", "A", 900, &["84.17.5.7"]))
    );
    gandi.clear_requests();
    let out = cli(
        &cfg,
        &["update", "--ttl", "60", "home.example.com", "84.17.5.8"],
    );
    out.expect(1, "dnserr home.example.com A\n");
    assert!(gandi.writes().is_empty());
}

#[test]
fn usage_errors_exit_64_with_the_synopsis_and_write_nothing() {
    let dir = TempDir::new("cli-usage");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    for args in [
        &["update", "--frobnicate", "home.example.com", "84.17.5.7"][..],
        &["update", "home.example.com", "84.17.5.7", "84.17.5.8"],
        &["update", "home.example.com", "192.0.2.7"],
        &["update", "home.example.com", "not-an-ip"],
        &["update", "bad..name", "84.17.5.7"],
        &["delete", "-4", "-6", "home.example.com"],
        &["frobnicate"],
    ] {
        let out = cli(&cfg, args);
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(
            out.stderr.starts_with("ddns-cgi: "),
            "{args:?}: {}",
            out.stderr
        );
        if !args.contains(&"192.0.2.7") {
            assert!(
                out.stderr.contains("usage: ddns-cgi update"),
                "{args:?}: {}",
                out.stderr
            );
        }
    }
    let doc = cli(&cfg, &["update", "home.example.com", "192.0.2.7"]);
    doc.logged("documentation address");
    doc.logged("accept_ranges");
    assert!(gandi.requests().is_empty());
    let help = cli(&cfg, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("Exit status: 0 done"),
        "{}",
        help.stdout
    );
}

#[test]
fn every_exit_status_of_update_and_delete() {
    let dir = TempDir::new("cli-status");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    // 1: no record, and a name in no configured zone.
    cli(&cfg, &["update", "nothere.example.com", "84.17.5.7"])
        .expect(1, "nohost nothere.example.com A\n");
    cli(&cfg, &["update", "home.example.org", "84.17.5.7"])
        .expect(1, "nohost home.example.org A\n");
    // 75: the registrar is down.
    gandi.set_fault(GandiFault::Status500Html);
    let down = cli(&cfg, &["update", "home.example.com", "84.17.5.7"]);
    down.expect(75, "911 home.example.com A\n");
    gandi.set_fault(GandiFault::None);
    // 77: the token is refused; the message names the key, never the token.
    let wrong = dir.write_config(
        "wrong.ini",
        &format!(
            "[default]\n[gandi]\ntoken = pat_wrongwrongwrongwrongwrongwrongwrong0001\nurl = {}\nzones = example.com\n",
            gandi.base_url()
        ),
    );
    let refused = cli(&wrong, &["update", "home.example.com", "84.17.5.7"]);
    refused.expect(77, "911 home.example.com A\n");
    refused.logged("token");
    assert_no_secret(
        &format!("{}{}", refused.stdout, refused.stderr),
        &["pat_wrongwrongwrongwrongwrongwrongwrong0001"],
    );
    // 78: a missing file, and an unknown key.
    let missing = cli(
        &dir.path().join("nope.ini"),
        &["update", "home.example.com", "84.17.5.7"],
    );
    missing.expect(78, "");
    missing.logged("check-config --example");
    let bad = dir.write_config(
        "bad.ini",
        "[default]\n[gandi]\ntoken = x\n[client]\nfrobnicate = 1\n",
    );
    let bad = cli(&bad, &["update", "home.example.com", "84.17.5.7"]);
    bad.expect(78, "");
    bad.logged("[client] frobnicate: unknown key");
    // delete: both families, then one that is gone already.
    cli(&cfg, &["delete", "home.example.com"]).expect(
        0,
        "good home.example.com A deleted (was 198.51.100.7)\ngood home.example.com AAAA deleted (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    assert_eq!(gandi.rrset("example.com", "home", "A"), None);
    assert_eq!(gandi.rrset("example.com", "home", "AAAA"), None);
    cli(&cfg, &["delete", "-v", "-4", "home.example.com"])
        .expect(0, "nochg home.example.com A (no record)\n");
    assert!(gandi.rrset("example.com", "a.b", "A").is_some());
}

#[test]
fn dry_runs_write_nothing_and_say_what_they_would_write() {
    let dir = TempDir::new("cli-dry");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "");
    let out = cli(
        &cfg,
        &["update", "--dry-run", "home.example.com", "84.17.5.7"],
    );
    out.expect(
        0,
        "would-update home.example.com A 84.17.5.7 (was unknown: the registrar is not asked in a dry run)\n",
    );
    cli(&cfg, &["delete", "--dry-run", "-6", "home.example.com"]).expect(
        0,
        "would-update home.example.com AAAA deleted (was unknown: the registrar is not asked in a dry run)\n",
    );
    assert!(gandi.requests().is_empty());
    assert!(
        !dir.path().join("state/hosts").exists()
            || std::fs::read_dir(dir.path().join("state/hosts"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn check_config_example_prints_a_template_that_loads() {
    let dir = TempDir::new("cli-example");
    let out = cli(&dir.path().join("none.ini"), &["check-config", "--example"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("[client]"), "{}", out.stdout);
    assert_eq!(
        out.stdout,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.ini"))
            .unwrap()
    );
}

/// `quorum = 1` is allowed, with a warning; `--strict` makes the warning fail the check.
#[test]
fn check_config_warns_about_a_quorum_of_one() {
    let dir = TempDir::new("cli-quorum");
    let gandi = gandi();
    let cfg = gandi_config(&dir, &gandi, "[client]\nquorum = 1");
    let out = cli(&cfg, &["check-config"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.logged("[client] quorum = 1: the first provider that answers decides");
    let out = cli(&cfg, &["check-config", "--strict"]);
    assert_ne!(out.code, 0);
}

/// The line from ws.ddns's README, `schlund-ddns --username USER --password PASS
/// home.example.com 1.2.3.4`, with `update` (or run as `schlund-ddns`), a public address
/// instead of 1.2.3.4, and `--url` for the fake; a `%` in the password reaches the gateway
/// as itself.
#[test]
fn a_ws_ddns_command_line_updates_through_the_gateway() {
    let dir = TempDir::new("cli-wsddns");
    let password = "pa%ss&<word";
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", password, "10")],
        &[FIXTURE_ZONE],
    );
    let state = dir.path().join("state");
    // No config file at all: the flags are the whole account, as with ws.ddns.
    let cfg = dir.write(
        "empty.ini",
        &format!("[default]\nstate_dir = {}\n", state.display()),
    );
    let out = cli(
        &cfg,
        &[
            "update",
            "--url",
            &fake.url(),
            "--username",
            "7654321",
            "--password",
            password,
            "home.example.co.uk",
            "84.17.5.9",
        ],
    );
    out.expect(
        0,
        "good home.example.co.uk A 84.17.5.9 (was 198.51.100.7)\n",
    );
    out.logged("--password and --totp-secret are visible to every local user");
    // Zone discovery asks first (no zones key, as in a ws.ddns file); then one inquiry
    // and one write.
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.task_code.clone())
        .collect();
    assert_eq!(codes[codes.len() - 2..], ["0205", "0202"]);
    assert_eq!(codes.iter().filter(|c| *c == "0202").count(), 1);
    let zone = fake.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.9");
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[password]);
    // A link named schlund-ddns is the same command; the flags override the file's keys.
    let link = dir.path().join("schlund-ddns");
    std::os::unix::fs::symlink(binary(), &link).unwrap();
    let file = dir.write(
        "ws.ini",
        &format!(
            "[default]\nstate_dir = {}\nusername = 7654321\npassword = wrong%%one\nurl = {}\n",
            state.display(),
            fake.url()
        ),
    );
    let out = Command::new(&link)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args([
            "--config",
            file.to_str().unwrap(),
            "--password",
            password,
            "-v",
            "home.example.co.uk",
            "84.17.5.9",
            "2a02:810d:4a40::9",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "nochg home.example.co.uk A 84.17.5.9\ngood home.example.co.uk AAAA 2a02:810d:4a40::9 (was 2001:db8:85a3::8a2e:370:7334)\n"
    );
}

/// ws.ddns's two-factor command line: a gateway user of context 7 with TOTP, every flag
/// given; the one-time code goes with each request, and neither secret shows anywhere.
#[test]
fn a_ws_ddns_command_line_with_context_and_totp_secret() {
    let dir = TempDir::new("cli-wsddns-totp");
    let (password, totp) = ("tw0&factor%pw", "JBSWY3DPEHPK3PXP");
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", password, "7").with_totp(totp)],
        &[FIXTURE_ZONE],
    );
    let cfg = dir.write_config("empty.ini", "[default]\n");
    let flags = |context: &str, secret: &str| {
        [
            "update",
            "--url",
            &fake.url(),
            "--username",
            "7654321",
            "--password",
            password,
            "--context",
            context,
            "--totp-secret",
            secret,
            "home.example.co.uk",
            "84.17.5.9",
        ]
        .map(String::from)
    };
    let run = |args: &[String; 13]| cli(&cfg, &args.each_ref().map(String::as_str));
    // The wrong context, then a wrong second factor: the gateway refuses both (77).
    for args in [flags("10", totp), flags("7", "GEZDGNBVGY3TQOJQ")] {
        let out = run(&args);
        out.expect(77, "911 home.example.co.uk A\n");
        out.logged("the registrar rejected our credentials");
        assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[password, totp]);
    }
    assert_eq!(
        fake.zone("example.co.uk").unwrap().rr("home", "A")[0].value,
        "198.51.100.7"
    );
    fake.clear_requests();
    let out = run(&flags("7", totp));
    out.expect(
        0,
        "good home.example.co.uk A 84.17.5.9 (was 198.51.100.7)\n",
    );
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[password, totp]);
    let requests = fake.requests();
    assert!(
        requests.iter().all(|r| r.had_token && r.user == "7654321"),
        "{requests:?}"
    );
    assert_eq!(requests.last().unwrap().task_code, "0202");
    assert_eq!(requests.last().unwrap().status_code, "S0202");
    let zone = fake.zone("example.co.uk").unwrap();
    assert_eq!(zone.rr("home", "A")[0].value, "84.17.5.9");
    assert_eq!(
        zone.rr("a.b", "A"),
        FakeSchlund::start(vec![], &[FIXTURE_ZONE])
            .zone("example.co.uk")
            .unwrap()
            .rr("a.b", "A")
    );
}

/// `delete` at the SchlundTech gateway: `-6` and `-4` remove one family each and leave
/// the rest of the zone as it was; a second delete has nothing to do and writes nothing.
#[test]
fn delete_at_the_schlund_gateway_narrows_by_family_and_writes_once() {
    use crate::schlund::{config_text, fake, only_changed};
    let dir = TempDir::new("cli-delete-schlund");
    let gw = fake();
    let cfg = dir.write_config("ddns.ini", &config_text(&gw, "zones = example.co.uk"));
    let writes = || {
        gw.requests()
            .iter()
            .filter(|r| r.task_code == "0202")
            .count()
    };
    cli(&cfg, &["delete", "-6", "home.example.co.uk"]).expect(
        0,
        "good home.example.co.uk AAAA deleted (was 2001:db8:85a3::8a2e:370:7334)\n",
    );
    let zone = gw.zone("example.co.uk").unwrap();
    assert!(zone.rr("home", "AAAA").is_empty());
    assert_eq!(zone.rr("home", "A")[0].value, "198.51.100.7");
    only_changed(&zone, &[("home", "AAAA")], false);
    assert_eq!(writes(), 1);
    cli(&cfg, &["delete", "-v", "-6", "home.example.co.uk"])
        .expect(0, "nochg home.example.co.uk AAAA (no record)\n");
    assert_eq!(writes(), 1, "nothing to delete, nothing written");
    cli(&cfg, &["delete", "-4", "home.example.co.uk"])
        .expect(0, "good home.example.co.uk A deleted (was 198.51.100.7)\n");
    let zone = gw.zone("example.co.uk").unwrap();
    assert!(zone.rr("home", "A").is_empty());
    only_changed(&zone, &[("home", "AAAA"), ("home", "A")], false);
    assert_eq!(writes(), 2);
    let out = cli(&cfg, &["delete", "home.example.co.uk"]);
    out.expect(0, "");
    cli(&cfg, &["delete", "-v", "home.example.co.uk"]).expect(
        0,
        "nochg home.example.co.uk A (no record)\nnochg home.example.co.uk AAAA (no record)\n",
    );
    assert_eq!(writes(), 2);
    assert_no_secret(
        &format!("{}{}", out.stdout, out.stderr),
        &[crate::schlund::PASSWORD, crate::schlund::TOTP],
    );
}

/// Two SchlundTech hosts of one zone change with one inquiry and one write.
#[test]
fn two_hosts_of_a_whole_zone_registrar_change_in_one_round_trip() {
    let dir = TempDir::new("cli-two");
    let fake = FakeSchlund::start(
        vec![SchlundUser::new("7654321", "pw", "10")],
        &[FIXTURE_ZONE],
    );
    let cfg = dir.write_config(
        "ddns.ini",
        &format!("[default]\nusername = 7654321\npassword = pw\nurl = {}\nzones = example.co.uk\n[client]\nhostnames = home.example.co.uk a.b.example.co.uk\nipv4 = command\ncommand_v4 = echo 84.17.5.10\n", fake.url()),
    );
    cli(&cfg, &["client"]).expect(
        0,
        "good home.example.co.uk A 84.17.5.10 (was 198.51.100.7)\ngood a.b.example.co.uk A 84.17.5.10 (was 198.51.100.8)\n",
    );
    let codes: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.task_code.clone())
        .collect();
    assert_eq!(codes, ["0205", "0202"]);
}

/// `update` and `delete` against a real BIND9 through the DNS UPDATE backend: the zone as
/// `dig` reads it afterwards, and no key in any output.
#[test]
fn update_and_delete_through_dns_update_at_a_real_bind9() {
    use crate::nameserver::{NameServer, config};
    let dir = TempDir::new("cli-bind");
    let ns = NameServer::bind(crate::rfc2136::POLICY);
    let cfg = config(&dir, &ns, "", "");
    let out = cli(
        &cfg,
        &["update", "home.example.com", "84.17.5.9", "2a01:4f8::9"],
    );
    out.expect(
        0,
        "good home.example.com A 84.17.5.9 (was 192.0.2.1)\ngood home.example.com AAAA 2a01:4f8::9 (was 2001:db8::1)\n",
    );
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.9"]);
    assert_eq!(ns.values("home.example.com", "AAAA"), ["2a01:4f8::9"]);
    assert_eq!(
        crate::rfc2136::updates_applied(&ns),
        2,
        "one rrset replaced per family"
    );
    let out = cli(&cfg, &["delete", "-6", "home.example.com"]);
    out.expect(0, "good home.example.com AAAA deleted (was 2a01:4f8::9)\n");
    assert!(ns.values("home.example.com", "AAAA").is_empty());
    assert_eq!(ns.values("home.example.com", "A"), ["84.17.5.9"]);
    let out = cli(&cfg, &["update", "nothere.example.com", "84.17.5.9"]);
    out.expect(1, "nohost nothere.example.com A\n");
    assert_no_secret(&format!("{}{}", out.stdout, out.stderr), &[&ns.secret]);
}
