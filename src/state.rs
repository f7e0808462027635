//! What ddns-cgi remembers between requests, per host name: the last address set for each
//! family (when, by whom) and when the host last changed. Each CGI request is a new process,
//! so this lives in small files in the state directory.
//!
//! Files are replaced atomically (write a temporary file, fsync, rename), so a reader sees
//! the old state or the new one, never half of either. A missing or unreadable file only
//! means "ask the registrar"; it is never an error for the router.

use std::fs::{self, File};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::hostname::Hostname;

/// The last value set for one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The address the registrar holds, as far as we know.
    pub addr: IpAddr,
    /// Unix seconds when we last saw the registrar hold it (set or confirmed).
    pub seen_at: u64,
    /// The record's TTL when the registrar reported it after a write or read of a single-valued
    /// record; lets the next change write without reading first.
    pub ttl: Option<u32>,
    /// The user whose request set or confirmed it.
    pub by: String,
}

/// Everything remembered about one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostState {
    /// Last A value.
    pub v4: Option<Family>,
    /// Last AAAA value.
    pub v6: Option<Family>,
    /// Unix seconds of recent changes, newest last, for the abuse limit.
    pub changes: Vec<u64>,
}

/// The current layout. Files of version 2 (the same, with the user unencoded) are still
/// read; any other text is damaged state.
const HEADER: &str = "ddns-cgi-state 3";
const HEADER_V2: &str = "ddns-cgi-state 2";

/// Bytes of a user name written as `%XX`: every byte that is not printable ASCII (so no
/// input can add a line or a field), the space that separates fields, and `%` itself.
const USER_BYTES: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

impl HostState {
    /// The state file's text: one line per family and one for the changes, whatever the
    /// user name holds.
    pub fn render(&self) -> String {
        let mut out = format!("{HEADER}\n");
        for (word, family) in [("A", &self.v4), ("AAAA", &self.v6)] {
            if let Some(f) = family {
                let ttl = f.ttl.map_or("-".to_string(), |t| t.to_string());
                let by = utf8_percent_encode(&f.by, USER_BYTES);
                out.push_str(&format!("{word} {} {} {ttl} {by}\n", f.addr, f.seen_at));
            }
        }
        if !self.changes.is_empty() {
            let times: Vec<String> = self.changes.iter().map(u64::to_string).collect();
            out.push_str(&format!("changes {}\n", times.join(" ")));
        }
        out
    }

    /// Reads a state file's text; None when it is not one of ours.
    pub fn parse(text: &str) -> Option<HostState> {
        let mut lines = text.lines();
        let user: fn(std::str::Split<'_, char>) -> Option<String> = match lines.next()? {
            HEADER => decode_user,
            HEADER_V2 => |words| Some(words.collect::<Vec<_>>().join(" ")),
            _ => return None,
        };
        let mut state = HostState::default();
        for line in lines {
            let mut words = line.split(' ');
            match words.next()? {
                kind @ ("A" | "AAAA") => {
                    let addr: IpAddr = words.next()?.parse().ok()?;
                    let seen_at = words.next()?.parse().ok()?;
                    let ttl = match words.next()? {
                        "-" => None,
                        t => Some(t.parse().ok()?),
                    };
                    let by = user(words)?;
                    let family = Some(Family {
                        addr,
                        seen_at,
                        ttl,
                        by,
                    });
                    match (kind, addr) {
                        ("A", IpAddr::V4(_)) => state.v4 = family,
                        ("AAAA", IpAddr::V6(_)) => state.v6 = family,
                        _ => return None,
                    }
                }
                "changes" => {
                    state.changes = words.map(str::parse).collect::<Result<_, _>>().ok()?;
                }
                _ => return None,
            }
        }
        Some(state)
    }
}

/// The user field of the current layout: exactly one word, in the form `render` writes.
fn decode_user(mut words: std::str::Split<'_, char>) -> Option<String> {
    let word = words.next()?;
    if words.next().is_some() {
        return None;
    }
    let user = percent_decode_str(word).decode_utf8().ok()?.into_owned();
    (utf8_percent_encode(&user, USER_BYTES).to_string() == word).then_some(user)
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// Why state could not be written.
#[derive(Debug)]
pub struct StoreError {
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    pub error: std::io::Error,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot write {} ({}); the state_dir must exist and be writable by the web server's user (e.g. chown www-data)",
            self.path.display(),
            self.error
        )
    }
}

impl Store {
    /// A store in `dir` (created on first write).
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn host_path(&self, host: &Hostname) -> PathBuf {
        // Normalised names hold only [a-z0-9._-] and never start with a dot.
        self.dir.join("hosts").join(host.as_str())
    }

