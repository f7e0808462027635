//! Authentication: the credentials a request carries become one [`Principal`], by whose
//! name the ACL is looked up.
//!
//! Credentials come from the web server (`REMOTE_USER`: it checked the password itself) or
//! are checked here: a user and password (from an `Authorization: Basic` header the web
//! server passed on, or from the query) against the user's `password_hash` or the htpasswd
//! file, and a secret (in a path or query) against each user's `secret`. When several claims
//! arrive, the web server's wins, since it already checked; claims naming different
//! principals are refused, whichever would win.
//!
//! Checks made here are rate-limited per source address ([`ratelimit`]); a failure looks the
//! same whichever part was wrong, in the answer, in the log line and in the time it takes
//! ([`FAILURE_MIN_TIME`]).

pub mod apr1;
pub mod basic;
pub mod hash;
pub mod htpasswd;
pub mod ratelimit;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::acl::{UserNameError, check_user_name};
use crate::log::{Log, printable};
use crate::secret::Secret;
use crate::state::Store;

/// Where a user and password came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An `Authorization: Basic` header the web server passed on unchecked.
    Header,
    /// Query or form parameters (`username`/`password`, `user`/`pass`).
    Query,
}

/// A credential as the request carries it, not yet believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// `REMOTE_USER`: the web server authenticated this user.
    RemoteUser(String),
    /// A user and password for ddns-cgi to check.
    Password {
        /// The user claimed.
        user: String,
        /// The password.
        password: Secret,
        /// Where they came from.
        from: Source,
    },
    /// A secret that names its user only once checked (a path or query secret).
    Secret(Secret),
    /// The source address is in the dialect's `trusted_sources`, which act for this user;
    /// the dialect claims it only when the web server authenticated nobody.
    TrustedSource(String),
}

impl Claim {
    /// The principal the claim names before any check; None for a secret.
    fn name(&self) -> Option<&str> {
        match self {
            Claim::RemoteUser(name)
            | Claim::TrustedSource(name)
            | Claim::Password { user: name, .. } => Some(name),
            Claim::Secret(_) => None,
        }
    }

    /// Which claim wins when several name the same principal: lower first.
    fn precedence(&self) -> u8 {
        match self {
            Claim::RemoteUser(_) => 0,
            Claim::Password {
                from: Source::Header,
                ..
            } => 1,
            Claim::Password { .. } => 2,
            Claim::Secret(_) => 3,
            Claim::TrustedSource(_) => 4,
        }
    }
}

/// The credentials ddns-cgi checks itself, from the config.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Each `[user:NAME]` section's own credentials, by lower-cased name.
    pub users: BTreeMap<String, UserCredentials>,
    /// `[default] htpasswd`: checked for users without a `password_hash`.
    pub htpasswd: Option<PathBuf>,
    /// `[default] auth_fail_limit`: failed checks per source within the window; 0 = off.
    pub fail_limit: u32,
    /// `[default] auth_fail_window`, in seconds.
    pub fail_window: u64,
}

/// One user's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The name as the section writes it.
    pub name: String,
    /// `secret`: plain (for migration) or an argon2id/bcrypt hash.
    pub secret: Option<Secret>,
    /// `password_hash`: argon2id or bcrypt.
    pub password_hash: Option<Secret>,
}

/// Who the request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    name: String,
}

