//! The command line as typed, read with the standard library only: which command, its
//! flags and operands. Nothing is checked against the config here.

use std::path::PathBuf;
use std::time::Duration;

/// Flags every command takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Common {
    /// `-c FILE`, `--config FILE`, `--config=FILE`.
    pub config: Option<PathBuf>,
    /// `-v` counts up, `-q` down.
    pub verbosity: i32,
    /// `--wait SECONDS` for the client lock.
    pub wait: Duration,
}

/// ws.ddns's flags, which override `[default]` keys of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsFlags {
    /// `--url`.
    pub url: Option<String>,
    /// `--username`.
    pub username: Option<String>,
    /// `--password` (visible to other users in `ps`: warned about).
    pub password: Option<String>,
    /// `--context`.
    pub context: Option<String>,
    /// `--totp-secret` (warned about as `--password`).
    pub totp_secret: Option<String>,
}

impl WsFlags {
    /// The `[default]` keys they set.
    pub fn overrides(&self) -> Vec<(&'static str, &str)> {
        [
            ("url", &self.url),
            ("username", &self.username),
            ("password", &self.password),
            ("context", &self.context),
            ("totp_secret", &self.totp_secret),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|v| (key, v)))
        .collect()
    }
}

/// Only one address family, when `-4` or `-6` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// `-4`.
    V4,
    /// `-6`.
    V6,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Validate the config and print the effective settings, secrets redacted.
    CheckConfig {
        /// The common flags.
        common: Common,
        /// `--probe`: also make one read-only call per registrar.
        probe: bool,
        /// `--strict`: fail when any warning was printed.
        strict: bool,
        /// `--example`: print a commented config template instead.
        example: bool,
    },
    /// Read a secret or password from stdin and print its argon2id hash for the config.
    HashSecret,
    /// `update HOST [IP [IP]]`.
    Update {
        /// The common flags.
        common: Common,
        /// `--force`.
        force: bool,
        /// `--dry-run`.
        dry_run: bool,
        /// `--ttl N`.
        ttl: Option<u32>,
        /// The host.
        host: String,
        /// At most one address per family; none → detect.
        addrs: Vec<String>,
        /// ws.ddns's flags.
        ws: WsFlags,
    },
    /// `delete HOST`.
    Delete {
        /// The common flags.
        common: Common,
        /// `--dry-run`.
        dry_run: bool,
        /// `-4`/`-6`.
        only: Option<Only>,
        /// The host.
        host: String,
    },
    /// `client [HOST …]`.
    Client {
        /// The common flags.
        common: Common,
        /// `--force`.
        force: bool,
        /// `--dry-run`.
        dry_run: bool,
        /// Restrict the run to these `[client]` names.
        hosts: Vec<String>,
    },
    /// `detect`.
    Detect {
        /// The common flags.
        common: Common,
        /// `-4`/`-6`.
        only: Option<Only>,
    },
    /// Print the version.
    Version,
    /// Print usage.
    Help,
}

/// The synopsis, printed with `--help` and after a usage error.
pub const SYNOPSIS: &str = "\
usage: ddns-cgi update       [COMMON] [--force] [--dry-run] [--ttl N] HOST [IP [IP]]
       ddns-cgi delete       [COMMON] [--dry-run] [-4|-6] HOST
       ddns-cgi client       [COMMON] [--force] [--dry-run] [HOST ...]
       ddns-cgi detect       [COMMON] [-4|-6]
       ddns-cgi check-config [COMMON] [--probe] [--strict] [--example]
       ddns-cgi hash-secret
       ddns-cgi --version | --help
COMMON: -c FILE | --config FILE, -v (repeatable), -q (repeatable), --wait SECONDS
update also takes ws.ddns's --url, --username, --password, --context, --totp-secret
";

/// A flag and how its value is given.
struct Reader<'a> {
    args: std::slice::Iter<'a, String>,
}

impl<'a> Reader<'a> {
    /// The value of `flag`: after `=`, else the next argument.
    fn value(&mut self, flag: &str, inline: Option<&'a str>) -> Result<String, String> {
        match inline {
            Some(v) => Ok(v.to_string()),
            None => self
                .args
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value")),
        }
    }
}

