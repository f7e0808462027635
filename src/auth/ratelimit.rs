//! Failed attempts per source address, so that nobody can guess passwords or secrets at the
//! rate a CGI can answer. Each address has a file under `state_dir/auth/` holding the times
//! of its recent failures; over `auth_fail_limit` within `auth_fail_window`, the request is
//! refused before any credential is checked.
//!
//! IPv6 clients are counted per /64, since one host usually holds a whole one. The files
//! hold only times: no user name, credential or hash.

use std::fs::{self, File};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::files;
use crate::state::{self, Durable, Store, StoreError};

/// The first line of a failure file.
const HEADER: &str = "ddns-cgi-auth-failures 1";

/// The failure count of one source.
pub struct Limiter<'a> {
    /// The state directory.
    pub store: &'a Store,
    /// Failures allowed within the window; 0 turns the limit off.
    pub limit: u32,
    /// The window, in seconds.
    pub window: u64,
    /// Unix seconds now.
    pub now: u64,
}

/// The file name for a source address: `v4-84.17.5.1`, `v6-2a01-4f8-0-0` (its /64), or
/// `unknown` for a missing or unparsable one, whose failures are then counted together.
pub fn source_key(addr: Option<&str>) -> String {
    match addr.and_then(|a| a.trim().parse::<IpAddr>().ok()) {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => {
            format!(
                "v4-{}",
                v6.to_ipv4_mapped()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)
            )
        }
        Some(IpAddr::V4(v4)) => format!("v4-{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("v6-{:x}-{:x}-{:x}-{:x}", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_string(),
    }
}

/// Past this many files in `state_dir/auth/`, files untouched for a whole window (whose
/// failures have all left it) are removed when a new source is counted.
pub const PRUNE_AT: usize = 1000;
/// The most sources counted at once: past this even after pruning, a new source is refused
/// unchecked, so that a flood of addresses cannot fill the disk.
pub const MAX_SOURCES: usize = 10_000;

/// May a credential be checked for this source?
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Yes; the attempt is already counted as a failure, to be taken back on success
    /// ([`Limiter::forgive`]).
    Counted,
    /// Yes, and nothing was counted: the limit is off.
    Unlimited,
    /// No: this many failures within the window.
    Blocked(usize),
}

/// Why an attempt could not be counted; the credential must then not be checked.
#[derive(Debug)]
pub enum LimitError {
    /// The state directory, `auth/`, its lock or a failure file cannot be used.
    Unusable(StoreError),
    /// The count could not be written (a full disk, say).
    Unrecorded(StoreError),
    /// [`MAX_SOURCES`] sources failed within the window.
    TooManySources(usize),
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitError::Unusable(e) => write!(f, "auth failure count: {e}"),
            LimitError::Unrecorded(e) => write!(
                f,
                "the attempt could not be counted ({e}); refusing without checking until the state_dir can be written"
            ),
            LimitError::TooManySources(n) => write!(
                f,
                "{n} source addresses failed credential checks within auth_fail_window (at most {MAX_SOURCES} are counted); refusing new ones without checking: an attack from many addresses, or a window too long"
            ),
        }
    }
}

