//! Challenge TXT values by DNS UPDATE: the name's TXT records are read with a signed
//! query, then each value to add is one record added and each value to remove one record
//! deleted (RFC 2136 §2.5.1 and §2.5.4), so the other values at the name are never
//! touched, whoever put them there. Adding a record that exists and deleting one that does
//! not change nothing at the server, so a retried UPDATE does no harm.

use super::wire::{self, CLASS_IN, CLASS_NONE, Rr, TYPE_CNAME};
use super::{Action, Answer, Plan, Rfc2136, Step, random_id};
use crate::backend::{BackendError, RecordChange, RecordOutcome};
use crate::core::txt;

/// Text records.
pub const TYPE_TXT: u16 = 16;

/// The TTL of a challenge record ddns-cgi adds: a minute, so that no resolver keeps a
/// value long past its challenge.
pub const CREATED_TTL: u32 = 60;

/// One value as TXT data: a single character-string (our values are 43 bytes).
fn rdata(value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
    out
}

/// A record's strings joined, as a TXT value is compared; None for data that does not
/// parse as character-strings.
fn text(rdata: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let mut rest = rdata;
    while let Some((&len, tail)) = rest.split_first() {
        let chunk = tail.get(..usize::from(len))?;
        out.extend_from_slice(chunk);
        rest = &tail[usize::from(len)..];
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

impl Rfc2136 {
    /// The TXT values at the host, or the outcome refusing it (a CNAME).
    fn read_txt(
        &self,
        zone: &str,
        record: &RecordChange,
        now: u64,
    ) -> Result<Result<Vec<String>, RecordOutcome>, BackendError> {
        let what = format!("reading TXT of {}", record.host);
        let qname = wire::name(record.host.as_str())
            .map_err(|_| self.failure(format!("{what}: not a DNS name")))?;
        let Answer::Done(m) =
            self.exchange(wire::query(random_id(), &qname, TYPE_TXT), now, &what, zone)?
        else {
            return Err(self.failure(format!("{what}: unexpected answer")));
        };
        if !m.authoritative {
            return Err(BackendError::NotServed {
                registrar: self.label.clone(),
                detail: format!(
                    "{what}: {} does not answer for zone {zone} with authority (or the name is delegated elsewhere); set server to the zone's primary",
                    self.server()
                ),
            });
        }
        let mine: Vec<_> = m.answers.iter().filter(|r| r.owner == qname).collect();
        if mine.iter().any(|r| r.rtype == TYPE_CNAME) {
            return Ok(Err(RecordOutcome::Alias { rr_type: "TXT" }));
        }
        let mut values = Vec::new();
        for r in mine
            .iter()
            .filter(|r| r.rtype == TYPE_TXT && r.class == CLASS_IN)
        {
            let value = text(&r.rdata)
                .ok_or_else(|| self.failure(format!("{what}: TXT data that is not text")))?;
            values.push(value);
        }
        Ok(Ok(values))
    }

    /// The TXT values at the host as text; none beside a CNAME, which the write that
    /// follows refuses with its own words.
    pub(super) fn current_txt(
        &self,
        zone: &str,
        record: &RecordChange,
        now: u64,
    ) -> Result<Vec<String>, BackendError> {
        Ok(self.read_txt(zone, record, now)?.unwrap_or_default())
    }

    /// What the challenge values of one record take: its plan, and the records to add and
    /// delete in the zone's UPDATE.
    pub(super) fn decide_txt(
        &self,
        zone: &str,
        record: &RecordChange,
        now: u64,
    ) -> Result<(Plan, Vec<Rr>), BackendError> {
        let current = match self.read_txt(zone, record, now)? {
            Ok(values) => values,
            Err(refused) => return Ok((Err(refused), Vec::new())),
        };
        let owner = wire::name(record.host.as_str())
            .map_err(|_| self.failure(format!("{} is not a DNS name", record.host)))?;
        let (add, remove) = txt::edits(&record.operations);
        let rr = |class, ttl, value: &str| Rr {
            owner: owner.clone(),
            rtype: TYPE_TXT,
            class,
            ttl,
            rdata: rdata(value),
        };
        let mut updates = Vec::new();
        for value in add
            .iter()
            .filter(|v| !current.iter().any(|c| c == v.as_str()))
        {
            updates.push(rr(CLASS_IN, CREATED_TTL, value.as_str()));
        }
        for value in remove
            .iter()
            .filter(|v| current.iter().any(|c| c == v.as_str()))
        {
            updates.push(rr(CLASS_NONE, 0, value.as_str()));
        }
        let steps = match updates.is_empty() {
            true => Vec::new(),
            false => vec![Step {
                rtype: TYPE_TXT,
                rr_name: "TXT",
                current: Vec::new(),
                action: Action::Edited,
            }],
        };
        Ok((Ok(steps), updates))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_one_character_string() {
        let data = rdata("abc");
        assert_eq!(data, b"\x03abc");
        assert_eq!(text(&data).as_deref(), Some("abc"));
        assert_eq!(text(b"\x02ab\x01c").as_deref(), Some("abc"));
        assert_eq!(text(b"").as_deref(), Some(""));
        assert_eq!(text(b"\x05ab"), None);
    }
}