/// Flags of one command; what each command accepts is checked by [`allowed`].
#[derive(Default)]
struct Flags {
    common: Common,
    force: bool,
    dry_run: bool,
    probe: bool,
    strict: bool,
    example: bool,
    ttl: Option<u32>,
    only: Option<Only>,
    ws: WsFlags,
    operands: Vec<String>,
    seen: Vec<&'static str>,
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some(first) = args.first() else {
        return Ok(Command::Help);
    };
    let command = first.as_str();
    match command {
        "--version" | "-V" | "version" => return Ok(Command::Version),
        "--help" | "-h" | "help" => return Ok(Command::Help),
        "hash-secret" => {
            return match args.get(1) {
                None => Ok(Command::HashSecret),
                Some(other) => Err(format!(
                    "hash-secret: unknown argument `{}`; it reads the secret from standard input",
                    crate::log::printable(other)
                )),
            };
        }
        "update" | "delete" | "client" | "detect" | "check-config" => {}
        other => {
            return Err(format!(
                "unknown command `{}`",
                crate::log::printable(other)
            ));
        }
    }
    let flags = read_flags(command, &args[1..])?;
    if flags.seen.contains(&"help") {
        return Ok(Command::Help);
    }
    if flags.seen.contains(&"version") {
        return Ok(Command::Version);
    }
    for flag in &flags.seen {
        if !allowed(command).contains(flag) {
            return Err(format!("{command}: --{flag} does not apply to it"));
        }
    }
    build(command, flags)
}

/// The flags each command takes, beyond the common ones.
fn allowed(command: &str) -> &'static [&'static str] {
    const COMMON: &[&str] = &["config", "v", "q", "wait", "help", "version"];
    match command {
        "update" => &["config", "v", "q", "wait", "force", "dry-run", "ttl", "ws"],
        "delete" => &["config", "v", "q", "wait", "dry-run", "family"],
        "client" => &["config", "v", "q", "wait", "force", "dry-run"],
        "detect" => &["config", "v", "q", "wait", "family"],
        "check-config" => &["config", "v", "q", "wait", "probe", "strict", "example"],
        _ => COMMON,
    }
}

fn read_flags(command: &str, args: &[String]) -> Result<Flags, String> {
    let mut flags = Flags::default();
    let mut reader = Reader { args: args.iter() };
    let mut operands_only = false;
    while let Some(arg) = reader.args.next() {
        if operands_only || !arg.starts_with('-') || arg == "-" {
            flags.operands.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg.as_str(), None),
        };
        if name == "--" {
            operands_only = true;
            continue;
        }
        if let Some(mark) = value_flag(name, inline, &mut reader, &mut flags)? {
            flags.seen.push(mark);
            continue;
        }
        let mark = match name {
            "--force" => {
                flags.force = true;
                "force"
            }
            "--dry-run" | "-n" => {
                flags.dry_run = true;
                "dry-run"
            }
            "--probe" => {
                flags.probe = true;
                "probe"
            }
            "--strict" => {
                flags.strict = true;
                "strict"
            }
            "--example" => {
                flags.example = true;
                "example"
            }
            "-4" | "-6" => {
                let only = if name == "-4" { Only::V4 } else { Only::V6 };
                if flags.only.is_some_and(|o| o != only) {
                    return Err(format!(
                        "{command}: -4 and -6 together mean both; leave them out"
                    ));
                }
                flags.only = Some(only);
                "family"
            }
            "-h" | "--help" => "help",
            "--version" | "-V" => "version",
            short if is_counted(short) => {
                for c in short[1..].chars() {
                    flags.common.verbosity += if c == 'v' { 1 } else { -1 };
                }
                if short.contains('v') { "v" } else { "q" }
            }
            "--verbose" => {
                flags.common.verbosity += 1;
                "v"
            }
            "--quiet" => {
                flags.common.verbosity -= 1;
                "q"
            }
            other => {
                // The flag's name only: a value written with `=` may be a password.
                return Err(format!(
                    "{command}: unknown flag `{}`",
                    crate::log::printable(other)
                ));
            }
        };
        flags.seen.push(mark);
    }
    Ok(flags)
}

/// A flag that takes a value: its mark, or None for any other flag.
fn value_flag<'a>(
    name: &str,
    inline: Option<&'a str>,
    reader: &mut Reader<'a>,
    flags: &mut Flags,
) -> Result<Option<&'static str>, String> {
    Ok(Some(match name {
        "-c" | "--config" => {
            flags.common.config = Some(PathBuf::from(reader.value(name, inline)?));
            "config"
        }
        "--wait" => {
            let text = reader.value(name, inline)?;
            let secs: u64 = text.parse().ok().filter(|s| *s <= 3600).ok_or_else(|| {
                format!(
                    "--wait `{}` is not a number of seconds from 0 to 3600",
                    crate::log::printable(&text)
                )
            })?;
            flags.common.wait = Duration::from_secs(secs);
            "wait"
        }
        "--ttl" => {
            let text = reader.value(name, inline)?;
            let ttl: u32 = text.parse().ok().filter(|t| *t > 0).ok_or_else(|| {
                format!(
                    "--ttl `{}` is not a positive number of seconds",
                    crate::log::printable(&text)
                )
            })?;
            flags.ttl = Some(ttl);
            "ttl"
        }
        "--url" | "--username" | "--password" | "--context" | "--totp-secret" => {
            let value = reader.value(name, inline)?;
            let ws = &mut flags.ws;
            let slot = match name {
                "--url" => &mut ws.url,
                "--username" => &mut ws.username,
                "--password" => &mut ws.password,
                "--context" => &mut ws.context,
                _ => &mut ws.totp_secret,
            };
            *slot = Some(value);
            "ws"
        }
        _ => return Ok(None),
    }))
}

