//! The command line: `update`, `delete`, `client`, `detect`, `check-config` and
//! `hash-secret`; the same config, core, registrars, state and locks as the CGI.

use std::fmt::Write as _;

use crate::acl::Acl;
use crate::auth::hash::Format;
use crate::backend::yes_no;
use crate::config::Config;
use crate::config::credentials::is_plain;

pub mod args;
pub mod commands;
pub mod example;
pub mod lines;
pub mod owner;
pub mod run;
pub mod status;
pub mod watch;

pub use args::{Command, SYNOPSIS};

/// Help text.
pub const USAGE: &str = concat!(include_str!("usage.txt"),);

/// The effective settings, as `check-config` prints them. Secrets show as `***`.
pub fn describe(config: &Config) -> String {
    let mut out = String::new();
    let g = &config.general;
    let _ = writeln!(out, "config: {}", config.path.display());
    let _ = writeln!(out, "[default]");
    let _ = writeln!(out, "  realm = {}", g.realm);
    let _ = writeln!(out, "  max_hostnames = {}", g.max_hostnames);
    let _ = writeln!(
        out,
        "  allow_private_addresses = {}",
        yes_no(g.allow_private_addresses)
    );
    let _ = writeln!(
        out,
        "  create_missing_records = {}",
        yes_no(g.create_missing_records)
    );
    let _ = writeln!(
        out,
        "  collapse_round_robin = {}",
        yes_no(g.collapse_round_robin)
    );
    let _ = writeln!(out, "  timeout = {}", g.timeout.as_secs());
    let _ = writeln!(out, "  proxy = {}", g.proxy.as_deref().unwrap_or("(none)"));
    let _ = writeln!(out, "  log_level = {}", g.log_level);
    let _ = writeln!(out, "  state_dir = {}", g.state_dir.display());
    let _ = writeln!(out, "  lock_wait = {}", g.lock_wait.as_secs());
    let _ = writeln!(out, "  cache_seconds = {}", g.cache_seconds);
    let _ = writeln!(out, "  abuse_limit = {}", g.abuse_limit);
    let _ = writeln!(out, "  abuse_window = {}", g.abuse_window);
    let _ = writeln!(out, "  delete_on_offline = {}", yes_no(g.delete_on_offline));
    let _ = writeln!(out, "  acme_txt_max_age = {}", g.acme_txt_max_age);
    let creds = &config.credentials;
    let _ = writeln!(
        out,
        "  htpasswd = {}",
        creds
            .htpasswd
            .as_ref()
            .map_or("(none)".to_string(), |p| p.display().to_string())
    );
    let _ = writeln!(out, "  auth_fail_limit = {}", creds.fail_limit);
    let _ = writeln!(out, "  auth_fail_window = {}", creds.fail_window);
    match &config.acl {
        Acl::Open => {
            let _ = writeln!(
                out,
                "  allowed_hostnames = (not set: every authenticated user may update every name in the zones)"
            );
        }
        Acl::Lists { global, users } => {
            let _ = writeln!(out, "  allowed_hostnames = {}", join(global));
            for (user, rule) in users {
                let _ = writeln!(out, "[user:{user}]");
                let _ = writeln!(out, "  allowed_hostnames = {}", join(&rule.patterns));
                let _ = writeln!(out, "  use_global = {}", yes_no(rule.use_global));
            }
        }
    }
    describe_credentials(config, &mut out);
    g.ipv6.describe(&mut out);
    describe_client(&config.client, &mut out);
    for account in &config.accounts {
        let _ = writeln!(out, "[{}] ({})", account.label, account.kind.title);
        account.settings.describe(&mut out);
    }
    out
}

