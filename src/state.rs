//! What ddns-cgi remembers between requests, per host name: the last address set for each
//! family (when, by whom) and when the host last changed. Each CGI request is a new process,
//! so this lives in small files in the state directory.
//!
//! Files are replaced atomically (write a temporary file, fsync, rename), so a reader sees
//! the old state or the new one, never half of either. A missing file only means "ask the
//! registrar". A file that is there but cannot be used is told apart from a missing one:
//! the abuse limit must not be reset by damaging a host's file.

use std::fs::{self, File, Permissions};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::files::{self, Access, FileError};
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

/// One ACME challenge value ddns-cgi added to a host's TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtEntry {
    /// The value, as checked by [`crate::core::txt::TxtValue`].
    pub value: String,
    /// Unix seconds when it was added (or added again).
    pub set_at: u64,
    /// The user whose request added it: only they may remove it before it is stale.
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
    /// Challenge TXT values ddns-cgi added and has not removed yet, oldest first.
    pub txt: Vec<TxtEntry>,
}

/// The current layout. A host with challenge TXT values needs `TXT` lines, which only
/// version 4 has; without them a file is written as version 3, which older ddns-cgi reads
/// too. Files of version 2 (version 3 with the user unencoded) are still read; any other
/// text is damaged state.
const HEADER: &str = "ddns-cgi-state 3";
const HEADER_TXT: &str = "ddns-cgi-state 4";
const HEADER_V2: &str = "ddns-cgi-state 2";

/// Bytes of a user name written as `%XX`: every byte that is not printable ASCII (so no
/// input can add a line or a field), the space that separates fields, and `%` itself.
const USER_BYTES: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

/// A state file is a few lines; one with `abuse_limit` at its maximum stays below 3 MB.
const MAX_SIZE: u64 = 4 << 20;

impl HostState {
    /// The state file's text: one line per family and one for the changes, whatever the
    /// user name holds.
    pub fn render(&self) -> String {
        let header = if self.txt.is_empty() {
            HEADER
        } else {
            HEADER_TXT
        };
        let mut out = format!("{header}\n");
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
        for entry in &self.txt {
            let by = utf8_percent_encode(&entry.by, USER_BYTES);
            out.push_str(&format!("TXT {} {} {by}\n", entry.value, entry.set_at));
        }
        out
    }

