//! ddns-cgi behind a real nginx and fcgiwrap, configured with
//! deploy/nginx-fcgiwrap/ddns-cgi.conf as an admin would install it.
//!
//! nginx's master runs as root with `user www-data;` workers, as Debian's service does;
//! fcgiwrap runs as www-data with an empty environment, as Debian's fcgiwrap.socket unit
//! starts it, so the CGI sees only the variables the snippet passes.

use std::process::Command;

use crate::webserver::{
    Daemon, Frontend, PASSWORD, Request, Site, Stack, USER, WEB_USER, assert_challenge,
    deploy_file, path, scenario, sh, start_with_retry, tool,
};

/// A running nginx and fcgiwrap serving one [`Site`]; both stopped when dropped.
pub struct Nginx {
    nginx: Daemon,
    fcgiwrap: Daemon,
    port: u16,
}

impl Nginx {
    pub fn start(site: &Site) -> Nginx {
        Nginx::start_edited(site, |text| text)
    }

    /// nginx with the server snippet after `edit` (an admin uncommenting a documented block).
    pub fn start_edited(site: &Site, edit: fn(String) -> String) -> Nginx {
        let nginx_bin = tool("nginx");
        let fcgiwrap_bin = tool("fcgiwrap");
        let dir = site.server_dir("nginx");
        // fcgiwrap creates its socket as www-data, so it gets a directory of its own.
        let run = dir.join("run");
        sh(
            "install",
            &[
                "-d",
                "-o",
                WEB_USER,
                "-g",
                WEB_USER,
                "-m",
                "0755",
                path(&run),
            ],
        );
        let socket = run.join("fcgiwrap.socket");
        let mut cmd = Command::new(tool("setpriv"));
        cmd.args([
            &format!("--reuid={WEB_USER}"),
            &format!("--regid={WEB_USER}"),
            "--init-groups",
            "--",
        ])
        .arg(tool("env"))
        .arg("-i")
        .arg(&fcgiwrap_bin)
        .arg("-s")
        .arg(format!("unix:{}", socket.display()));
        let mut fcgiwrap = Daemon::spawn("fcgiwrap", cmd, &dir, &[]);
        fcgiwrap.wait_until("listening on its socket", || socket.exists());

        let (nginx, port) = start_with_retry(|port| {
            let listen = format!("127.0.0.1:{port}");
            let server = edit(deploy_file(
                "nginx-fcgiwrap/ddns-cgi.conf",
                &[
                    ("@LISTEN@", &listen),
                    ("@BINARY@", path(&site.binary)),
                    ("@CONFIG@", path(&site.config)),
                    ("@HTPASSWD@", path(&site.htpasswd)),
                    ("@FCGIWRAP_SOCKET@", path(&socket)),
                ],
            ));
            let server_file = dir.join("ddns-cgi.conf");
            std::fs::write(&server_file, server).unwrap();
            let d = dir.display();
            let conf = format!(
                "user {WEB_USER};\n\
                 worker_processes 1;\n\
                 daemon off;\n\
                 pid {d}/nginx.pid;\n\
                 error_log {d}/error.log info;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n\
                 \x20   access_log {d}/access.log;\n\
                 \x20   client_body_temp_path {d}/tmp-body;\n\
                 \x20   fastcgi_temp_path {d}/tmp-fastcgi;\n\
                 \x20   proxy_temp_path {d}/tmp-proxy;\n\
                 \x20   uwsgi_temp_path {d}/tmp-uwsgi;\n\
                 \x20   scgi_temp_path {d}/tmp-scgi;\n\
                 \x20   include {};\n\
                 }}\n",
                server_file.display()
            );
            let conf_file = dir.join("nginx.conf");
            std::fs::write(&conf_file, conf).unwrap();
            let error_log = dir.join("error.log");
            let mut cmd = Command::new(&nginx_bin);
            cmd.arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(&conf_file)
                .arg("-e")
                .arg(&error_log)
                .env_clear();
            let mut nginx = Daemon::spawn("nginx", cmd, &dir, &[error_log]);
            nginx.wait_for_port(port).then_some((nginx, port))
        });
        Nginx {
            nginx,
            fcgiwrap,
            port,
        }
    }
}

impl Frontend for Nginx {
    fn port(&self) -> u16 {
        self.port
    }

    fn logs(&self) -> String {
        // fcgiwrap's output holds ddns-cgi's stderr.
        format!("{}{}", self.nginx.logs(), self.fcgiwrap.logs())
    }
}

#[test]
fn nginx_good_nochg_and_nohost() {
    let stack = Stack::new("nginx-good");
    let nginx = Nginx::start(&stack.site);
    scenario::good_nochg_nohost(&stack, &nginx);
}

#[test]
fn nginx_wrong_or_missing_password_is_nginxs_401() {
    let stack = Stack::new("nginx-auth");
    let nginx = Nginx::start(&stack.site);
    scenario::auth_failures(&stack, &nginx);
}

#[test]
fn nginx_dual_stack_and_several_hosts() {
    let stack = Stack::new("nginx-multi");
    let nginx = Nginx::start(&stack.site);
    scenario::dual_stack_and_several_hosts(&stack, &nginx);
}