impl Limiter<'_> {
    fn path(&self, key: &str) -> PathBuf {
        self.store.dir().join("auth").join(key)
    }

    /// The recent failures of `key` (within the window), oldest first. Only a missing
    /// directory or file means none: anything else unusable is an error, or the limit
    /// would be off.
    fn failures(&self, key: &str) -> Result<Vec<u64>, StoreError> {
        let dir = self.store.dir().join("auth");
        let access =
            files::Access::of(self.store.dir()).map_err(|e| StoreError::from((dir.as_path(), e)));
        let access = match access {
            Err(StoreError {
                error: files::FileError::Io(e),
                ..
            }) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other?,
        };
        if !files::dir_exists(&dir).map_err(|e| StoreError::from((dir.as_path(), e)))? {
            return Ok(Vec::new());
        }
        let path = self.path(key);
        let err = |e: files::FileError| StoreError::from((path.as_path(), e));
        let Some(file) = files::open_regular(&path, access).map_err(err)? else {
            return Ok(Vec::new());
        };
        let mut text = String::new();
        // Never more than `limit` lines of 20 digits are written.
        let _ = file.take(64 * 1024).read_to_string(&mut text);
        let oldest = self.now.saturating_sub(self.window);
        Ok(text
            .lines()
            .skip(1)
            .filter_map(|line| line.parse::<u64>().ok())
            .filter(|t| *t > oldest && *t <= self.now)
            .collect())
    }

    /// Whether `addr` has used up its failures: its request is then refused unchecked.
    pub fn blocked(&self, addr: Option<&str>) -> Result<Option<usize>, StoreError> {
        if self.limit == 0 {
            return Ok(None);
        }
        let count = self.failures(&source_key(addr))?.len();
        Ok((count >= self.limit as usize).then_some(count))
    }

    /// Takes `auth/.lock`, for one read-modify-write of a count.
    fn locked(&self) -> Result<(PathBuf, files::Access, File), StoreError> {
        let (dir, access) = self.store.subdir("auth")?;
        let lock_path = dir.join(".lock");
        let lock = files::open_lock(&lock_path, access)
            .map_err(|e| StoreError::from((lock_path.as_path(), e)))?;
        lock.lock()
            .map_err(|e| StoreError::from((lock_path.as_path(), e.into())))?;
        Ok((dir, access, lock))
    }

    /// Admits one check of `addr`'s credentials, counting it as a failure first, under the
    /// lock: parallel requests then cannot all pass a count none of them has raised yet.
    pub fn admit(&self, addr: Option<&str>) -> Result<Admission, LimitError> {
        self.admit_within(addr, PRUNE_AT, MAX_SOURCES)
    }

    fn admit_within(
        &self,
        addr: Option<&str>,
        prune_at: usize,
        max: usize,
    ) -> Result<Admission, LimitError> {
        if self.limit == 0 {
            return Ok(Admission::Unlimited);
        }
        let (dir, access, _lock) = self.locked().map_err(LimitError::Unusable)?;
        let key = source_key(addr);
        let mut times = self.failures(&key).map_err(LimitError::Unusable)?;
        if times.len() >= self.limit as usize {
            return Ok(Admission::Blocked(times.len()));
        }
        if times.is_empty() && !self.path(&key).exists() {
            let sources = self.make_room(&dir, prune_at);
            if sources >= max {
                return Err(LimitError::TooManySources(sources));
            }
        }
        times.push(self.now);
        self.write(&dir, &key, &times, access)
            .map_err(LimitError::Unrecorded)?;
        Ok(Admission::Counted)
    }

    /// Takes back the failure [`Limiter::admit`] counted for a check that succeeded.
    pub fn forgive(&self, addr: Option<&str>) -> Result<(), StoreError> {
        if self.limit == 0 {
            return Ok(());
        }
        let (dir, access, _lock) = self.locked()?;
        let key = source_key(addr);
        let mut times = self.failures(&key)?;
        match times.iter().rposition(|t| *t == self.now) {
            Some(at) => times.remove(at),
            None => return Ok(()),
        };
        self.write(&dir, &key, &times, access)
    }

    fn write(
        &self,
        dir: &Path,
        key: &str,
        times: &[u64],
        access: files::Access,
    ) -> Result<(), StoreError> {
        let keep = times.len().saturating_sub(self.limit as usize);
        let mut text = format!("{HEADER}\n");
        for t in &times[keep..] {
            text.push_str(&format!("{t}\n"));
        }
        // Not synced to disk, unlike a host's state: every request that checks a password
        // writes it twice (counted, then forgiven), and what a power cut could lose is a
        // window's failures, which an attacker cannot cause; a damaged file reads as none.
        state::replace(
            dir,
            &self.path(key),
            text.as_bytes(),
            access,
            Durable::Nothing,
        )
    }

    /// When `dir` holds more than `prune_at` failure files, removes those not written
    /// within the window. Returns how many remain.
    fn make_room(&self, dir: &Path, prune_at: usize) -> usize {
        let names = || {
            fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| {
                    let name = e.file_name();
                    name != ".lock" && !name.to_string_lossy().starts_with(".saving.")
                })
        };
        let count = names().count();
        if count <= prune_at {
            return count;
        }
        let oldest = self.now.saturating_sub(self.window);
        let stale = |e: &fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .is_some_and(|t| t.as_secs() <= oldest)
        };
        let removed = names()
            .filter(|e| stale(e) && fs::remove_file(e.path()).is_ok())
            .count();
        count - removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_named_safely() {
        assert_eq!(source_key(Some("84.17.5.1")), "v4-84.17.5.1");
        assert_eq!(source_key(Some("::ffff:84.17.5.1")), "v4-84.17.5.1");
        assert_eq!(source_key(Some("2a01:4f8:1:2:3:4:5:6")), "v6-2a01-4f8-1-2");
        assert_eq!(source_key(Some("2a01:4f8:1:2::9")), "v6-2a01-4f8-1-2");
        for odd in [None, Some(""), Some("../../etc/passwd"), Some("1.2.3.4/..")] {
            assert_eq!(source_key(odd), "unknown");
        }
    }

    #[test]
    fn the_limit_counts_within_the_window() {
        let dir = std::env::temp_dir().join(format!("ddns-ratelimit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = Store::new(&dir);
        let at = |now| Limiter {
            store: &store,
            limit: 3,
            window: 60,
            now,
        };
        let me = Some("84.17.5.1");
        for t in [100, 101, 102] {
            assert_eq!(at(t).admit(me).unwrap(), Admission::Counted);
        }
        assert_eq!(at(103).admit(me).unwrap(), Admission::Blocked(3));
        assert_eq!(at(103).blocked(me).unwrap(), Some(3));
        assert_eq!(at(103).blocked(Some("84.17.5.2")).unwrap(), None);
        // The oldest leaves the window.
        assert_eq!(at(160).blocked(me).unwrap(), None);
        assert_eq!(at(160).admit(me).unwrap(), Admission::Counted);
        assert_eq!(at(160).blocked(me).unwrap(), Some(3));
        let text = fs::read_to_string(dir.join("auth/v4-84.17.5.1")).unwrap();
        assert_eq!(text, format!("{HEADER}\n101\n102\n160\n"));
        // A success takes its own count back.
        at(160).forgive(me).unwrap();
        assert_eq!(at(160).blocked(me).unwrap(), None);
        let text = fs::read_to_string(dir.join("auth/v4-84.17.5.1")).unwrap();
        assert_eq!(text, format!("{HEADER}\n101\n102\n"));
        assert_eq!(at(161).blocked(me).unwrap(), None);
        let off = Limiter {
            limit: 0,
            ..at(161)
        };
        assert_eq!(off.blocked(me).unwrap(), None);
        assert_eq!(off.admit(me).unwrap(), Admission::Unlimited);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A limit of 3 failures per 60 s, at time 100.
    fn limiter_of(store: &Store) -> Limiter<'_> {
        Limiter {
            store,
            limit: 3,
            window: 60,
            now: 100,
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ddns-ratelimit-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn parallel_attempts_are_all_counted_before_any_check() {
        let dir = scratch("parallel");
        let store = Store::new(&dir);
        let limiter = limiter_of(&store);
        let admitted = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..40)
                .map(|_| scope.spawn(|| limiter.admit(Some("84.17.5.1")).unwrap()))
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .filter(|a| *a == Admission::Counted)
                .count()
        });
        assert_eq!(admitted, 3);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn stale_sources_are_pruned_and_too_many_refused() {
        let dir = scratch("prune");
        let store = Store::new(&dir);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let limiter = Limiter {
            store: &store,
            limit: 3,
            window: 60,
            now,
        };
        let addr = |i: usize| format!("10.0.0.{i}");
        for i in 0..6 {
            let admitted = limiter.admit_within(Some(&addr(i)), 4, 6).unwrap();
            assert_eq!(admitted, Admission::Counted);
        }
        // Full: a new source is refused, a counted one still counted.
        let refused = limiter.admit_within(Some("10.0.1.1"), 4, 6).unwrap_err();
        assert!(
            matches!(refused, LimitError::TooManySources(6)),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("refusing new ones"),
            "{refused}"
        );
        assert_eq!(
            limiter.admit_within(Some(&addr(0)), 4, 6).unwrap(),
            Admission::Counted
        );
        // Two files untouched for longer than the window go; the others stay.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
        for i in [1, 2] {
            let file = File::options()
                .write(true)
                .open(dir.join("auth").join(source_key(Some(&addr(i)))))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        assert_eq!(
            limiter.admit_within(Some("10.0.1.1"), 4, 6).unwrap(),
            Admission::Counted
        );
        let mut left: Vec<String> = fs::read_dir(dir.join("auth"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let expected = [
            ".lock",
            "v4-10.0.0.0",
            "v4-10.0.0.3",
            "v4-10.0.0.4",
            "v4-10.0.0.5",
            "v4-10.0.1.1",
        ];
        assert_eq!(left, expected);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unusable_state_dir_never_means_no_failures() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("unusable");
        let store = Store::new(&dir);
        let limiter = limiter_of(&store);
        let me = Some("84.17.5.1");
        // Missing: nothing failed yet.
        assert_eq!(limiter.blocked(me).unwrap(), None);
        assert_eq!(limiter.admit(me).unwrap(), Admission::Counted);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let err = limiter.blocked(me).unwrap_err();
        assert!(matches!(err.error, files::FileError::OpenToAll), "{err}");
        let err = limiter.admit(me).unwrap_err();
        assert!(matches!(err, LimitError::Unusable(_)), "{err}");
        assert!(err.to_string().contains("chmod o-w"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
