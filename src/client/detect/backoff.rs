//! Providers that answered 403 or 429, and until when they are left alone; and how many
//! runs in a row each provider failed, since lists of providers rot. A file in the state
//! directory, so the next cron run remembers it.
//!
//! One line per provider, `UNTIL URL` (UNTIL in seconds since the epoch) or
//! `failed RUNS URL`. A file that cannot be read is taken as empty: at worst a refusing
//! provider is asked once more, or a dead one is warned about later.

use std::collections::BTreeMap;
use std::io::Read;

use crate::files;
use crate::state::{self, Durable, Store, StoreError};

/// The file's name inside `<state_dir>/client/`.
const FILE: &str = "provider-backoff";

/// Provider URL → the time (seconds since the epoch) until which it is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    until: BTreeMap<String, u64>,
    failed: BTreeMap<String, u32>,
}

/// After this many failed runs in a row a provider is reported as probably gone.
pub const GONE_AFTER: u32 = 10;

impl Backoff {
    /// Reads the list; entries already over are dropped.
    pub fn load(store: &Store, now: u64) -> Backoff {
        let Ok((dir, access)) = store.subdir("client") else {
            return Backoff::default();
        };
        let mut text = String::new();
        if let Ok(Some(file)) = files::open_regular(&dir.join(FILE), access) {
            let _ = file.take(64 * 1024).read_to_string(&mut text);
        }
        Backoff::parse(&text, now)
    }

    fn parse(text: &str, now: u64) -> Backoff {
        let mut backoff = Backoff::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("failed ") {
                if let Some((runs, url)) = rest.split_once(' ')
                    && let Ok(runs) = runs.parse::<u32>()
                {
                    backoff.failed.insert(url.to_string(), runs);
                }
            } else if let Some((until, url)) = line.split_once(' ')
                && let Ok(until) = until.parse::<u64>()
                && until > now
            {
                backoff.until.insert(url.to_string(), until);
            }
        }
        backoff
    }

    /// Counts a run in which `url` was asked: a failure adds one to its streak, an answer
    /// ends it. Gives the streak, and whether anything changed.
    pub fn count(&mut self, url: &str, failed: bool) -> (u32, bool) {
        if !failed {
            return (0, self.failed.remove(url).is_some());
        }
        let runs = self.failed.entry(url.to_string()).or_insert(0);
        *runs = runs.saturating_add(1);
        (*runs, true)
    }

    /// Until when `url` is skipped, if it is.
    pub fn until(&self, url: &str) -> Option<u64> {
        self.until.get(url).copied()
    }

    /// Skips `url` until `until` (a later time already set wins).
    pub fn add(&mut self, url: &str, until: u64) {
        let entry = self.until.entry(url.to_string()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Writes the list back, atomically.
    pub fn save(&self, store: &Store) -> Result<(), StoreError> {
        let (dir, access) = store.subdir("client")?;
        let path = dir.join(FILE);
        let until = self
            .until
            .iter()
            .map(|(url, until)| format!("{until} {url}\n"));
        let failed = self
            .failed
            .iter()
            .map(|(url, runs)| format!("failed {runs} {url}\n"));
        let text: String = until.chain(failed).collect();
        state::replace(&dir, &path, text.as_bytes(), access, Durable::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_over_are_dropped_and_later_ones_win() {
        let mut b = Backoff::parse("100 http://a/\n300 http://b/\nrubbish\n", 200);
        assert_eq!(b.until("http://a/"), None);
        assert_eq!(b.until("http://b/"), Some(300));
        b.add("http://b/", 250);
        assert_eq!(b.until("http://b/"), Some(300));
        b.add("http://b/", 400);
        assert_eq!(b.until("http://b/"), Some(400));
    }

    #[test]
    fn a_failure_streak_is_kept_until_an_answer_ends_it() {
        let mut b = Backoff::parse("failed 9 https://a/\n400 https://b/\n", 200);
        assert_eq!(b.count("https://a/", true), (10, true));
        assert_eq!(b.count("https://c/", true), (1, true));
        assert_eq!(b.count("https://c/", false), (0, true));
        assert_eq!(b.count("https://c/", false), (0, false));
        assert_eq!(b.until("https://b/"), Some(400));
        assert_eq!(b.failed.get("https://a/"), Some(&10));
        assert_eq!(b.failed.get("https://c/"), None);
    }
}