/// `-v`, `-vv`, `-q`, `-qq`, `-vq`.
fn is_counted(flag: &str) -> bool {
    flag.len() > 1 && flag[1..].chars().all(|c| c == 'v' || c == 'q') && !flag.starts_with("--")
}

fn build(command: &str, f: Flags) -> Result<Command, String> {
    let mut operands = f.operands.into_iter();
    let host = |operands: &mut std::vec::IntoIter<String>| {
        operands
            .next()
            .ok_or_else(|| format!("{command}: the host name is missing"))
    };
    let extra = |rest: Vec<String>| -> Result<(), String> {
        match rest.first() {
            None => Ok(()),
            Some(word) => Err(format!(
                "{command}: unexpected argument `{}`",
                crate::log::printable(word)
            )),
        }
    };
    Ok(match command {
        "update" => {
            let host = host(&mut operands)?;
            let addrs: Vec<String> = operands.collect();
            if addrs.len() > 2 {
                return Err("update: at most two addresses, one IPv4 and one IPv6".into());
            }
            Command::Update {
                common: f.common,
                force: f.force,
                dry_run: f.dry_run,
                ttl: f.ttl,
                host,
                addrs,
                ws: f.ws,
            }
        }
        "delete" => {
            let host = host(&mut operands)?;
            extra(operands.collect())?;
            Command::Delete {
                common: f.common,
                dry_run: f.dry_run,
                only: f.only,
                host,
            }
        }
        "client" => Command::Client {
            common: f.common,
            force: f.force,
            dry_run: f.dry_run,
            hosts: operands.collect(),
        },
        "detect" => {
            extra(operands.collect())?;
            Command::Detect {
                common: f.common,
                only: f.only,
            }
        }
        _ => {
            extra(operands.collect())?;
            Command::CheckConfig {
                common: f.common,
                probe: f.probe,
                strict: f.strict,
                example: f.example,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_and_flags_are_read_with_their_values() {
        let Ok(Command::Update {
            common,
            force,
            host,
            addrs,
            ws,
            ttl,
            ..
        }) = parse(&args(&[
            "update",
            "--config=/etc/x.ini",
            "-vv",
            "--force",
            "--ttl",
            "600",
            "--username",
            "u",
            "--password=p=q",
            "home.example.com",
            "84.17.5.7",
            "2a02::7",
        ]))
        else {
            panic!("not an update");
        };
        assert_eq!(common.config, Some(PathBuf::from("/etc/x.ini")));
        assert_eq!(common.verbosity, 2);
        assert!(force);
        assert_eq!(ttl, Some(600));
        assert_eq!(host, "home.example.com");
        assert_eq!(addrs, ["84.17.5.7", "2a02::7"]);
        assert_eq!(ws.password.as_deref(), Some("p=q"));
        assert_eq!(
            parse(&args(&["delete", "-6", "-c", "f", "h.example.com"])),
            Ok(Command::Delete {
                common: Common {
                    config: Some("f".into()),
                    ..Common::default()
                },
                dry_run: false,
                only: Some(Only::V6),
                host: "h.example.com".into()
            })
        );
        assert!(
            matches!(parse(&args(&["client", "-q", "a.example.com"])), Ok(Command::Client { hosts, common, .. }) if hosts == ["a.example.com"] && common.verbosity == -1)
        );
    }

    #[test]
    fn usage_errors_say_what_is_wrong_and_never_echo_a_value() {
        let err = |a: &[&str]| parse(&args(a)).unwrap_err();
        assert!(err(&["update", "--frobnicate", "h"]).contains("unknown flag `--frobnicate`"));
        assert!(!err(&["update", "--secret=hunter2", "h"]).contains("hunter2"));
        assert!(err(&["update"]).contains("host name is missing"));
        assert!(err(&["update", "h", "1.1.1.1", "2.2.2.2", "3.3.3.3"]).contains("at most two"));
        assert!(err(&["detect", "--force"]).contains("does not apply"));
        assert!(err(&["delete", "-4", "-6", "h"]).contains("both"));
        assert!(err(&["client", "--wait", "x"]).contains("--wait"));
        assert!(err(&["frob"]).contains("unknown command"));
        assert_eq!(parse(&args(&["hash-secret"])), Ok(Command::HashSecret));
        assert!(err(&["hash-secret", "s3cret"]).contains("standard input"));
        assert_eq!(parse(&args(&["update", "--help"])), Ok(Command::Help));
    }
}
