//! ddns-cgi behind a real Apache 2.4, configured with deploy/apache/ddns-cgi.conf (and, for
//! shared hosting, deploy/apache/htaccess) as an admin would install them.
//!
//! Apache refuses to run CGI programs as root, so it runs as www-data like Debian's
//! service, on its own port, pid file and logs; the surrounding server config mirrors
//! Debian's apache2.conf defaults (everything denied, `.ht*` files hidden), so the snippet is
//! proven to open exactly what it needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::webserver::{
    Daemon, Frontend, PASSWORD, Request, Site, Stack, USER, WEB_USER, assert_body,
    assert_challenge, deploy_file, path, scenario, sh, start_with_retry, tool,
};

const MODULES: &str = "/usr/lib/apache2/modules";

/// A running Apache serving one [`Site`]; stopped when dropped.
pub struct Apache {
    daemon: Daemon,
    dir: PathBuf,
    port: u16,
    prefix: String,
}

/// How ddns-cgi is mounted.
enum Mount<'a> {
    /// deploy/apache/ddns-cgi.conf at the server root, as the admin edited it.
    Snippet(fn(String) -> String),
    /// A web-space directory, served at `/ddns`, holding the binary as `ddns-cgi.cgi` and
    /// deploy/apache/htaccess as `.htaccess`.
    Htaccess(&'a Path),
}

impl Apache {
    /// Apache with the site snippet: `/nic/update`, `/v3/update` and `/update`.
    pub fn start(site: &Site) -> Apache {
        Apache::start_mounted(site, Mount::Snippet(|text| text))
    }

    /// Apache with the site snippet after `edit` (an admin uncommenting a documented block).
    pub fn start_edited(site: &Site, edit: fn(String) -> String) -> Apache {
        Apache::start_mounted(site, Mount::Snippet(edit))
    }

    /// Apache serving a shared-hosting directory: only .htaccess configures ddns-cgi.
    pub fn start_htaccess(site: &Site) -> Apache {
        let www = site.dir.path().join("www");
        let ddns = www.join("ddns");
        sh("install", &["-d", "-m", "0755", path(&www), path(&ddns)]);
        sh(
            "install",
            &[
                "-m",
                "0755",
                path(&site.binary),
                path(&ddns.join("ddns-cgi.cgi")),
            ],
        );
        let htaccess = deploy_file(
            "apache/htaccess",
            &[
                ("@CONFIG@", path(&site.config)),
                ("@HTPASSWD@", path(&site.htpasswd)),
            ],
        );
        std::fs::write(ddns.join(".htaccess"), htaccess).unwrap();
        Apache::start_mounted(site, Mount::Htaccess(&www))
    }

    fn start_mounted(site: &Site, mount: Mount) -> Apache {
        tool("apache2");
        let dir = site.server_dir("apache");
        let (body, prefix) = match mount {
            Mount::Snippet(edit) => {
                let snippet = edit(deploy_file(
                    "apache/ddns-cgi.conf",
                    &[
                        ("@BINARY@", path(&site.binary)),
                        ("@CONFIG@", path(&site.config)),
                        ("@HTPASSWD@", path(&site.htpasswd)),
                    ],
                ));
                let file = dir.join("ddns-cgi.conf");
                std::fs::write(&file, snippet).unwrap();
                (format!("Include {}\n", file.display()), String::new())
            }
            Mount::Htaccess(www) => (
                format!(
                    // Debian's /var/www defaults plus the overrides shared hosts grant.
                    "LoadModule rewrite_module {MODULES}/mod_rewrite.so\n\
                     DocumentRoot {www}\n\
                     <Directory {www}>\n\
                     \x20   Options FollowSymLinks\n\
                     \x20   AllowOverride AuthConfig FileInfo Options\n\
                     \x20   Require all granted\n\
                     </Directory>\n",
                    www = www.display()
                ),
                "/ddns".to_string(),
            ),
        };
        start_with_retry(|port| {
            let conf = dir.join("httpd.conf");
            std::fs::write(&conf, server_conf(&dir, port, &body)).unwrap();
            let error_log = dir.join("error.log");
            let mut cmd = Command::new(tool("apache2"));
            cmd.arg("-f").arg(&conf).arg("-DFOREGROUND").env_clear();
            let mut daemon = Daemon::spawn("apache2", cmd, &dir, &[error_log]);
            daemon.wait_for_port(port).then(|| Apache {
                daemon,
                dir: dir.clone(),
                port,
                prefix: prefix.clone(),
            })
        })
    }
}