    /// Reads a state file's text; None when it is not one of ours.
    pub fn parse(text: &str) -> Option<HostState> {
        let mut lines = text.lines();
        let header = lines.next()?;
        let user: fn(std::str::Split<'_, char>) -> Option<String> = match header {
            HEADER | HEADER_TXT => decode_user,
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
                "TXT" if header == HEADER_TXT => {
                    let value = words.next()?;
                    crate::core::txt::TxtValue::parse(value).ok()?;
                    let set_at = words.next()?.parse().ok()?;
                    state.txt.push(TxtEntry {
                        value: value.to_string(),
                        set_at,
                        by: decode_user(words)?,
                    });
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
    /// What went wrong.
    pub error: FileError,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match &self.error {
            FileError::Io(e) => write!(
                f,
                "cannot write {path} ({e}); the state_dir must exist and be writable by the web server's user (e.g. chown www-data)"
            ),
            FileError::OpenToAll => write!(f, "{path} {}; nothing was changed", self.error),
            other => write!(
                f,
                "{path} {other}, which ddns-cgi does not use in the state_dir (one planted there could make it write elsewhere or hang); remove it"
            ),
        }
    }
}

impl From<(&Path, FileError)> for StoreError {
    fn from((path, error): (&Path, FileError)) -> StoreError {
        StoreError {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// A state file (or the directory of them) that is there but cannot be used: not ours,
/// damaged, unreadable, a link or not a regular file.
#[derive(Debug)]
pub struct Damaged {
    /// The file or directory.
    pub path: PathBuf,
    /// What is wrong; None when the text is not a state file.
    pub error: Option<FileError>,
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Some(e) => write!(f, "state {} {e}", self.path.display()),
            None => write!(
                f,
                "state {} is damaged or of an unknown version",
                self.path.display()
            ),
        }
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

    /// The state directory, made when missing, and who may share what is made in it.
    fn access(&self) -> Result<Access, StoreError> {
        let err = |error: std::io::Error| StoreError::from((self.dir.as_path(), error.into()));
        if !self.dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(files::PRIVATE_DIR_MODE)
                .create(&self.dir)
                .map_err(err)?;
            fs::set_permissions(&self.dir, Permissions::from_mode(files::PRIVATE_DIR_MODE))
                .map_err(err)?;
        }
        Access::of(&self.dir).map_err(|e| StoreError::from((self.dir.as_path(), e)))
    }

    /// `name` inside the state directory, made when missing, and who may share its files.
    pub fn subdir(&self, name: &str) -> Result<(PathBuf, Access), StoreError> {
        let access = self.access()?;
        let dir = self.dir.join(name);
        files::ensure_dir(&dir, access).map_err(|e| StoreError::from((dir.as_path(), e)))?;
        Ok((dir, access))
    }

    /// The remembered state: None when there is none, Damaged when a file is there that
    /// cannot be used.
    pub fn load(&self, host: &Hostname) -> Result<Option<HostState>, Damaged> {
        let damaged = |path: &Path, error| Damaged {
            path: path.to_path_buf(),
            error,
        };
        // A state_dir the web server's user cannot search, or one open to every local user,
        // is reported with the fix when the zone's lock is taken in it; nothing is changed
        // before that.
        let Ok(access) = Access::of(&self.dir) else {
            return Ok(None);
        };
        let hosts = self.dir.join("hosts");
        match files::dir_exists(&hosts) {
            Ok(true) => {}
            Ok(false) | Err(FileError::Io(_)) => return Ok(None),
            Err(e) => return Err(damaged(&hosts, Some(e))),
        }
        // Whoever owns hosts/ could replace any state in it.
        files::check_dir(&hosts, access).map_err(|e| damaged(&hosts, Some(e)))?;
        let path = self.host_path(host);
        let Some(file) = files::open_regular(&path, access).map_err(|e| damaged(&path, Some(e)))?
        else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(MAX_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| damaged(&path, Some(e.into())))?;
        String::from_utf8(bytes)
            .ok()
            .filter(|text| text.len() as u64 <= MAX_SIZE)
            .and_then(|text| HostState::parse(&text))
            .map(Some)
            .ok_or_else(|| damaged(&path, None))
    }

    /// Replaces the state atomically: other processes see the new state at once, and its
    /// content is on disk. That the file is the new one survives a power cut only once
    /// [`Store::sync`] has run.
    pub fn save(&self, host: &Hostname, state: &HostState) -> Result<(), StoreError> {
        let (dir, access) = self.subdir("hosts")?;
        let path = self.host_path(host);
        replace(
            &dir,
            &path,
            state.render().as_bytes(),
            access,
            Durable::Content,
        )
    }

    /// Makes the saves so far durable: a rename is once the directory's entries are.
    pub fn sync(&self) -> Result<(), StoreError> {
        let dir = self.dir.join("hosts");
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::from((dir.as_path(), e.into())))
    }

    /// Checks that the directory can be written, as `check-config` reports it.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let access = self.access()?;
        let (_, probe) = files::create_temp(&self.dir, ".probe.", access)
            .map_err(|e| StoreError::from((self.dir.as_path(), e.into())))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }
}

/// How much of a replaced file must be on disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durable {
    /// Its content (the directory entry follows with [`Store::sync`]).
    Content,
    /// Nothing: a file whose loss on a power cut costs nothing that matters.
    Nothing,
}

/// Replaces `path` in `dir` atomically with `text`: written to a temporary file of an
/// unpredictable name first, then renamed over whatever has the name (a planted link
/// included, never its target), so other processes see the old file or the new one.
pub fn replace(
    dir: &Path,
    path: &Path,
    text: &[u8],
    access: files::Access,
    durable: Durable,
) -> Result<(), StoreError> {
    // Not named after the target: a host name of 253 characters plus any decoration would
    // pass the 255-byte limit of a file name.
    let (mut file, temp) = files::create_temp(dir, ".saving.", access)
        .map_err(|e| StoreError::from((dir, e.into())))?;
    let mut write = || -> std::io::Result<()> {
        file.write_all(text)?;
        if durable == Durable::Content {
            file.sync_all()?;
        }
        fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&temp);
        StoreError::from((path, e.into()))
    })
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
            txt: Vec::new(),
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
    fn challenge_values_need_version_4_and_round_trip() {
        let value = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
        let state = HostState {
            txt: vec![TxtEntry {
                value: value.into(),
                set_at: 9,
                by: "al ice".into(),
            }],
            ..HostState::default()
        };
        let text = state.render();
        assert_eq!(text, format!("ddns-cgi-state 4\nTXT {value} 9 al%20ice\n"));
        assert_eq!(HostState::parse(&text), Some(state));
        let v3 = format!("ddns-cgi-state 3\nTXT {value} 9 alice\n");
        assert_eq!(HostState::parse(&v3), None);
        let bad = "ddns-cgi-state 4\nTXT not-a-challenge-value 9 alice\n";
        assert_eq!(HostState::parse(bad), None);
        assert!(
            HostState::default()
                .render()
                .starts_with("ddns-cgi-state 3\n")
        );
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
        assert!(matches!(store.load(&host), Ok(None)));
        let state = HostState {
            changes: vec![5],
            ..HostState::default()
        };
        store.save(&host, &state).unwrap();
        assert_eq!(store.load(&host).unwrap(), Some(state));
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
        assert_eq!(store.load(&host).unwrap(), Some(state));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
