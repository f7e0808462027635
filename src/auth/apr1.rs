//! Apache's apr1-MD5 password hash (`$apr1$SALT$HASH`, apr_md5.c `apr_md5_encode`), which
//! `htpasswd -m` writes and old htpasswd files hold. No maintained crate offers it with a
//! constant-time check (see the commit that added it), so this is the fixed construction
//! over RustCrypto's MD5 — 1000 rounds with the password and salt mixed in a set pattern,
//! then a custom base-64 — and nothing more. Tested against hashes `htpasswd -m` and
//! `openssl passwd -apr1` made.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

const MAGIC: &str = "$apr1$";
/// apr_md5.c's alphabet for the final encoding.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether `password` matches `hash` (`$apr1$SALT$HASH`); false for anything malformed.
pub fn verify(password: &[u8], hash: &str) -> bool {
    let Some(rest) = hash.strip_prefix(MAGIC) else {
        return false;
    };
    let Some((salt, encoded)) = rest.split_once('$') else {
        return false;
    };
    // Apache uses at most 8 salt characters; a longer salt field is not its output.
    if salt.len() > 8 || encoded.len() != 22 {
        return false;
    }
    let computed = encode(&digest(password, salt.as_bytes()));
    computed.as_bytes().ct_eq(encoded.as_bytes()).into()
}

/// The 16-byte digest of apr_md5_encode.
fn digest(password: &[u8], salt: &[u8]) -> [u8; 16] {
    let mut ctx = Md5::new();
    ctx.update(password);
    ctx.update(MAGIC.as_bytes());
    ctx.update(salt);
    let mut alt = Md5::new();
    alt.update(password);
    alt.update(salt);
    alt.update(password);
    let alt: [u8; 16] = alt.finalize().into();
    let mut left = password.len();
    while left > 0 {
        ctx.update(&alt[..left.min(16)]);
        left = left.saturating_sub(16);
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut last: [u8; 16] = ctx.finalize().into();
    for round in 0..1000 {
        let mut ctx = Md5::new();
        if round & 1 == 1 {
            ctx.update(password);
        } else {
            ctx.update(last);
        }
        if round % 3 != 0 {
            ctx.update(salt);
        }
        if round % 7 != 0 {
            ctx.update(password);
        }
        if round & 1 == 1 {
            ctx.update(last);
        } else {
            ctx.update(password);
        }
        last = ctx.finalize().into();
    }
    last
}

/// apr_md5.c's final step: the digest's bytes in its fixed order, 6 bits a character.
fn encode(d: &[u8; 16]) -> String {
    let mut out = String::with_capacity(22);
    let mut put = |value: u32, chars: usize| {
        let mut v = value;
        for _ in 0..chars {
            out.push(ITOA64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put(
            (u32::from(d[a]) << 16) | (u32::from(d[b]) << 8) | u32::from(d[c]),
            4,
        );
    }
    put(u32::from(d[11]), 2);
    out
}