/// The server config around the snippet: Debian's defaults, on loopback only.
fn server_conf(dir: &Path, port: u16, body: &str) -> String {
    let modules = [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("authn_core_module", "mod_authn_core.so"),
        ("authn_file_module", "mod_authn_file.so"),
        ("auth_basic_module", "mod_auth_basic.so"),
        ("authz_user_module", "mod_authz_user.so"),
        // `Require ip`, for the trusted-network block (enabled on Debian by default).
        ("authz_host_module", "mod_authz_host.so"),
        ("alias_module", "mod_alias.so"),
        ("cgid_module", "mod_cgid.so"),
        ("env_module", "mod_env.so"),
        ("mime_module", "mod_mime.so"),
    ];
    let mut conf = String::new();
    for (name, file) in modules {
        conf.push_str(&format!("LoadModule {name} {MODULES}/{file}\n"));
    }
    let d = dir.display();
    conf.push_str(&format!(
        "ServerRoot {d}\n\
         ServerName 127.0.0.1\n\
         Listen 127.0.0.1:{port}\n\
         User {WEB_USER}\n\
         Group {WEB_USER}\n\
         PidFile {d}/httpd.pid\n\
         DefaultRuntimeDir {d}\n\
         ScriptSock {d}/cgid.sock\n\
         ErrorLog {d}/error.log\n\
         CustomLog {d}/access.log \"%r %>s\" env=!ddns_credentials\n\
         CustomLog {d}/access-self.log \"%m %U %>s\" env=ddns_credentials\n\
         LogLevel info\n\
         TypesConfig /dev/null\n\
         StartServers 1\n\
         ServerLimit 2\n\
         ThreadsPerChild 8\n\
         MaxRequestWorkers 16\n\
         <Directory />\n\
         \x20   AllowOverride None\n\
         \x20   Require all denied\n\
         </Directory>\n\
         <FilesMatch \"^\\.ht\">\n\
         \x20   Require all denied\n\
         </FilesMatch>\n\
         {body}"
    ));
    conf
}

impl Apache {
    /// Request lines with status, one per request served so far, e.g.
    /// `GET /nic/update?hostname=... HTTP/1.1 200`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Frontend for Apache {
    fn port(&self) -> u16 {
        self.port
    }

    fn prefix(&self) -> &str {
        &self.prefix
    }

    fn logs(&self) -> String {
        self.daemon.logs()
    }
}

#[test]
fn apache_good_nochg_and_nohost() {
    let stack = Stack::new("apache-good");
    let apache = Apache::start(&stack.site);
    scenario::good_nochg_nohost(&stack, &apache);
}

#[test]
fn apache_wrong_or_missing_password_is_apaches_401() {
    let stack = Stack::new("apache-auth");
    let apache = Apache::start(&stack.site);
    scenario::auth_failures(&stack, &apache);
}

#[test]
fn apache_dual_stack_and_several_hosts() {
    let stack = Stack::new("apache-multi");
    let apache = Apache::start(&stack.site);
    scenario::dual_stack_and_several_hosts(&stack, &apache);
}

#[test]
fn apache_fritzbox_http10_and_post_form() {
    let stack = Stack::new("apache-fritz");
    let apache = Apache::start(&stack.site);
    scenario::fritzbox_and_post_form(&stack, &apache);
}

#[test]
fn apache_gandi_update() {
    let stack = Stack::new("apache-gandi");
    let apache = Apache::start(&stack.site);
    scenario::gandi_update(&stack, &apache);
}

#[test]
fn apache_acme_httpreq() {
    let stack = Stack::new("apache-acme");
    let apache = Apache::start(&stack.site);
    scenario::acme_httpreq(&stack, &apache);
}

#[test]
fn apache_htaccess_acme_httpreq() {
    let stack = Stack::new("apache-htaccess-acme");
    let apache = Apache::start_htaccess(&stack.site);
    scenario::acme_httpreq(&stack, &apache);
}

#[test]
fn apache_delete() {
    let stack = Stack::new("apache-delete");
    let apache = Apache::start(&stack.site);
    scenario::delete(&stack, &apache, "/nic/delete");
}