/// `[client]`, as the client and `update` without an address use it.
fn describe_client(c: &crate::client::settings::ClientSettings, out: &mut String) {
    let names = |hosts: &[crate::hostname::Hostname]| match hosts {
        [] => "(none)".to_string(),
        hosts => join(hosts),
    };
    let ms = |d: std::time::Duration| format!("{}ms", d.as_millis());
    let _ = writeln!(out, "[client]");
    for (n, fam) in [("4", &c.v4), ("6", &c.v6)] {
        let _ = writeln!(out, "  ipv{n} = {}", fam.method.name());
        let _ = writeln!(out, "  hostnames_v{n} = {}", names(&fam.hostnames));
        let urls: Vec<&str> = fam.providers.iter().map(|p| p.url.as_str()).collect();
        let _ = writeln!(out, "  providers_v{n} = {}", urls.join(" "));
        let _ = writeln!(
            out,
            "  command_v{n} = {}",
            fam.command.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(out, "  interface_v{n} = {}", fam.interface);
        let _ = writeln!(
            out,
            "  resolve_v{n} = {}",
            fam.resolve.as_deref().unwrap_or("(none)")
        );
    }
    let _ = writeln!(
        out,
        "  provider_order = {}",
        if c.shuffle { "random" } else { "listed" }
    );
    let _ = writeln!(out, "  quorum = {}", c.quorum);
    let _ = writeln!(out, "  max_queries = {}", c.max_queries);
    let _ = writeln!(out, "  provider_timeout = {}", ms(c.provider_timeout));
    let _ = writeln!(out, "  detect_timeout = {}", ms(c.detect_timeout));
    let _ = writeln!(out, "  provider_backoff = {}", ms(c.provider_backoff));
    let _ = writeln!(out, "  command_timeout = {}", ms(c.command_timeout));
    let prefer = match c.ipv6_prefer {
        crate::client::settings::Prefer::Stable => "stable",
        crate::client::settings::Prefer::Temporary => "temporary",
    };
    let _ = writeln!(out, "  ipv6_prefer = {prefer}");
    let id = c
        .ipv6_interface_id
        .map(|i| format!("{i}/{}", i.prefix_len()));
    let _ = writeln!(
        out,
        "  ipv6_interface_id = {}",
        id.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(out, "  accept_ranges = {}", join(&c.accept_ranges));
    let _ = writeln!(out, "  proxy = {}", c.proxy.as_deref().unwrap_or("(none)"));
    let _ = writeln!(
        out,
        "  ttl = {}",
        c.ttl
            .map_or("(keep the record's)".to_string(), |t| t.to_string())
    );
    let _ = writeln!(out, "  recheck = {}", ms(c.recheck));
}

/// The users' own credentials (never their values) and the dialect switches.
fn describe_credentials(config: &Config, out: &mut String) {
    let shown = |secret: &crate::secret::Secret| match Format::of(secret.expose()) {
        Some(format) => format!("*** ({} hash)", format.name()),
        None => "*** (plain text)".to_string(),
    };
    for user in config.credentials.users.values() {
        let _ = writeln!(out, "[user:{}] credentials", user.name);
        if let Some(secret) = &user.secret {
            let _ = writeln!(out, "  secret = {}", shown(secret));
        }
        if let Some(hash) = &user.password_hash {
            let _ = writeln!(out, "  password_hash = {}", shown(hash));
        }
    }
    for dialect in crate::protocol::DIALECTS {
        let switches = config.switches(dialect.name());
        let _ = writeln!(out, "[dialect:{}]", dialect.name());
        for key in dialect.switches() {
            let _ = writeln!(out, "  {key} = {}", yes_no(switches.is_on(key)));
        }
        for key in dialect.settings() {
            let _ = writeln!(
                out,
                "  {key} = {}",
                switches.value(key).unwrap_or("(not set)")
            );
        }
    }
}

/// Things that load fine but deserve a second look.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if config.acl == Acl::Open {
        out.push(
            "allowed_hostnames is not set: every user the web server authenticates may update every name in the registrars' zones (as ws.ddns did); list the names to narrow it".to_string(),
        );
    }
    out.extend(wildcard_warnings(config));
    out.extend(credential_warnings(config));
    if config.client.quorum == 1 {
        out.push(
            "[client] quorum = 1: the first provider that answers decides, so one provider that is wrong or lies moves the names; 2 (the default) needs two to agree".to_string(),
        );
    }
    out
}