impl Principal {
    /// The name the ACL knows the principal by.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Why no principal was found. `Display` is the admin's log text; it never holds a
/// credential, and reads the same whichever part of a credential was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential at all.
    NoCredential,
    /// The web server passed a user name no `[user:NAME]` section could be meant for.
    BadUserName(UserNameError),
    /// Credentials to check here name a user no `[user:NAME]` section could be meant for.
    BadClaimedName(UserNameError),
    /// Credentials naming different principals.
    Conflicting,
    /// An `Authorization` header that is not Basic `user:password` in base64.
    MalformedHeader,
    /// A credential checked here did not match: unknown user, wrong password or secret.
    Rejected(&'static str),
    /// A secret that matches more than one user.
    AmbiguousSecret,
    /// The attempt could not be counted (a full disk, too many sources); nothing was
    /// checked. The text says why.
    Uncounted(String),
    /// The source address failed too often; nothing was checked.
    RateLimited {
        /// Failures within the window.
        failures: usize,
        /// The window, in seconds.
        window: u64,
    },
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::NoCredential => f.write_str(
                "no credentials (REMOTE_USER is empty, and none that ddns-cgi checks itself): the web server must require Basic auth for this path, or the client must send credentials ddns-cgi is set up to check",
            ),
            // The reason, not the name: the summary line shows the name, escaped.
            AuthFailure::BadUserName(problem) => write!(
                f,
                "REMOTE_USER {problem}; user names must be printable ASCII without surrounding white space, so that no spelling of a login can miss its [user:NAME] section"
            ),
            AuthFailure::BadClaimedName(problem) => write!(
                f,
                "the user name of the credentials {problem}; user names must be printable ASCII without surrounding white space"
            ),
            AuthFailure::Conflicting => f.write_str(
                "the request carries credentials of different users; refusing all of them",
            ),
            AuthFailure::MalformedHeader => {
                f.write_str("the Authorization header is not Basic base64(user:password)")
            }
            AuthFailure::Rejected(what) => write!(
                f,
                "{what} did not match (unknown user, or wrong password or secret)"
            ),
            AuthFailure::AmbiguousSecret => f.write_str(
                "the secret matches more than one [user:NAME] section; give each user its own",
            ),
            AuthFailure::Uncounted(why) => f.write_str(why),
            AuthFailure::RateLimited { failures, window } => write!(
                f,
                "{failures} failed credential checks from this address within {window} s (auth_fail_limit); refusing without checking"
            ),
        }
    }
}

/// Why authentication did not end in a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The client's credentials do not name one principal: the dialect's bad-auth answer.
    Refused(AuthFailure),
    /// The check could not be made (htpasswd file or state directory unusable): a server
    /// error, with the admin's message.
    Unavailable(String),
}

impl From<AuthFailure> for AuthError {
    fn from(failure: AuthFailure) -> AuthError {
        AuthError::Refused(failure)
    }
}

/// What checking credentials needs besides the claims.
pub struct Checker<'a> {
    /// The configured credentials.
    pub credentials: &'a Credentials,
    /// The state directory, for the failure counts.
    pub store: &'a Store,
    /// `REMOTE_ADDR`.
    pub source: Option<&'a str>,
    /// Unix seconds now.
    pub now: u64,
    /// For a warning about an htpasswd line of a format never accepted.
    pub log: &'a Log,
}

/// The longest password or secret that is checked at all; a longer one fails unchecked.
/// Some hashes cost more the longer the input (apr1-MD5 hashes it over and over), and no
/// device needs more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// An argon2id hash of nothing anyone knows, checked when the claimed user has no hash, so
/// that an unknown user takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$3xCqrvf6hmy9S4QwP0Tm1w$0OWi6CBP9Z9e0N6kp0Z+c1T1O/ZSIXmkyJM0qf4iYkc";

impl Checker<'_> {
    fn limiter(&self) -> ratelimit::Limiter<'_> {
        ratelimit::Limiter {
            store: self.store,
            limit: self.credentials.fail_limit,
            window: self.credentials.fail_window,
            now: self.now,
        }
    }

    /// Whether `password` is `user`'s: their `password_hash`, else their htpasswd line.
    fn password_matches(&self, user: &str, password: &Secret) -> Result<bool, AuthError> {
        let password = password.expose().as_bytes();
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let own = self
            .credentials
            .users
            .get(&user.to_ascii_lowercase())
            .and_then(|u| u.password_hash.as_ref());
        if let Some(stored) = own {
            return Ok(hash::verify(password, stored.expose()));
        }
        if let Some(path) = &self.credentials.htpasswd {
            match htpasswd::lookup(path, user).map_err(|e| AuthError::Unavailable(e.to_string()))? {
                Some(htpasswd::Entry::Hash(stored)) => return Ok(hash::verify(password, &stored)),
                Some(htpasswd::Entry::Unsupported(line)) => self.log.warn(format_args!(
                    "htpasswd file {} line {line}: user {} has a plain-text or crypt(3) entry, which ddns-cgi never accepts; rewrite it with htpasswd -B",
                    path.display(),
                    printable(user)
                )),
                None => {}
            }
        }
        let _ = hash::verify(password, DUMMY_HASH);
        Ok(false)
    }

    /// The one user whose `secret` this is.
    fn secret_owner(&self, secret: &Secret) -> Result<String, AuthFailure> {
        let given = secret.expose().as_bytes();
        if given.len() > MAX_PASSWORD_BYTES {
            return Err(AuthFailure::Rejected("the secret"));
        }
        let mut owners = self.credentials.users.values().filter(|user| {
            user.secret.as_ref().is_some_and(|stored| {
                let stored = stored.expose();
                match hash::Format::of(stored) {
                    Some(_) => hash::verify(given, stored),
                    None => stored.as_bytes().ct_eq(given).into(),
                }
            })
        });
        match (owners.next(), owners.next()) {
            (Some(owner), None) => Ok(owner.name.clone()),
            (Some(_), Some(_)) => Err(AuthFailure::AmbiguousSecret),
            (None, _) => Err(AuthFailure::Rejected("the secret")),
        }
    }

    /// The name a claim checked here proves.
    fn check(&self, claim: &Claim) -> Result<String, AuthError> {
        match claim {
            Claim::RemoteUser(name) | Claim::TrustedSource(name) => Ok(name.clone()),
            Claim::Password {
                user,
                password,
                from,
            } => {
                let what = match from {
                    Source::Header => "the user and password of the Authorization header",
                    Source::Query => "the user and password of the query",
                };
                check_user_name(user).map_err(AuthFailure::BadClaimedName)?;
                match self.password_matches(user, password)? {
                    true => Ok(user.clone()),
                    false => Err(AuthFailure::Rejected(what).into()),
                }
            }
            Claim::Secret(secret) => Ok(self.secret_owner(secret)?),
        }
    }
}