#[test]
fn apache_htaccess_delete_below_the_prefix() {
    let stack = Stack::new("apache-htaccess-delete");
    let apache = Apache::start_htaccess(&stack.site);
    scenario::delete(&stack, &apache, "/nic/delete");
    // The binary's own name with the route as PATH_INFO reaches the same route.
    let answer = Request::get("/ddns/ddns-cgi.cgi/nic/delete?hostname=a.b.example.co.uk")
        .auth(USER, PASSWORD)
        .send(apache.port());
    assert_body(&apache, &answer, "good\n");
    assert!(stack.zone().rr("a.b", "A").is_empty());
    let answer =
        Request::get("/ddns/ddns-cgi.cgi/admin?hostname=home.example.co.uk&myip=84.17.5.8")
            .auth(USER, PASSWORD)
            .send(apache.port());
    assert_eq!(answer.status, 404, "{answer:?}\n{}", apache.logs());
}

#[test]
fn apache_self_checked_credentials() {
    let stack = Stack::with(
        "apache-self",
        "htpasswd = @HTPASSWD@\n",
        scenario::SELF_CHECKED,
    );
    let apache = Apache::start(&stack.site);
    scenario::self_checked(&stack, &apache, &apache.dir.join("access.log"));
    // Those requests are logged without their query, as docs/install.md has it.
    let redacted = std::fs::read_to_string(apache.dir.join("access-self.log")).unwrap();
    assert!(redacted.contains("GET /self/update 200"), "{redacted}");
    assert!(!redacted.contains("password"), "{redacted}");
    // The Basic-auth locations are Apache's to check, as before.
    let before = stack.zone();
    let answer = Request::get("/nic/update?hostname=home.example.co.uk&myip=84.17.5.40")
        .auth(USER, "forged")
        .send(apache.port());
    assert_challenge(&apache, &answer);
    assert_ne!(
        answer.body, "badauth\n",
        "the web server's own 401, not ddns-cgi's"
    );
    assert_eq!(stack.zone(), before);
}

#[test]
fn apache_unknown_paths_are_not_served() {
    let stack = Stack::new("apache-paths");
    let apache = Apache::start(&stack.site);
    for target in ["/", "/nic/updates", "/cgi-bin/ddns-cgi", "/ddns-cgi"] {
        let answer = Request::get(target)
            .auth(USER, PASSWORD)
            .send(apache.port());
        assert!(
            matches!(answer.status, 403 | 404),
            "{target}: {answer:?}\n{}",
            apache.logs()
        );
    }
    // Below a mount the CGI sees a PATH_INFO it does not know.
    let answer = Request::get("/nic/update/x?hostname=home.example.co.uk&myip=84.17.5.8")
        .auth(USER, PASSWORD)
        .send(apache.port());
    assert_eq!(answer.status, 404, "{answer:?}\n{}", apache.logs());
    assert_eq!(stack.zone_writes(), 0);
}

#[test]
fn apache_htaccess_on_shared_hosting() {
    let stack = Stack::new("apache-htaccess");
    let apache = Apache::start_htaccess(&stack.site);
    let port = apache.port();

    // The binary's own name, then the update paths the rewrite adds.
    let answer = Request::get("/ddns/ddns-cgi.cgi?hostname=home.example.co.uk&myip=84.17.5.10")
        .auth(USER, PASSWORD)
        .send(port);
    assert_body(&apache, &answer, "good 84.17.5.10\n");
    assert_eq!(stack.value("home", "A"), "84.17.5.10");
    let answer = Request::get("/ddns/nic/update?hostname=home.example.co.uk&myip=84.17.5.10")
        .auth(USER, PASSWORD)
        .send(port);
    assert_body(&apache, &answer, "nochg 84.17.5.10\n");
    let answer = Request::get("/ddns/update?hostname=a.b.example.co.uk&myip=84.17.5.11")
        .auth(USER, PASSWORD)
        .send(port);
    assert_body(&apache, &answer, "good 84.17.5.11\n");
    let answer = Request::get("/ddns/v3/update?hostname=mx1.example.co.uk&myip=84.17.5.11")
        .auth(USER, PASSWORD)
        .send(port);
    assert_body(&apache, &answer, "nohost\n");
    assert_eq!(stack.zone_writes(), 2);

    for target in [
        "/ddns/nic/update?hostname=home.example.co.uk&myip=84.17.5.12",
        "/ddns/ddns-cgi.cgi?hostname=home.example.co.uk&myip=84.17.5.12",
    ] {
        let answer = Request::get(target).auth(USER, "wrong").send(port);
        assert_challenge(&apache, &answer);
        let answer = Request::get(target).send(port);
        assert_challenge(&apache, &answer);
    }
    assert_eq!(stack.value("home", "A"), "84.17.5.10");

    // The config files never leave the server through the web space.
    let answer = Request::get("/ddns/.htaccess")
        .auth(USER, PASSWORD)
        .send(port);
    assert_eq!(answer.status, 403, "{answer:?}");
}
