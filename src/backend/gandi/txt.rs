//! Challenge TXT values at Gandi (gandi-livedns.md §4): the values of a name are one TXT
//! rrset, each stored wrapped in double quotes. Adding or removing one value reads the
//! rrset and writes all of its values back, the others exactly as read; the zone's lock
//! keeps two requests of ddns-cgi from losing each other's values.

use super::{Gandi, MIN_TTL, RrsetBody};
use crate::backend::{BackendError, PerFamily, RecordChange, RecordOutcome};
use crate::core::txt;
use crate::log::Log;

/// A value as Gandi stores it: `"v"`.
fn quoted(value: &str) -> String {
    format!("\"{value}\"")
}

/// A stored value's text: without the quotes Gandi adds.
pub(super) fn unquoted(stored: &str) -> &str {
    let trimmed = stored.trim();
    trimmed
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(trimmed)
}

impl Gandi {
    /// Adds and removes the challenge values of one name, keeping every other value.
    pub(super) fn apply_txt(
        &self,
        zone: &str,
        record: &RecordChange,
        log: &Log,
    ) -> Result<RecordOutcome, BackendError> {
        let (add, remove) = txt::edits(&record.operations);
        let current = self.read_for_write(zone, record, "TXT")?;
        let stored = current
            .as_ref()
            .map(|c| c.rrset_values.clone())
            .unwrap_or_default();
        let mut values: Vec<String> = stored
            .iter()
            .filter(|v| !remove.iter().any(|r| r.as_str() == unquoted(v)))
            .cloned()
            .collect();
        for value in add {
            if !values.iter().any(|v| unquoted(v) == value.as_str()) {
                values.push(quoted(value.as_str()));
            }
        }
        if values == stored {
            return Ok(RecordOutcome::Unchanged);
        }
        if values.is_empty() {
            self.delete(zone, record, "TXT", log)?;
        } else {
            // An rrset ddns-cgi creates gets Gandi's shortest TTL; one that exists keeps its.
            let ttl = current.and_then(|c| c.rrset_ttl).unwrap_or(MIN_TTL);
            let body = RrsetBody {
                rrset_ttl: Some(self.clamp_ttl(ttl, &record.host, log)),
                rrset_values: values,
            };
            self.put_rrset(zone, record, "TXT", &body, log)?;
        }
        Ok(RecordOutcome::Changed {
            previous: PerFamily::default(),
            written_ttl: PerFamily::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_read_without_their_quotes() {
        assert_eq!(unquoted("\"abc\""), "abc");
        assert_eq!(unquoted(" \"abc\" "), "abc");
        assert_eq!(unquoted("abc"), "abc");
        assert_eq!(unquoted("\""), "\"");
        assert_eq!(quoted("abc"), "\"abc\"");
    }
}
