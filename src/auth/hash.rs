//! Password and secret hashes: which format a stored string is, checking a password against
//! it in constant time, and making the argon2id hash `ddns-cgi hash-secret` prints.
//!
//! Formats: argon2id PHC strings and bcrypt (`$2y$`, `$2a$`, `$2b$`) in the config and in
//! htpasswd files; apr1-MD5 (`$apr1$`) and SHA-1 (`{SHA}`) only in htpasswd files, which
//! Apache wrote that way before it defaulted to bcrypt.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, Params};
use base64::Engine as _;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::apr1;

/// A stored hash's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`.
    Argon2id,
    /// `$2y$`, `$2a$` or `$2b$` bcrypt.
    Bcrypt,
    /// `$apr1$` (htpasswd -m).
    Apr1,
    /// `{SHA}` (htpasswd -s), unsalted.
    Sha1,
}

impl Format {
    /// The format of `hash`, None when it is none of those (plain text, crypt(3) DES, …).
    pub fn of(hash: &str) -> Option<Format> {
        if hash.starts_with("$argon2id$") {
            Some(Format::Argon2id)
        } else if ["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
            Some(Format::Bcrypt)
        } else if hash.starts_with("$apr1$") {
            Some(Format::Apr1)
        } else if hash.starts_with("{SHA}") {
            Some(Format::Sha1)
        } else {
            None
        }
    }

    /// How messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Argon2id => "argon2id",
            Format::Bcrypt => "bcrypt",
            Format::Apr1 => "apr1-MD5",
            Format::Sha1 => "SHA-1",
        }
    }
}

/// The most memory an argon2id hash in the config may ask for, in KiB: a CGI process per
/// request must fit on a small VPS. The default of [`hash_secret`] is 19 MiB.
pub const MAX_ARGON2_KIB: u32 = 64 * 1024;
/// The most argon2id passes, and the highest bcrypt cost, the config may ask for: one check
/// must stay well under a client's timeout.
pub const MAX_ARGON2_PASSES: u32 = 10;
/// See [`MAX_ARGON2_PASSES`]; cost 12 is about 250 ms, 13 twice that.
pub const MAX_BCRYPT_COST: u32 = 13;
/// The most argon2id lanes: [`verify`] never matches a hash asking for more.
pub const MAX_ARGON2_LANES: u32 = 8;

/// Whether `password` matches `hash`; false for a hash that is malformed, of no known
/// format, or costlier than [`MAX_ARGON2_KIB`], [`MAX_ARGON2_PASSES`] or
/// [`MAX_BCRYPT_COST`] allow (an htpasswd line must not make one request take minutes or
/// gigabytes). Every comparison is in constant time.
pub fn verify(password: &[u8], hash: &str) -> bool {
    match Format::of(hash) {
        Some(Format::Argon2id) => PasswordHash::new(hash).is_ok_and(|parsed| {
            Params::try_from(&parsed).is_ok_and(|p| {
                p.m_cost() <= MAX_ARGON2_KIB
                    && p.t_cost() <= MAX_ARGON2_PASSES
                    && p.p_cost() <= MAX_ARGON2_LANES
            }) && Argon2::default().verify_password(password, &parsed).is_ok()
        }),
        Some(Format::Bcrypt) => {
            bcrypt_cost(hash).is_some_and(|cost| cost <= MAX_BCRYPT_COST)
                && bcrypt::verify(password, hash).unwrap_or(false)
        }
        Some(Format::Apr1) => apr1::verify(password, hash),
        Some(Format::Sha1) => {
            let expected = base64::engine::general_purpose::STANDARD.decode(&hash[5..]);
            let computed = Sha1::digest(password);
            expected.is_ok_and(|e| e.as_slice().ct_eq(computed.as_slice()).into())
        }
        None => false,
    }
}

/// Checks a hash written in the config (`password_hash`, or a hashed `secret`): argon2id or
/// bcrypt, well-formed, and cheap enough to check on every request. The message says what
/// to do; it never repeats the hash.
pub fn check_config_hash(hash: &str) -> Result<Format, String> {
    const RUN: &str = "run `ddns-cgi hash-secret` and paste the line it prints";
    match Format::of(hash) {
        Some(Format::Argon2id) => {
            let parsed = PasswordHash::new(hash)
                .map_err(|_| format!("is not a well-formed argon2id PHC string; {RUN}"))?;
            let params = Params::try_from(&parsed)
                .map_err(|_| format!("has argon2id parameters that cannot be used; {RUN}"))?;
            if params.m_cost() > MAX_ARGON2_KIB || params.t_cost() > MAX_ARGON2_PASSES {
                return Err(format!(
                    "asks for m={} KiB, t={}: more than a CGI request should spend (at most m={MAX_ARGON2_KIB}, t={MAX_ARGON2_PASSES}); {RUN}",
                    params.m_cost(),
                    params.t_cost()
                ));
            }
            if params.p_cost() > MAX_ARGON2_LANES {
                return Err(format!(
                    "asks for p={} lanes, more than ddns-cgi checks (at most p={MAX_ARGON2_LANES}), so it would never match; {RUN}",
                    params.p_cost()
                ));
            }
            Ok(Format::Argon2id)
        }
        Some(Format::Bcrypt) => {
            let cost = bcrypt_cost(hash)
                .ok_or_else(|| format!("is not a well-formed bcrypt hash; {RUN}"))?;
            if cost > MAX_BCRYPT_COST {
                return Err(format!(
                    "has bcrypt cost {cost}: one check would take seconds (at most {MAX_BCRYPT_COST}); {RUN}"
                ));
            }
            Ok(Format::Bcrypt)
        }
        Some(other) => Err(format!(
            "is {} hash, which is accepted only in htpasswd files; {RUN}",
            other.name()
        )),
        None => Err(format!("is not an argon2id or bcrypt hash; {RUN}")),
    }
}

