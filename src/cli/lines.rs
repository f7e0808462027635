//! The command line's stdout: one line per host and record type that changed or failed,
//! first word in the NoIP vocabulary (`good`, `nochg`, `nohost`, `dnserr`, `911`, …), so
//! cron mails only when something happened.

use crate::core::operation::{Operation, RrType};
use crate::core::{Outcome, Replaced};
use crate::hostname::Hostname;
use crate::protocol::noip;

/// One printed line, and whether it is shown only with `-v` (a `nochg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text, without the line break.
    pub text: String,
    /// Only with `-v`.
    pub verbose_only: bool,
}

/// The lines for one host: per operation, what became of its record type.
pub fn of_host(
    host: &Hostname,
    operations: &[Operation],
    outcome: Outcome,
    replaced: &Replaced,
) -> Vec<Line> {
    operations
        .iter()
        .map(|op| {
            let rr = op.rr_type();
            let previous = match rr {
                RrType::A => replaced.v4.as_ref(),
                RrType::Aaaa => replaced.v6.as_ref(),
                // The command line sets no challenge values.
                RrType::Txt => None,
            };
            match (outcome, previous, op) {
                (Outcome::Changed, Some(was), Operation::Set(addr)) => line(
                    format!("good {host} {rr} {addr} (was {})", was_text(was)),
                    false,
                ),
                (Outcome::Changed, Some(was), Operation::Delete(_)) => line(
                    format!("good {host} {rr} deleted (was {})", was_text(was)),
                    false,
                ),
                (Outcome::Changed | Outcome::Unchanged, _, Operation::Set(addr)) => {
                    line(format!("nochg {host} {rr} {addr}"), true)
                }
                (Outcome::Changed | Outcome::Unchanged, _, Operation::Delete(_)) => {
                    line(format!("nochg {host} {rr} (no record)"), true)
                }
                (failed, _, _) => line(format!("{} {host} {rr}", noip::word(failed)), false),
            }
        })
        .collect()
}

/// A dry run's line: what would be written, and what the record holds as far as known.
pub fn would_update(host: &Hostname, op: &Operation, was: Option<String>) -> Line {
    let was = was.unwrap_or_else(|| "unknown: the registrar is not asked in a dry run".into());
    let what = match op {
        Operation::Set(addr) => addr.to_string(),
        Operation::Delete(_) => "deleted".to_string(),
        Operation::SetPrefix(prefix) => prefix.to_string(),
        Operation::TxtAdd(value) | Operation::TxtRemove(value) => value.to_string(),
        Operation::TxtClear => "removed".to_string(),
    };
    line(
        format!("would-update {host} {} {what} (was {was})", op.rr_type()),
        false,
    )
}

fn was_text(values: &[String]) -> String {
    match values {
        [] => "none".to_string(),
        values => values.join(","),
    }
}

fn line(text: String, verbose_only: bool) -> Line {
    Line { text, verbose_only }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::PerFamily;

    #[test]
    fn changed_families_say_what_they_replaced() {
        let host: Hostname = "home.example.com".parse().unwrap();
        let ops = [
            Operation::Set("84.17.5.7".parse().unwrap()),
            Operation::Set("2a02:810d:4a40::7".parse().unwrap()),
        ];
        let replaced = PerFamily {
            v4: Some(vec!["84.17.5.4".to_string()]),
            v6: None,
        };
        let lines = of_host(&host, &ops, Outcome::Changed, &replaced);
        assert_eq!(
            lines[0].text,
            "good home.example.com A 84.17.5.7 (was 84.17.5.4)"
        );
        assert_eq!(
            lines[1].text,
            "nochg home.example.com AAAA 2a02:810d:4a40::7"
        );
        assert!(lines[1].verbose_only);
        let lines = of_host(&host, &ops[..1], Outcome::NoRecord, &PerFamily::default());
        assert_eq!(lines[0].text, "nohost home.example.com A");
        let created = PerFamily {
            v4: None,
            v6: Some(Vec::new()),
        };
        let lines = of_host(&host, &ops[1..], Outcome::Changed, &created);
        assert_eq!(
            lines[0].text,
            "good home.example.com AAAA 2a02:810d:4a40::7 (was none)"
        );
    }
}