/// Plain secrets (with the command that hashes them), htpasswd lines that never match, and
/// switches that read passwords nobody could have.
fn credential_warnings(config: &Config) -> Vec<String> {
    let creds = &config.credentials;
    let mut out = Vec::new();
    for user in creds.users.values() {
        if user.secret.as_ref().is_some_and(is_plain) {
            out.push(format!(
                "[user:{}] secret is plain text, so anyone who reads the config has it; run `ddns-cgi hash-secret`, type the secret, and replace the value by the line it prints",
                user.name
            ));
        }
    }
    if let Some(path) = &creds.htpasswd {
        out.extend(crate::auth::htpasswd::warnings(path));
    }
    let passwords =
        creds.htpasswd.is_some() || creds.users.values().any(|u| u.password_hash.is_some());
    for dialect in crate::protocol::DIALECTS {
        let switches = config.switches(dialect.name());
        let reading: Vec<&str> = switches
            .on()
            .iter()
            .copied()
            .filter(|s| crate::protocol::noip::credentials::SWITCHES.contains(s))
            .collect();
        if !passwords && !reading.is_empty() {
            out.push(format!(
                "[dialect:{}] {} = yes, but no password can match: set [default] htpasswd or a password_hash in [user:NAME]",
                dialect.name(),
                reading.join(", ")
            ));
        }
    }
    out
}

/// A wildcard whose base is not at or below a configured zone, such as `*.co.uk`, admits
/// every name of every zone below it that the registrar accounts hold. Without `zones` a
/// registrar's zones are unknown here, so the warning says the check could not be made.
fn wildcard_warnings(config: &Config) -> Vec<String> {
    let Acl::Lists { global, users } = &config.acl else {
        return Vec::new();
    };
    let mut zones: Vec<&str> = Vec::new();
    let mut unzoned: Vec<&str> = Vec::new();
    for account in &config.accounts {
        let list = account.settings.zones();
        if list.is_empty() {
            unzoned.push(&account.shown);
        }
        zones.extend(list.iter().map(String::as_str));
    }
    let lists = std::iter::once(("[default]".to_string(), global)).chain(
        users
            .iter()
            .map(|(user, rule)| (format!("[user:{user}]"), &rule.patterns)),
    );
    let mut out = Vec::new();
    for (section, patterns) in lists {
        let outside = patterns
            .iter()
            .filter(|p| p.wildcard_base().is_some() && !zones.iter().any(|zone| p.is_within(zone)));
        for pattern in outside {
            out.push(if unzoned.is_empty() {
                format!(
                    "{section} allowed_hostnames: {pattern} is not at or below a configured zone ({}); a wildcard above the zones, such as one on a public suffix, admits every name of every zone below it; write it at or below a zone (e.g. *.dyn.{})",
                    zones.join(" "),
                    zones[0]
                )
            } else {
                format!(
                    "{section} allowed_hostnames: {pattern} could not be checked against the zones, since {} sets no zones; a wildcard above them, such as one on a public suffix, would admit every name of every zone below it; set zones to have it checked",
                    unzoned.join(" and ")
                )
            });
        }
    }
    out
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "(none)".into();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The secret `hash-secret` reads: the first line of `input`, without its line break.
/// A prompt goes to stderr when a person types it (the input is shown as typed).
pub fn read_secret(input: impl std::io::BufRead) -> Result<crate::secret::Secret, String> {
    use std::io::{BufRead as _, IsTerminal as _};
    if std::io::stdin().is_terminal() {
        eprint!("secret (shown as typed; end with Enter): ");
    }
    let mut line = String::new();
    let mut input = std::io::Read::take(input, 4096);
    input
        .read_line(&mut line)
        .map_err(|e| format!("hash-secret: cannot read standard input ({e})"))?;
    let secret = line.strip_suffix('\n').unwrap_or(&line);
    let secret = secret.strip_suffix('\r').unwrap_or(secret);
    if secret.is_empty() {
        return Err(
            "hash-secret: no secret on standard input; e.g. ddns-cgi hash-secret < file-holding-it"
                .into(),
        );
    }
    Ok(crate::secret::Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_secret_reads_one_line_of_stdin() {
        assert!(USAGE.contains("ddns-cgi hash-secret"));
        let read = |input: &str| read_secret(input.as_bytes()).map(|s| s.expose().to_string());
        assert_eq!(read("r0uter secret\n").unwrap(), "r0uter secret");
        assert_eq!(read("crlf\r\nsecond line\n").unwrap(), "crlf");
        assert_eq!(read("no newline").unwrap(), "no newline");
        assert!(read("\n").is_err() && read("").is_err());
    }
}