    /// The remembered state, or None when missing or unreadable.
    pub fn load(&self, host: &Hostname) -> Option<HostState> {
        let text = fs::read_to_string(self.host_path(host)).ok()?;
        HostState::parse(&text)
    }

    /// Replaces the state atomically.
    pub fn save(&self, host: &Hostname, state: &HostState) -> Result<(), StoreError> {
        let path = self.host_path(host);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        let err = |path: &Path, error| StoreError {
            path: path.to_path_buf(),
            error,
        };
        fs::create_dir_all(&dir).map_err(|e| err(&dir, e))?;
        // Not named after the host: a name of 253 characters plus any decoration would pass
        // the 255-byte limit of a file name. One process saves one host at a time.
        let temp = dir.join(format!(".saving.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temp)?;
            file.write_all(state.render().as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, &path)?;
            // The rename is durable once the directory entry is.
            File::open(&dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            err(&path, e)
        })
    }

    /// Checks that the directory can be written, as `check-config` reports it.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let err = |path: &Path, error| StoreError {
            path: path.to_path_buf(),
            error,
        };
        fs::create_dir_all(&self.dir).map_err(|e| err(&self.dir, e))?;
        let probe = self.dir.join(format!(".probe.{}", std::process::id()));
        File::create(&probe).map_err(|e| err(&self.dir, e))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        let state = HostState {
            v4: Some(Family {
                addr: "84.17.5.9".parse().unwrap(),
                seen_at: 1_764_000_000,
                ttl: Some(300),
                by: "alice".into(),
            }),
            v6: Some(Family {
                addr: "2a01:4f8::9".parse().unwrap(),
                seen_at: 1_764_000_001,
                ttl: None,
                by: "home.example.com".into(),
            }),
            changes: vec![1, 2, 3],
        };
        assert_eq!(HostState::parse(&state.render()), Some(state));
        assert_eq!(HostState::parse("garbage"), None);
        assert_eq!(
            HostState::parse("ddns-cgi-state 3\nA 2a01::1 1 - x\n"),
            None
        );
        assert_eq!(
            HostState::parse("ddns-cgi-state 3\nA 1.2.3.4 x - y\n"),
            None
        );
        assert_eq!(
            HostState::parse("ddns-cgi-state 3\nA 1.2.3.4 1 ttl y\n"),
            None
        );
        // An older layout is not guessed at.
        assert_eq!(HostState::parse("ddns-cgi-state 1\nA 1.2.3.4 1 y\n"), None);
    }

    #[test]
    fn user_names_cannot_add_lines_or_fields() {
        let state = HostState {
            v4: Some(Family {
                addr: "84.17.5.9".parse().unwrap(),
                seen_at: 5,
                ttl: None,
                by: "eve\nchanges\r\n50% a".into(),
            }),
            ..HostState::default()
        };
        let text = state.render();
        assert_eq!(
            text,
            "ddns-cgi-state 3\nA 84.17.5.9 5 - eve%0Achanges%0D%0A50%25%20a\n"
        );
        assert_eq!(HostState::parse(&text), Some(state));
        // Only the form render writes is read: a raw space, a lower-case or a needless escape.
        for by in ["a b", "a%0a", "%61"] {
            let text = format!("ddns-cgi-state 3\nA 1.2.3.4 1 - {by}\n");
            assert_eq!(HostState::parse(&text), None, "{by}");
        }
    }

    #[test]
    fn files_of_version_2_are_still_read() {
        let state = HostState::parse("ddns-cgi-state 2\nA 1.2.3.4 1 - al ice\nchanges 1\n");
        let v4 = state.unwrap().v4.unwrap();
        assert_eq!((v4.by.as_str(), v4.seen_at), ("al ice", 1));
    }

    #[test]
    fn saves_atomically_and_loads() {
        let dir = std::env::temp_dir().join(format!("ddns-state-unit-{}", std::process::id()));
        let store = Store::new(&dir);
        let host: Hostname = "home.example.com".parse().unwrap();
        assert_eq!(store.load(&host), None);
        let state = HostState {
            changes: vec![5],
            ..HostState::default()
        };
        store.save(&host, &state).unwrap();
        assert_eq!(store.load(&host), Some(state));
        let leftovers: Vec<_> = fs::read_dir(dir.join("hosts")).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_longest_host_names_can_be_saved() {
        let dir = std::env::temp_dir().join(format!("ddns-state-long-{}", std::process::id()));
        let store = Store::new(&dir);
        let name = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        let host: Hostname = name.parse().unwrap();
        assert_eq!(host.as_str().len(), 253);
        let state = HostState {
            changes: vec![7],
            ..HostState::default()
        };
        store.save(&host, &state).unwrap();
        assert_eq!(store.load(&host), Some(state));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
