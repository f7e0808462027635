//! Certificates issued end to end on loopback: a real BIND9 serving the zone ddns-cgi
//! changes by DNS UPDATE, pebble (the ACME test server) validating DNS-01 against that
//! BIND only, Apache running ddns-cgi from the deploy snippet, and the real `lego` (httpreq)
//! and `certbot` (with deploy/acme/certbot-hook) as clients. Nothing leaves the machine:
//! pebble resolves through the loopback BIND, lego asks only that BIND and skips the
//! propagation check that would ask the zone's name servers by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::acme::TXT_POLICY;
use crate::apache::Apache;
use crate::nameserver::{KEY_NAME, NameServer};
use crate::webserver::{
    Daemon, Frontend, PASSWORD, Site, USER, free_port, path, run_bounded, sh, start_with_retry,
    tool,
};

/// Longest one client run may take: registration, one order, validation, download.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

const ALLOWED: &str = "home.example.com";
const REFUSED: &str = "other.example.com";

/// pebble on 127.0.0.1 with a certificate made for it; stopped when dropped.
struct Pebble {
    _daemon: Daemon,
    port: u16,
    /// The CA file that makes clients trust pebble's HTTPS certificate.
    cert: PathBuf,
}

impl Pebble {
    fn start(dir: &Path, dns_port: u16) -> Pebble {
        let cert = dir.join("pebble.crt");
        let key = dir.join("pebble.key");
        sh(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                path(&key),
                "-out",
                path(&cert),
            ],
        );
        start_with_retry(|port| {
            let config = dir.join("pebble.json");
            let text = serde_json::json!({"pebble": {
                "listenAddress": format!("127.0.0.1:{port}"),
                "managementListenAddress": format!("127.0.0.1:{}", free_port()),
                "certificate": path(&cert),
                "privateKey": path(&key),
                // Only DNS-01 is used: nothing ever connects to these.
                "httpPort": free_port(),
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }});
            std::fs::write(&config, text.to_string()).unwrap();
            let mut cmd = Command::new(tool("pebble"));
            cmd.env_clear()
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .args(["-config", path(&config)])
                .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
                .current_dir(dir);
            let mut daemon = Daemon::spawn("pebble", cmd, dir, &[]);
            daemon.wait_for_port(port).then(|| Pebble {
                _daemon: daemon,
                port,
                cert: cert.clone(),
            })
        })
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }
}

/// The whole set-up: BIND with the zone, ddns-cgi behind Apache allowed `home.example.com`
/// only, and pebble validating against that BIND.
struct Loopback {
    ns: NameServer,
    site: Site,
    apache: Apache,
    pebble: Pebble,
}