/// The cost of a well-formed bcrypt hash (`$2y$CC$` and 53 more characters).
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let bytes = hash.as_bytes();
    if hash.len() != 60 || bytes[6] != b'$' || !bytes[4..6].iter().all(u8::is_ascii_digit) {
        return None;
    }
    hash[4..6].parse().ok()
}

/// The argon2id PHC string of `secret` with a fresh random salt and OWASP's minimum
/// parameters (19 MiB, 2 passes, 1 lane): about 20–40 ms per check on a small VPS.
pub fn hash_secret(secret: &[u8]) -> Result<String, String> {
    Argon2::default()
        .hash_password(secret)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing failed ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &[u8] = b"alice-s3cret:x";

    #[test]
    fn htpasswd_formats_verify_as_apache_wrote_them() {
        // Made by `htpasswd -nbB -C 5`, `-nbm` and `-nbs` (apache2-utils).
        let hashes = [
            "$2y$05$6cepaYOkbb/.CmsRRSodmOqdAG3H7zjnAeZ1pTyuAcmJlo.I.6i3q",
            "$apr1$lmVMarKY$wuMsxy3GR4ztiwwCpHKMs0",
            "{SHA}60UFl5iwgUWzLJMimiNfwkJFhnI=",
        ];
        for hash in hashes {
            assert!(verify(PASSWORD, hash), "{hash}");
            assert!(!verify(b"alice-s3cret:y", hash), "{hash}");
            assert!(!verify(b"", hash), "{hash}");
        }
    }

    #[test]
    fn apr1_matches_apaches_vectors() {
        // `htpasswd -nbm` and `openssl passwd -apr1 -salt …`: empty, short, long passwords
        // and short salts.
        let cases: [(&[u8], &str); 5] = [
            (b"", "$apr1$KsR7rtwT$HESj5m8xo..QHa/XghjPS0"),
            (b"a", "$apr1$hCQkfzfO$fFEsE/sv04ODm5kWqMHlT0"),
            (
                b"a-long-password-of-more-than-sixteen-bytes",
                "$apr1$RI6H.69Z$k/Lh5mVPFUtl4g/ETlboa.",
            ),
            (b"pw", "$apr1$abc$NKxAkoTtUloZMd1uGIvNG0"),
            (b"secret", "$apr1$12345678$0lqb/6VUFP8JY/s/jTrIk0"),
        ];
        for (password, hash) in cases {
            assert!(verify(password, hash), "{hash}");
            assert!(!verify(b"x", hash), "{hash}");
        }
        for broken in [
            "$apr1$",
            "$apr1$abc",
            "$apr1$123456789$0lqb/6VUFP8JY/s/jTrIk0",
        ] {
            assert!(!verify(b"secret", broken), "{broken}");
        }
    }

    #[test]
    fn hash_secret_makes_a_config_hash_that_verifies() {
        let hash = hash_secret(b"r0uter-secret").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(check_config_hash(&hash), Ok(Format::Argon2id));
        assert!(verify(b"r0uter-secret", &hash));
        assert!(!verify(b"r0uter-secreT", &hash));
        assert_ne!(hash_secret(b"r0uter-secret").unwrap(), hash, "salted");
    }

    #[test]
    fn config_hashes_are_bounded_and_never_quoted() {
        let bcrypt = "$2y$05$6cepaYOkbb/.CmsRRSodmOqdAG3H7zjnAeZ1pTyuAcmJlo.I.6i3q";
        assert_eq!(check_config_hash(bcrypt), Ok(Format::Bcrypt));
        let costly = bcrypt.replacen("$05$", "$15$", 1);
        assert!(check_config_hash(&costly).unwrap_err().contains("cost 15"));
        let greedy =
            "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert!(check_config_hash(greedy).unwrap_err().contains("m=1048576"));
        // Well-formed, but with more lanes than `verify` ever checks.
        let wide = "$argon2id$v=19$m=19456,t=2,p=16$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert!(!verify(b"x", wide));
        assert!(check_config_hash(wide).unwrap_err().contains("p=16"));
        for bad in [
            "plain-secret",
            "{SHA}60UFl5iwgUWzLJMimiNfwkJFhnI=",
            "$2y$05$short",
            "$argon2id$x",
        ] {
            let message = check_config_hash(bad).unwrap_err();
            assert!(
                message.contains("hash-secret") && !message.contains(bad),
                "{message}"
            );
        }
    }

    #[test]
    fn hashes_too_costly_to_check_never_verify() {
        // Well-formed, and right for "x", but asking for 1 GiB or 2^31 rounds.
        let greedy =
            "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert!(!verify(b"x", greedy));
        let slow = "$2y$31$6cepaYOkbb/.CmsRRSodmOqdAG3H7zjnAeZ1pTyuAcmJlo.I.6i3q";
        assert!(!verify(PASSWORD, slow));
    }

    #[test]
    fn unknown_formats_never_verify() {
        for hash in [
            "plainpw",
            "qRV6.6ANDjE46",
            "",
            "$1$abc$def",
            "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!verify(b"plainpw", hash), "{hash}");
            assert!(!verify(hash.as_bytes(), hash), "{hash}");
        }
    }
}
