//! The consensus rule for `web`: ask a few providers at once, and accept an address once
//! `quorum` of them agree and it holds two thirds of the valid answers so far. Invalid
//! answers never vote; one odd answer is outvoted, two block the change.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::web::Answer;
use crate::client::settings::Provider;

/// What the consensus needs besides the providers.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Agreeing answers needed.
    pub quorum: usize,
    /// Providers started at most.
    pub max_queries: usize,
    /// The whole detection.
    pub deadline: Duration,
}

/// One provider's answer, for the log and `detect`.
#[derive(Debug, Clone)]
pub struct Asked {
    /// Which provider.
    pub provider: Provider,
    /// What it said.
    pub answer: Answer,
}

/// How the consensus ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This address, with its votes and the valid answers counted.
    Agreed {
        /// The address.
        addr: IpAddr,
        /// Answers naming it.
        votes: usize,
        /// Valid answers in all.
        valid: usize,
    },
    /// Too few valid answers.
    TooFew {
        /// Valid answers.
        valid: usize,
        /// Providers asked.
        asked: usize,
    },
    /// Enough answers, but they do not agree.
    Disagree {
        /// Each address with its votes, most first.
        votes: Vec<(IpAddr, usize)>,
    },
    /// `detect_timeout` was over first.
    Timeout {
        /// Valid answers by then.
        valid: usize,
        /// Providers asked by then.
        asked: usize,
    },
}

/// Runs the rule over `providers` (already in the order to ask), with `ask` doing one
/// request. Requests still running at the decision are abandoned.
pub fn consensus<F>(providers: &[Provider], rule: Rule, ask: F) -> (Verdict, Vec<Asked>)
where
    F: Fn(&Provider) -> Answer + Send + Sync + 'static,
{
    let ask = Arc::new(ask);
    let started = Instant::now();
    let (send, receive) = mpsc::channel::<Asked>();
    let mut queue = providers.iter().take(rule.max_queries).cloned();
    let mut in_flight = 0;
    let mut start_next = |in_flight: &mut usize| -> bool {
        let Some(provider) = queue.next() else {
            return false;
        };
        let (ask, send) = (Arc::clone(&ask), send.clone());
        std::thread::spawn(move || {
            let answer = ask(&provider);
            let _ = send.send(Asked { provider, answer });
        });
        *in_flight += 1;
        true
    };
    let mut asked: Vec<Asked> = Vec::new();
    let mut votes: Vec<(IpAddr, usize)> = Vec::new();
    loop {
        // More questions only while the ones in flight could not decide it even if they
        // all agreed with the leading address; at most `quorum` at a time.
        while in_flight < rule.quorum && !may_decide(&votes, in_flight, rule.quorum) {
            if !start_next(&mut in_flight) {
                break;
            }
        }
        if in_flight == 0 {
            break;
        }
        let left = rule.deadline.saturating_sub(started.elapsed());
        let Ok(one) = receive.recv_timeout(left) else {
            let valid = votes.iter().map(|(_, n)| n).sum();
            return (
                Verdict::Timeout {
                    valid,
                    asked: asked.len() + in_flight,
                },
                asked,
            );
        };
        in_flight -= 1;
        if let Ok(addr) = one.answer.result {
            match votes.iter_mut().find(|(a, _)| *a == addr) {
                Some((_, n)) => *n += 1,
                None => votes.push((addr, 1)),
            }
        }
        asked.push(one);
        if let Some(verdict) = decide(&votes, rule.quorum) {
            return (verdict, asked);
        }
    }
    votes.sort_by_key(|v| std::cmp::Reverse(v.1));
    let valid: usize = votes.iter().map(|(_, n)| n).sum();
    let verdict = if votes.len() > 1 && valid >= rule.quorum {
        Verdict::Disagree { votes }
    } else {
        Verdict::TooFew {
            valid,
            asked: asked.len(),
        }
    };
    (verdict, asked)
}

/// Whether the answers in flight, all naming the leading address, would accept it.
fn may_decide(votes: &[(IpAddr, usize)], in_flight: usize, quorum: usize) -> bool {
    let valid: usize = votes.iter().map(|(_, n)| n).sum::<usize>() + in_flight;
    let best = votes.iter().map(|(_, n)| *n).max().unwrap_or(0) + in_flight;
    in_flight > 0 && best >= quorum && 3 * best >= 2 * valid
}

/// The address accepted by the votes so far, if any: `quorum` votes and two thirds.
fn decide(votes: &[(IpAddr, usize)], quorum: usize) -> Option<Verdict> {
    let valid: usize = votes.iter().map(|(_, n)| n).sum();
    votes
        .iter()
        .find(|(_, n)| *n >= quorum && 3 * n >= 2 * valid)
        .map(|(addr, n)| Verdict::Agreed {
            addr: *addr,
            votes: *n,
            valid,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::settings::Format;

    fn run(answers: &[&str], quorum: usize, max: usize) -> (Verdict, usize) {
        let providers: Vec<Provider> = answers
            .iter()
            .map(|a| Provider {
                url: a.to_string(),
                format: Format::Text,
            })
            .collect();
        // One at a time, so the order of the answers is the order of the list.
        let rule = Rule {
            quorum,
            max_queries: max,
            deadline: Duration::from_secs(5),
        };
        let (verdict, asked) = consensus(&providers, rule, |p: &Provider| {
            let index = p.url.len();
            std::thread::sleep(Duration::from_millis(5 * index as u64));
            Answer {
                status: Some(200),
                result: p
                    .url
                    .split('#')
                    .next()
                    .unwrap()
                    .parse()
                    .map_err(|_| "bad".to_string()),
                elapsed: Duration::ZERO,
                backoff: None,
            }
        });
        (verdict, asked.len())
    }

    #[test]
    fn two_agreeing_answers_and_two_thirds_decide() {
        let a = "203.0.113.7".parse().unwrap();
        assert_eq!(
            run(&["203.0.113.7", "203.0.113.7#", "203.0.113.7##"], 2, 5),
            (
                Verdict::Agreed {
                    addr: a,
                    votes: 2,
                    valid: 2
                },
                2
            )
        );
        let (verdict, _) = run(
            &["203.0.113.7", "198.51.100.9", "203.0.113.7##", "x", "y"],
            2,
            5,
        );
        assert!(
            matches!(
                verdict,
                Verdict::Agreed {
                    votes: 2,
                    valid: 3,
                    ..
                }
            ),
            "{verdict:?}"
        );
        let (verdict, asked) = run(
            &[
                "203.0.113.7",
                "198.51.100.9#",
                "192.0.2.1##",
                "203.0.113.7###",
                "198.51.100.9####",
            ],
            2,
            5,
        );
        assert!(matches!(verdict, Verdict::Disagree { .. }), "{verdict:?}");
        assert_eq!(asked, 5);
        let (verdict, _) = run(&["203.0.113.7", "bad#", "bad##"], 2, 5);
        assert_eq!(verdict, Verdict::TooFew { valid: 1, asked: 3 });
        assert_eq!(
            run(&["203.0.113.7"], 1, 5).0,
            Verdict::Agreed {
                addr: a,
                votes: 1,
                valid: 1
            }
        );
    }
}
