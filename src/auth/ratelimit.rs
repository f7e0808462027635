//! Failed attempts per source address, so that nobody can guess passwords or secrets at the
//! rate a CGI can answer. Each address has a file under `state_dir/auth/` holding the times
//! of its recent failures; over `auth_fail_limit` within `auth_fail_window`, the request is
//! refused before any credential is checked.
//!
//! IPv6 clients are counted per /64, since one host usually holds a whole one. The files
//! hold only times: no user name, credential or hash.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::files;
use crate::state::{Store, StoreError};

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

impl Limiter<'_> {
    fn path(&self, key: &str) -> PathBuf {
        self.store.dir().join("auth").join(key)
    }

    /// The recent failures of `key` (within the window), oldest first.
    fn failures(&self, key: &str) -> Result<Vec<u64>, StoreError> {
        let dir = self.store.dir().join("auth");
        let Ok(access) = files::Access::of(self.store.dir()) else {
            return Ok(Vec::new());
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

    /// Counts one failure of `addr`. Under a lock, so that concurrent failures all count.
    pub fn record(&self, addr: Option<&str>) -> Result<(), StoreError> {
        if self.limit == 0 {
            return Ok(());
        }
        let (dir, access) = self.store.subdir("auth")?;
        let lock_path = dir.join(".lock");
        let lock = files::open_lock(&lock_path, access)
            .map_err(|e| StoreError::from((lock_path.as_path(), e)))?;
        lock.lock()
            .map_err(|e| StoreError::from((lock_path.as_path(), e.into())))?;
        let key = source_key(addr);
        let mut times = self.failures(&key)?;
        times.push(self.now);
        let keep = times.len().saturating_sub(self.limit as usize);
        let mut text = format!("{HEADER}\n");
        for t in &times[keep..] {
            text.push_str(&format!("{t}\n"));
        }
        replace(&dir, &self.path(&key), &text, access)
    }
}

/// Replaces `path` atomically with `text`, as the host state is replaced.
fn replace(dir: &Path, path: &Path, text: &str, access: files::Access) -> Result<(), StoreError> {
    let (mut file, temp) = files::create_temp(dir, ".saving.", access)
        .map_err(|e| StoreError::from((dir, e.into())))?;
    let mut write = || -> std::io::Result<()> {
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
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
            assert_eq!(at(t).blocked(me).unwrap(), None);
            at(t).record(me).unwrap();
        }
        assert_eq!(at(103).blocked(me).unwrap(), Some(3));
        assert_eq!(at(103).blocked(Some("84.17.5.2")).unwrap(), None);
        // The oldest leaves the window.
        assert_eq!(at(160).blocked(me).unwrap(), None);
        at(160).record(me).unwrap();
        assert_eq!(at(160).blocked(me).unwrap(), Some(3));
        assert_eq!(at(161).blocked(me).unwrap(), None);
        let text = fs::read_to_string(dir.join("auth/v4-84.17.5.1")).unwrap();
        assert_eq!(text, format!("{HEADER}\n101\n102\n160\n"));
        let off = Limiter {
            limit: 0,
            ..at(161)
        };
        assert_eq!(off.blocked(me).unwrap(), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
