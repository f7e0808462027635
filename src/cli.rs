//! The command line: `check-config`, and the choice between CGI and CLI.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::acl::Acl;
use crate::auth::hash::Format;
use crate::backend::yes_no;
use crate::config::Config;
use crate::config::credentials::is_plain;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Validate the config and print the effective settings, secrets redacted.
    CheckConfig {
        /// `--config FILE`, else `DDNS_CONFIG`, else the default path.
        config: Option<PathBuf>,
        /// `--probe`: also make one read-only call per registrar.
        probe: bool,
        /// `--strict`: fail when any warning was printed.
        strict: bool,
    },
    /// Read a secret or password from stdin and print its argon2id hash for the config.
    HashSecret,
    /// Print the version.
    Version,
    /// Print usage.
    Help,
}

/// Usage text.
pub const USAGE: &str = "\
usage: ddns-cgi check-config [--config FILE] [--probe] [--strict]
       ddns-cgi hash-secret
       ddns-cgi --version

Run by a web server (GATEWAY_INTERFACE set), ddns-cgi answers NoIP/DynDNS2 updates.
The config file is --config FILE, else $DDNS_CONFIG, else /etc/ddns-cgi/ddns-cgi.ini.
check-config validates it and prints the effective settings, secrets as ***;
--probe also makes one read-only call to each registrar to prove the credentials work;
--strict fails (exit status 1) when any warning was printed, e.g. about a config file
or state_dir that other local users may open.
hash-secret reads a secret or password from standard input (one line; the line break
is dropped) and prints its argon2id hash for `secret =` or `password_hash =` in a
[user:NAME] section, e.g.  ddns-cgi hash-secret < file-holding-the-secret
";

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let mut args = args.iter();
    let Some(first) = args.next() else {
        return Ok(Command::Help);
    };
    match first.as_str() {
        "check-config" => {
            let mut config = None;
            let mut probe = false;
            let mut strict = false;
            while let Some(arg) = args.next() {
                match arg.as_str() {
                    "--probe" => probe = true,
                    "--strict" => strict = true,
                    "--config" | "-c" => {
                        let path = args.next().ok_or("--config needs a file name")?;
                        config = Some(PathBuf::from(path));
                    }
                    other => return Err(format!("check-config: unknown argument `{other}`")),
                }
            }
            Ok(Command::CheckConfig {
                config,
                probe,
                strict,
            })
        }
        "hash-secret" => match args.next() {
            None => Ok(Command::HashSecret),
            Some(other) => Err(format!(
                "hash-secret: unknown argument `{other}`; it reads the secret from standard input"
            )),
        },
        "--version" | "-V" | "version" => Ok(Command::Version),
        "--help" | "-h" | "help" => Ok(Command::Help),
        other => Err(format!("unknown command `{other}`; see `ddns-cgi --help`")),
    }
}

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
    for account in &config.accounts {
        let _ = writeln!(out, "[{}] ({})", account.label, account.kind.title);
        account.settings.describe(&mut out);
    }
    out
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
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&["hash-secret"])), Ok(Command::HashSecret));
        assert!(
            parse(&args(&["hash-secret", "s3cret"]))
                .unwrap_err()
                .contains("standard input")
        );
        assert!(USAGE.contains("ddns-cgi hash-secret"));
        let read = |input: &str| read_secret(input.as_bytes()).map(|s| s.expose().to_string());
        assert_eq!(read("r0uter secret\n").unwrap(), "r0uter secret");
        assert_eq!(read("crlf\r\nsecond line\n").unwrap(), "crlf");
        assert_eq!(read("no newline").unwrap(), "no newline");
        assert!(read("\n").is_err() && read("").is_err());
    }
}