#[test]
fn nginx_fritzbox_http10_and_post_form() {
    let stack = Stack::new("nginx-fritz");
    let nginx = Nginx::start(&stack.site);
    scenario::fritzbox_and_post_form(&stack, &nginx);
}

#[test]
fn nginx_gandi_update() {
    let stack = Stack::new("nginx-gandi");
    let nginx = Nginx::start(&stack.site);
    scenario::gandi_update(&stack, &nginx);
}

#[test]
fn nginx_acme_httpreq() {
    let stack = Stack::new("nginx-acme");
    let nginx = Nginx::start(&stack.site);
    scenario::acme_httpreq(&stack, &nginx);
}

#[test]
fn nginx_delete() {
    let stack = Stack::new("nginx-delete");
    let nginx = Nginx::start(&stack.site);
    scenario::delete(&stack, &nginx, "/nic/delete");
}

#[test]
fn nginx_self_checked_credentials_and_forged_headers() {
    let stack = Stack::with(
        "nginx-self",
        "htpasswd = @HTPASSWD@\n",
        scenario::SELF_CHECKED,
    );
    let nginx = Nginx::start(&stack.site);
    let access_log = stack.site.dir.path().join("nginx/access.log");
    scenario::self_checked(&stack, &nginx, &access_log);
    let before = stack.zone();
    let answer = Request::get("/nic/update?hostname=home.example.co.uk&myip=84.17.5.40")
        .auth(USER, "forged")
        .send(nginx.port());
    assert_challenge(&nginx, &answer);
    assert_ne!(
        answer.body, "badauth\n",
        "the web server's own 401, not ddns-cgi's"
    );
    assert_eq!(stack.zone(), before);
}

#[test]
fn nginx_passes_only_the_cgi_variables() {
    // A CGI that prints its environment, mounted by the same snippet: the client's
    // password must not reach it, and neither may fcgiwrap's own environment.
    let stack = Stack::new("nginx-env");
    let script = stack.site.dir.path().join("bin/env.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n'\nenv | sort\n",
    )
    .unwrap();
    sh("chmod", &["0755", path(&script)]);
    let env_site = Site {
        dir: crate::util::TempDir::new("nginx-env-site"),
        binary: script,
        config: stack.site.config.clone(),
        htpasswd: stack.site.htpasswd.clone(),
    };
    let nginx = Nginx::start(&env_site);
    let answer = Request::get("/nic/update?hostname=home.example.co.uk&myip=84.17.5.20")
        .header("Proxy", "http://evil.example:3128")
        .auth(USER, PASSWORD)
        .send(nginx.port());
    assert_eq!(answer.status, 200, "{answer:?}\n{}", nginx.logs());
    let names = variable_names(&answer.body);
    assert_eq!(
        names,
        [
            "AUTH_TYPE",
            "CONTENT_LENGTH",
            "CONTENT_TYPE",
            "DDNS_CONFIG",
            // fcgiwrap's own addition.
            "FCGI_ROLE",
            "GATEWAY_INTERFACE",
            "HTTP_USER_AGENT",
            "PATH_INFO",
            "QUERY_STRING",
            "REMOTE_ADDR",
            "REMOTE_PORT",
            "REMOTE_USER",
            "REQUEST_METHOD",
            "REQUEST_URI",
            "SCRIPT_FILENAME",
            "SCRIPT_NAME",
            "SERVER_NAME",
            "SERVER_PORT",
            "SERVER_PROTOCOL",
            "SERVER_SOFTWARE",
        ],
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("REMOTE_USER=alice\n"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("PATH_INFO=\n"), "{}", answer.body);
    assert!(!answer.body.contains(PASSWORD), "{}", answer.body);

    // Where ddns-cgi checks credentials itself, a forged header must not become a user:
    // no REMOTE_USER (nginx would fill it from the header unchecked), only the header.
    let answer = Request::get("/self/nic/update?hostname=home.example.co.uk")
        .auth("mallory", "forged")
        .send(nginx.port());
    assert_eq!(answer.status, 200, "{answer:?}\n{}", nginx.logs());
    let names = variable_names(&answer.body);
    assert_eq!(
        names,
        [
            "CONTENT_LENGTH",
            "CONTENT_TYPE",
            "DDNS_CONFIG",
            "FCGI_ROLE",
            "GATEWAY_INTERFACE",
            "HTTP_AUTHORIZATION",
            "HTTP_USER_AGENT",
            "PATH_INFO",
            "QUERY_STRING",
            "REMOTE_ADDR",
            "REMOTE_PORT",
            "REQUEST_METHOD",
            "REQUEST_URI",
            "SCRIPT_FILENAME",
            "SCRIPT_NAME",
            "SERVER_NAME",
            "SERVER_PORT",
            "SERVER_PROTOCOL",
            "SERVER_SOFTWARE",
        ],
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("mallory\n"), "{}", answer.body);
}

/// The names of the variables an `env` CGI printed, less those its shell adds itself.
fn variable_names(body: &str) -> Vec<&str> {
    body.lines()
        .filter_map(|l| l.split_once('=').map(|(n, _)| n))
        .filter(|n| !["PWD", "SHLVL", "_"].contains(n))
        .collect()
}