/// The least time a failed check takes, from its start to the answer: an unknown user costs
/// the dummy argon2id check (about 35 ms), a known one with a cheap htpasswd line (bcrypt
/// cost 5, apr1, `{SHA}`) under 2 ms, so without this the answer's time would tell which
/// users exist. A success may be faster; it reveals nothing the client does not know.
pub const FAILURE_MIN_TIME: Duration = Duration::from_millis(50);

/// How much longer a failed check that took `elapsed` must wait to take
/// [`FAILURE_MIN_TIME`].
pub fn failure_pad(elapsed: Duration) -> Duration {
    FAILURE_MIN_TIME.saturating_sub(elapsed)
}

/// Counts the coming check as a failure before it is made, so that parallel requests
/// cannot outrun the limit; true when it was counted (to be taken back on success). A
/// request that cannot be counted is never checked.
fn admit(checker: &Checker<'_>) -> Result<bool, AuthError> {
    match checker.limiter().admit(checker.source) {
        Ok(ratelimit::Admission::Counted) => Ok(true),
        Ok(ratelimit::Admission::Unlimited) => Ok(false),
        Ok(ratelimit::Admission::Blocked(failures)) => Err(AuthFailure::RateLimited {
            failures,
            window: checker.credentials.fail_window,
        }
        .into()),
        Err(e @ ratelimit::LimitError::Unusable(_)) => Err(AuthError::Unavailable(e.to_string())),
        Err(uncounted) => Err(AuthFailure::Uncounted(uncounted.to_string()).into()),
    }
}

/// The principal of a user the web server authenticated, with nothing else claimed.
pub fn web_server_user(name: &str) -> Result<Principal, AuthFailure> {
    check_user_name(name).map_err(AuthFailure::BadUserName)?;
    Ok(Principal {
        name: name.to_string(),
    })
}