impl Loopback {
    fn start(tag: &str) -> Loopback {
        let ns = NameServer::bind(TXT_POLICY);
        let config = format!(
            "[default]\nallowed_hostnames = {ALLOWED}\n\
             [rfc2136]\nserver = 127.0.0.1\nport = {}\nkey_name = {KEY_NAME}\nkey_secret = {}\nzones = example.com\n",
            ns.port, ns.secret
        );
        let site = Site::new(tag, &config);
        let apache = Apache::start(&site);
        let pebble = Pebble::start(&site.server_dir("pebble"), ns.port);
        Loopback {
            ns,
            site,
            apache,
            pebble,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/acme", self.apache.port())
    }

    /// The TXT values at a name's challenge, as BIND serves them.
    fn challenge(&self, name: &str) -> Vec<String> {
        self.ns.values(&format!("_acme-challenge.{name}"), "TXT")
    }

    fn failure(&self, what: &str, out: &Output) -> String {
        format!(
            "{what}: {}\nstdout: {}\nstderr: {}\napache: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.apache.logs()
        )
    }
}

/// The subject alternative names of a PEM certificate, as openssl prints them.
fn names_in(cert: &Path) -> String {
    let mut cmd = Command::new(tool("openssl"));
    cmd.args([
        "x509",
        "-noout",
        "-ext",
        "subjectAltName",
        "-in",
        path(cert),
    ]);
    let out = run_bounded(cmd, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// lego with the httpreq provider, asking only the loopback BIND.
fn lego(setup: &Loopback, dir: &Path, domain: &str) -> Output {
    let mut cmd = Command::new(tool("lego"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", path(dir))
        .env("HTTPREQ_ENDPOINT", setup.endpoint())
        .env("HTTPREQ_USERNAME", USER)
        .env("HTTPREQ_PASSWORD", PASSWORD)
        .env("LEGO_CA_CERTIFICATES", path(&setup.pebble.cert))
        .args(["--server", &setup.pebble.directory()])
        .args(["--accept-tos", "--email", "acme@example.com"])
        .args(["--path", path(dir)])
        .args(["--dns", "httpreq", "--dns.disable-cp"])
        .args(["--dns.resolvers", &format!("127.0.0.1:{}", setup.ns.port)])
        .args(["--domains", domain, "run"]);
    run_bounded(cmd, CLIENT_TIMEOUT)
}

#[test]
fn lego_obtains_a_certificate_through_ddns_cgi_and_only_for_allowed_names() {
    let setup = Loopback::start("acme-lego");
    let dir = setup.site.server_dir("lego");
    let out = lego(&setup, &dir, ALLOWED);
    assert!(out.status.success(), "{}", setup.failure("lego", &out));
    let cert = dir.join(format!("certificates/{ALLOWED}.crt"));
    assert!(
        names_in(&cert).contains(&format!("DNS:{ALLOWED}")),
        "{}",
        names_in(&cert)
    );
    assert!(setup.challenge(ALLOWED).is_empty(), "the TXT is gone");
    let logs = setup.apache.logs();
    assert!(
        logs.contains(&format!("_acme-challenge.{ALLOWED} add TXT")),
        "{logs}"
    );
    assert!(
        logs.contains(&format!("_acme-challenge.{ALLOWED} remove TXT")),
        "{logs}"
    );

    let out = lego(&setup, &dir, REFUSED);
    assert!(!out.status.success(), "{}", setup.failure("lego", &out));
    assert!(!dir.join(format!("certificates/{REFUSED}.crt")).exists());
    assert!(setup.challenge(REFUSED).is_empty());
    assert!(
        setup.apache.logs().contains(&format!(
            "may not set ACME challenge values at _acme-challenge.{REFUSED}"
        )),
        "{}",
        setup.apache.logs()
    );
    assert!(!setup.apache.logs().contains(PASSWORD));
}

/// certbot with the hook script from deploy/acme/.
fn certbot(setup: &Loopback, dir: &Path, domain: &str) -> Output {
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/acme/certbot-hook");
    let mut cmd = Command::new(tool("certbot"));
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", path(dir))
        .env("REQUESTS_CA_BUNDLE", path(&setup.pebble.cert))
        .env("DDNS_ACME_CONF", path(&dir.join("absent.conf")))
        .env("DDNS_ACME_URL", setup.endpoint())
        .env("DDNS_ACME_USER", USER)
        .env("DDNS_ACME_PASSWORD", PASSWORD)
        .args(["certonly", "--non-interactive", "--agree-tos"])
        .args(["--register-unsafely-without-email", "--no-eff-email"])
        .args(["--server", &setup.pebble.directory()])
        .args(["--config-dir", path(&dir.join("etc"))])
        .args(["--work-dir", path(&dir.join("work"))])
        .args(["--logs-dir", path(&dir.join("logs"))])
        .args(["--manual", "--preferred-challenges", "dns"])
        .args(["--manual-auth-hook", &format!("{} present", path(&hook))])
        .args(["--manual-cleanup-hook", &format!("{} cleanup", path(&hook))])
        .args(["-d", domain]);
    run_bounded(cmd, CLIENT_TIMEOUT)
}

#[test]
fn certbot_obtains_a_certificate_with_the_hook_and_only_for_allowed_names() {
    let setup = Loopback::start("acme-certbot");
    let dir = setup.site.server_dir("certbot");
    let out = certbot(&setup, &dir, ALLOWED);
    assert!(out.status.success(), "{}", setup.failure("certbot", &out));
    let cert = dir.join(format!("etc/live/{ALLOWED}/cert.pem"));
    assert!(
        names_in(&cert).contains(&format!("DNS:{ALLOWED}")),
        "{}",
        names_in(&cert)
    );
    assert!(setup.challenge(ALLOWED).is_empty(), "the TXT is gone");

    let out = certbot(&setup, &dir, REFUSED);
    assert!(!out.status.success(), "{}", setup.failure("certbot", &out));
    assert!(!dir.join(format!("etc/live/{REFUSED}")).exists());
    assert!(setup.challenge(REFUSED).is_empty());
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("403"), "{said}");
    assert!(!setup.apache.logs().contains(PASSWORD));
}