/// The one principal the claims agree on.
pub fn authenticate(claims: &[Claim], checker: &Checker<'_>) -> Result<Principal, AuthError> {
    let mut claims: Vec<&Claim> = claims.iter().collect();
    claims.sort_by_key(|c| c.precedence());
    let Some(first) = claims.first() else {
        return Err(AuthFailure::NoCredential.into());
    };
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let named: Vec<&str> = claims.iter().filter_map(|c| c.name()).collect();
    if named.iter().any(|n| !same(n, named[0])) {
        return Err(AuthFailure::Conflicting.into());
    }
    // The web server checked REMOTE_USER; a user and password beside it only have to name
    // the same user. Everything else is checked here, within the rate limit.
    // A trusted source was checked by the dialect against the configured networks.
    let trusted = matches!(first, Claim::RemoteUser(_) | Claim::TrustedSource(_));
    let to_check: Vec<&Claim> = claims
        .iter()
        .copied()
        .filter(|c| !trusted || matches!(c, Claim::Secret(_)))
        .collect();
    let mut proven: Vec<String> = named.iter().map(|n| n.to_string()).collect();
    if !to_check.is_empty() {
        let counted = admit(checker)?;
        let started = Instant::now();
        let checked = to_check.iter().try_for_each(|claim| {
            proven.push(checker.check(claim)?);
            Ok(())
        });
        if let Err(AuthError::Refused(failure)) = checked {
            std::thread::sleep(failure_pad(started.elapsed()));
            return Err(failure.into());
        }
        // Neither a success nor a server problem is the client's failure.
        if counted && let Err(e) = checker.limiter().forgive(checker.source) {
            checker.log.warn(format_args!(
                "a credential check that did not fail still counts as a failure: {e}"
            ));
        }
        checked?;
    }
    if proven.iter().any(|n| !same(n, &proven[0])) {
        return Err(AuthFailure::Conflicting.into());
    }
    let name = proven.swap_remove(0);
    check_user_name(&name).map_err(AuthFailure::BadUserName)?;
    Ok(Principal { name })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bcrypt hash (cost 4, quick to check) of "pw-alice" and an htpasswd with bob's.
    const ALICE_HASH: &str = "$2y$04$BMzE62P8qELNxp9PgNRln.YTGJOUFIzr7s8Os4JU0uMLGTy/kzu8C";

    struct Setup {
        dir: PathBuf,
        credentials: Credentials,
        store: Store,
        log: Log,
    }

    fn setup(tag: &str) -> Setup {
        let dir = std::env::temp_dir().join(format!("ddns-auth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let htpasswd = dir.join("htpasswd");
        // bob:pw-bob, bcrypt cost 4; dave: plain text, never accepted.
        std::fs::write(
            &htpasswd,
            "bob:$2y$04$iET5.hsepPixE2C95BoEaOZQMhy/QQS1Eh6LH8wmSzLX/vixUKYOO\ndave:pw-dave\n",
        )
        .unwrap();
        let user = |name: &str, secret: Option<&str>, hash: Option<&str>| {
            (
                name.to_ascii_lowercase(),
                UserCredentials {
                    name: name.into(),
                    secret: secret.map(Secret::new),
                    password_hash: hash.map(Secret::new),
                },
            )
        };
        let credentials = Credentials {
            users: [
                user("alice", Some("alice-secret-1"), Some(ALICE_HASH)),
                user("carol", Some("carol-secret-1"), None),
            ]
            .into_iter()
            .collect(),
            htpasswd: Some(htpasswd),
            fail_limit: 3,
            fail_window: 600,
        };
        Setup {
            store: Store::new(&dir.join("state")),
            dir,
            credentials,
            log: Log::to(crate::log::Level::Info, Box::new(std::io::sink())),
        }
    }

    impl Setup {
        fn check(&self, claims: &[Claim], from: &str) -> Result<String, AuthError> {
            let checker = Checker {
                credentials: &self.credentials,
                store: &self.store,
                source: Some(from),
                now: 1_000_000,
                log: &self.log,
            };
            authenticate(claims, &checker).map(|p| p.name().to_string())
        }
    }

    impl Drop for Setup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn user(n: &str) -> Claim {
        Claim::RemoteUser(n.to_string())
    }

    fn password(user: &str, password: &str, from: Source) -> Claim {
        Claim::Password {
            user: user.into(),
            password: Secret::new(password),
            from,
        }
    }

    fn refused(failure: AuthFailure) -> Result<String, AuthError> {
        Err(AuthError::Refused(failure))
    }

    #[test]
    fn the_web_servers_user_is_the_principal() {
        let s = setup("remote");
        let from = "84.17.5.1";
        assert_eq!(s.check(&[user("alice")], from).unwrap(), "alice");
        assert_eq!(s.check(&[], from), refused(AuthFailure::NoCredential));
        assert_eq!(
            s.check(&[user("alice ")], from),
            refused(AuthFailure::BadUserName(UserNameError::TrailingWhiteSpace))
        );
        assert_eq!(
            s.check(&[user("alice"), user("alice")], from).unwrap(),
            "alice"
        );
        assert_eq!(
            s.check(&[user("alice"), user("bob")], from),
            refused(AuthFailure::Conflicting)
        );
    }

    #[test]
    fn passwords_are_checked_against_the_users_hash_then_htpasswd() {
        let s = setup("password");
        let from = "84.17.5.1";
        let header = Source::Header;
        assert_eq!(
            s.check(&[password("alice", "pw-alice", header)], from)
                .unwrap(),
            "alice"
        );
        assert_eq!(
            s.check(&[password("bob", "pw-bob", Source::Query)], from)
                .unwrap(),
            "bob"
        );
        let rejected = refused(AuthFailure::Rejected(
            "the user and password of the Authorization header",
        ));
        // Wrong password, unknown user, a plain-text htpasswd line: the same failure.
        assert_eq!(
            s.check(&[password("alice", "pw-bob", header)], from),
            rejected
        );
        let other = "84.17.5.2";
        assert_eq!(
            s.check(&[password("mallory", "pw-alice", header)], other),
            rejected
        );
        assert_eq!(
            s.check(&[password("dave", "pw-dave", header)], "84.17.5.3"),
            rejected
        );
        // alice's own hash wins over htpasswd; bob's htpasswd line is exact in case.
        assert_eq!(
            s.check(&[password("Bob", "pw-bob", header)], "84.17.5.4"),
            rejected
        );
    }

    #[test]
    fn secrets_name_their_user() {
        let s = setup("secret");
        let from = "84.17.5.1";
        assert_eq!(
            s.check(&[Claim::Secret(Secret::new("carol-secret-1"))], from)
                .unwrap(),
            "carol"
        );
        assert_eq!(
            s.check(&[Claim::Secret(Secret::new("carol-secret-2"))], from),
            refused(AuthFailure::Rejected("the secret"))
        );
        // A secret beside REMOTE_USER must be that user's.
        assert_eq!(
            s.check(
                &[user("alice"), Claim::Secret(Secret::new("carol-secret-1"))],
                "84.17.5.2"
            ),
            refused(AuthFailure::Conflicting)
        );
    }

    #[test]
    fn remote_user_wins_and_different_users_are_refused() {
        let s = setup("precedence");
        let from = "84.17.5.1";
        // The web server checked alice; her query password is not checked again.
        assert_eq!(
            s.check(
                &[password("alice", "whatever", Source::Query), user("alice")],
                from
            )
            .unwrap(),
            "alice"
        );
        assert_eq!(
            s.check(
                &[user("alice"), password("bob", "pw-bob", Source::Query)],
                from
            ),
            refused(AuthFailure::Conflicting)
        );
        assert_eq!(
            s.check(
                &[
                    password("bob", "pw-bob", Source::Header),
                    password("alice", "pw-alice", Source::Query)
                ],
                from
            ),
            refused(AuthFailure::Conflicting)
        );
        // Nothing failed a check, so nothing was counted.
        assert!(!s.dir.join("state/auth/v4-84.17.5.1").exists());
    }

    #[test]
    fn failures_are_limited_per_source_without_checking() {
        let s = setup("limit");
        let from = "84.17.5.1";
        let right = [password("alice", "pw-alice", Source::Query)];
        let wrong = [password("alice", "nope", Source::Query)];
        for _ in 0..3 {
            assert!(matches!(
                s.check(&wrong, from),
                Err(AuthError::Refused(AuthFailure::Rejected(_)))
            ));
        }
        assert_eq!(
            s.check(&right, from),
            refused(AuthFailure::RateLimited {
                failures: 3,
                window: 600
            })
        );
        // Another address, and the web server's own user, are not limited.
        assert_eq!(s.check(&right, "84.17.5.9").unwrap(), "alice");
        assert_eq!(s.check(&[user("alice")], from).unwrap(), "alice");
        let text = std::fs::read_to_string(s.dir.join("state/auth/v4-84.17.5.1")).unwrap();
        assert!(!text.contains("alice") && !text.contains("nope"), "{text}");
    }

    #[test]
    fn an_unreadable_htpasswd_is_a_server_problem() {
        let mut s = setup("unreadable");
        s.credentials.htpasswd = Some(s.dir.join("missing"));
        let result = s.check(&[password("bob", "pw-bob", Source::Header)], "84.17.5.1");
        assert!(
            matches!(result, Err(AuthError::Unavailable(ref m)) if m.contains("cannot be read")),
            "{result:?}"
        );
    }

    #[test]
    fn parallel_guesses_cannot_outrun_the_limit() {
        let s = setup("parallel");
        let wrong = [password("bob", "guess", Source::Query)];
        let results: Vec<_> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..40)
                .map(|_| {
                    scope.spawn(|| {
                        let log = Log::to(crate::log::Level::Info, Box::new(std::io::sink()));
                        let checker = Checker {
                            credentials: &s.credentials,
                            store: &s.store,
                            source: Some("84.17.5.1"),
                            now: 1_000_000,
                            log: &log,
                        };
                        authenticate(&wrong, &checker).unwrap_err()
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let checked = results
            .iter()
            .filter(|r| matches!(r, AuthError::Refused(AuthFailure::Rejected(_))))
            .count();
        let limited = results
            .iter()
            .filter(|r| matches!(r, AuthError::Refused(AuthFailure::RateLimited { .. })))
            .count();
        assert_eq!((checked, limited), (3, 37), "{results:?}");
    }

    #[test]
    fn successes_do_not_count_against_the_limit() {
        let s = setup("success");
        let from = "84.17.5.1";
        for _ in 0..5 {
            let right = [password("bob", "pw-bob", Source::Query)];
            assert_eq!(s.check(&right, from).unwrap(), "bob");
        }
        let text = std::fs::read_to_string(s.dir.join("state/auth/v4-84.17.5.1")).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn failures_take_at_least_the_minimum_time() {
        assert_eq!(failure_pad(Duration::ZERO), FAILURE_MIN_TIME);
        assert_eq!(
            failure_pad(Duration::from_millis(2)),
            Duration::from_millis(48)
        );
        assert_eq!(failure_pad(Duration::from_millis(50)), Duration::ZERO);
        assert_eq!(failure_pad(Duration::from_secs(3)), Duration::ZERO);
        // bob's bcrypt line costs about a millisecond to check; failing takes the minimum.
        let s = setup("pad");
        let started = Instant::now();
        let wrong = [password("bob", "guess", Source::Query)];
        assert!(s.check(&wrong, "84.17.5.1").is_err());
        assert!(
            started.elapsed() >= FAILURE_MIN_TIME,
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn overlong_passwords_and_secrets_fail_unchecked() {
        let mut s = setup("long");
        let long = "p".repeat(MAX_PASSWORD_BYTES + 1);
        let hash = hash::hash_secret(long.as_bytes()).unwrap();
        let alice = s.credentials.users.get_mut("alice").unwrap();
        alice.password_hash = Some(Secret::new(&hash));
        alice.secret = Some(Secret::new(&hash));
        assert_eq!(
            s.check(&[password("alice", &long, Source::Query)], "84.17.5.1"),
            refused(AuthFailure::Rejected("the user and password of the query"))
        );
        assert_eq!(
            s.check(&[Claim::Secret(Secret::new(&long))], "84.17.5.2"),
            refused(AuthFailure::Rejected("the secret"))
        );
        // At the bound, it is checked.
        let fits = "p".repeat(MAX_PASSWORD_BYTES);
        let hash = hash::hash_secret(fits.as_bytes()).unwrap();
        let alice = s.credentials.users.get_mut("alice").unwrap();
        alice.password_hash = Some(Secret::new(&hash));
        let right = [password("alice", &fits, Source::Query)];
        assert_eq!(s.check(&right, "84.17.5.3").unwrap(), "alice");
    }

    #[test]
    fn an_unusable_state_dir_is_a_server_problem_not_unlimited() {
        use std::os::unix::fs::PermissionsExt;
        let s = setup("open-state");
        std::fs::create_dir_all(s.dir.join("state")).unwrap();
        std::fs::set_permissions(s.dir.join("state"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        for claim in [
            password("bob", "pw-bob", Source::Query),
            password("bob", "guess", Source::Query),
        ] {
            let result = s.check(&[claim], "84.17.5.1");
            assert!(
                matches!(result, Err(AuthError::Unavailable(ref m)) if m.contains("chmod o-w")),
                "{result:?}"
            );
        }
    }

    #[test]
    fn too_many_sources_are_refused_unchecked() {
        let s = setup("sources");
        let auth = s.dir.join("state/auth");
        std::fs::create_dir_all(&auth).unwrap();
        for i in 0..ratelimit::MAX_SOURCES {
            std::fs::write(auth.join(format!("v4-10.{}.{}.1", i / 256, i % 256)), "").unwrap();
        }
        let right = [password("bob", "pw-bob", Source::Query)];
        let result = s.check(&right, "84.17.5.1");
        assert!(
            matches!(result, Err(AuthError::Refused(AuthFailure::Uncounted(ref m))) if m.contains("10000 source addresses")),
            "{result:?}"
        );
        assert!(!auth.join("v4-84.17.5.1").exists());
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert_eq!(
            hash::check_config_hash(DUMMY_HASH),
            Ok(hash::Format::Argon2id)
        );
    }
}
