//! TSIG (RFC 8945): signing a request and verifying the reply with the shared key. Pure:
//! the time is passed in. The MAC is `ring::hmac`, already linked through rustls; its
//! `verify` compares in constant time.

use std::fmt;

use super::wire::{self, CLASS_ANY, HEADER_LEN, Message, Rr, TYPE_TSIG, TsigRdata};

/// Allowed clock difference we ask for, as nsupdate does.
pub const FUDGE: u16 = 300;

/// TSIG errors a server sets (RFC 8945 §3).
pub const BADSIG: u16 = 16;
/// The server does not know the key name with this algorithm.
pub const BADKEY: u16 = 17;
/// Our time is outside the server's time ± fudge.
pub const BADTIME: u16 = 18;

/// The HMAC algorithms allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `hmac-sha256`, the default.
    Sha256,
    /// `hmac-sha384`.
    Sha384,
    /// `hmac-sha512`.
    Sha512,
}

impl Algorithm {
    /// The name as config and wire spell it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "hmac-sha256",
            Algorithm::Sha384 => "hmac-sha384",
            Algorithm::Sha512 => "hmac-sha512",
        }
    }

    fn ring(self) -> ring::hmac::Algorithm {
        match self {
            Algorithm::Sha256 => ring::hmac::HMAC_SHA256,
            Algorithm::Sha384 => ring::hmac::HMAC_SHA384,
            Algorithm::Sha512 => ring::hmac::HMAC_SHA512,
        }
    }

    /// Bytes of a full MAC.
    pub fn mac_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// A key: its name, algorithm and secret bytes. `Debug` shows no secret.
#[derive(Clone)]
pub struct Key {
    /// Key name, wire form, lower case.
    pub name: Vec<u8>,
    /// The algorithm.
    pub algorithm: Algorithm,
    secret: ring::hmac::Key,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Key({} {} ***)",
            wire::name_text(&self.name),
            self.algorithm.name()
        )
    }
}

impl Key {
    /// A key from its name, algorithm and decoded secret.
    pub fn new(name: Vec<u8>, algorithm: Algorithm, secret: &[u8]) -> Key {
        Key {
            name,
            algorithm,
            secret: ring::hmac::Key::new(algorithm.ring(), secret),
        }
    }

    fn algorithm_wire(&self) -> Vec<u8> {
        wire::name(self.algorithm.name()).unwrap_or_default()
    }

    /// The TSIG variables (§4.3.3) after the message bytes.
    fn variables(&self, data: &TsigRdata) -> Vec<u8> {
        let mut out = self.name.clone();
        out.extend_from_slice(&CLASS_ANY.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&data.algorithm);
        out.extend_from_slice(&data.time.to_be_bytes()[2..]);
        out.extend_from_slice(&data.fudge.to_be_bytes());
        out.extend_from_slice(&data.error.to_be_bytes());
        out.extend_from_slice(&(data.other.len() as u16).to_be_bytes());
        out.extend_from_slice(&data.other);
        out
    }
}

/// A signed request, and the MAC its reply's MAC covers.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The bytes to send.
    pub bytes: Vec<u8>,
    /// The request's MAC.
    pub mac: Vec<u8>,
    /// The request's ID.
    pub id: u16,
    /// The time signed.
    pub time: u64,
}

/// Appends the TSIG record to `message` (unsigned, its additional count not counting it).
pub fn sign(message: Vec<u8>, key: &Key, time: u64) -> Signed {
    let id = u16::from_be_bytes([message[0], message[1]]);
    let mut data = TsigRdata {
        algorithm: key.algorithm_wire(),
        time,
        fudge: FUDGE,
        mac: Vec::new(),
        original_id: id,
        error: 0,
        other: Vec::new(),
    };
    let mut input = message.clone();
    input.extend_from_slice(&key.variables(&data));
    data.mac = ring::hmac::sign(&key.secret, &input).as_ref().to_vec();
    let mut bytes = message;
    append(&mut bytes, key, &data);
    Signed {
        bytes,
        mac: data.mac,
        id,
        time,
    }
}

/// Bytes the TSIG record adds to a request signed with `key`.
pub fn record_len(key: &Key) -> usize {
    // Owner, type, class, TTL, RDLENGTH; then algorithm, time, fudge, MAC size, MAC,
    // original ID, error, other length.
    key.name.len() + 10 + key.algorithm_wire().len() + 6 + 2 + 2 + key.algorithm.mac_len() + 6
}

fn append(bytes: &mut Vec<u8>, key: &Key, data: &TsigRdata) {
    let count = u16::from_be_bytes([bytes[10], bytes[11]]).wrapping_add(1);
    bytes[10..12].copy_from_slice(&count.to_be_bytes());
    Rr {
        owner: key.name.clone(),
        rtype: TYPE_TSIG,
        class: CLASS_ANY,
        ttl: 0,
        rdata: data.to_bytes(),
    }
    .write(bytes);
}

/// What the reply's signature says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by our key, the MAC verifies, the time is within the fudge.
    Valid,
    /// The server refused our signature: BADSIG or BADKEY (its reply is unsigned then).
    Refused {
        /// The TSIG error.
        error: u16,
    },
    /// BADTIME, signed by our key: our clock is `skew` seconds behind the server's
    /// (negative: ahead).
    Skew {
        /// Server time minus our time.
        skew: i64,
    },
    /// No TSIG, another key, a MAC that does not verify, or a time outside the fudge:
    /// the reply proves nothing.
    Unverified {
        /// What was wrong, for the log.
        why: &'static str,
    },
}

/// Checks the TSIG of `reply` (decoded as `message`) against the request it answers.
pub fn verify(reply: &[u8], message: &Message, key: &Key, request: &Signed, now: u64) -> Verdict {
    let Some(record) = message.additional.last().filter(|r| r.rtype == TYPE_TSIG) else {
        return Verdict::Unverified {
            why: "the answer is not signed",
        };
    };
    let Ok(data) = TsigRdata::read(reply, record) else {
        return Verdict::Unverified {
            why: "its signature is malformed",
        };
    };
    if record.owner != key.name || data.algorithm != key.algorithm_wire() {
        // BADKEY replies name what we sent; anything else is someone else's signature.
        if data.error == BADKEY && data.mac.is_empty() {
            return Verdict::Refused { error: BADKEY };
        }
        return Verdict::Unverified {
            why: "it is signed with another key or algorithm",
        };
    }
    if data.mac.is_empty() && (data.error == BADSIG || data.error == BADKEY) {
        return Verdict::Refused { error: data.error };
    }
    if data.mac.len() != key.algorithm.mac_len() {
        return Verdict::Unverified {
            why: "its MAC has the wrong length",
        };
    }
    let mut input = Vec::with_capacity(reply.len() + 128);
    input.extend_from_slice(&(request.mac.len() as u16).to_be_bytes());
    input.extend_from_slice(&request.mac);
    let unsigned = &reply[..record.start];
    input.extend_from_slice(&data.original_id.to_be_bytes());
    input.extend_from_slice(&unsigned[2..10]);
    let count = u16::from_be_bytes([unsigned[10], unsigned[11]]).wrapping_sub(1);
    input.extend_from_slice(&count.to_be_bytes());
    input.extend_from_slice(&unsigned[HEADER_LEN..]);
    input.extend_from_slice(&key.variables(&data));
    if ring::hmac::verify(&key.secret, &input, &data.mac).is_err() {
        return Verdict::Unverified {
            why: "its MAC does not verify",
        };
    }
    if data.error == BADTIME {
        let server = match data.other.as_slice() {
            [a, b, c, d, e, f] => u64::from_be_bytes([0, 0, *a, *b, *c, *d, *e, *f]),
            _ => data.time,
        };
        return Verdict::Skew {
            skew: server as i64 - request.time as i64,
        };
    }
    if data.error != 0 {
        return Verdict::Refused { error: data.error };
    }
    if now.abs_diff(data.time) > u64::from(data.fudge) {
        return Verdict::Unverified {
            why: "its time is outside the allowed skew",
        };
    }
    Verdict::Valid
}

/// Signs a reply as a server would: for the tests of the verifier and the backend.
#[cfg(test)]
pub fn sign_reply(
    mut reply: Vec<u8>,
    key: &Key,
    request: &Signed,
    time: u64,
    error: u16,
) -> Vec<u8> {
    let mut data = TsigRdata {
        algorithm: key.algorithm_wire(),
        time,
        fudge: FUDGE,
        mac: Vec::new(),
        original_id: request.id,
        error,
        other: Vec::new(),
    };
    let mut input = (request.mac.len() as u16).to_be_bytes().to_vec();
    input.extend_from_slice(&request.mac);
    input.extend_from_slice(&reply);
    input.extend_from_slice(&key.variables(&data));
    data.mac = ring::hmac::sign(&key.secret, &input).as_ref().to_vec();
    reply[0..2].copy_from_slice(&request.id.to_be_bytes());
    append(&mut reply, key, &data);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::rfc2136::wire::{TYPE_A, decode, name, query};

    fn key(secret: &[u8]) -> Key {
        Key::new(name("ddns-key").unwrap(), Algorithm::Sha256, secret)
    }

    fn reply_to(request: &Signed) -> Vec<u8> {
        let mut reply = query(request.id, &name("home.example.com").unwrap(), TYPE_A);
        reply[2] |= 0x84;
        reply
    }

    #[test]
    fn a_reply_signed_with_our_key_verifies() {
        let k = key(b"0123456789abcdef0123456789abcdef");
        let request = sign(
            query(9, &name("home.example.com").unwrap(), TYPE_A),
            &k,
            1_000_000,
        );
        assert_eq!(request.mac.len(), 32);
        let unsigned = query(9, &name("home.example.com").unwrap(), TYPE_A).len();
        assert_eq!(request.bytes.len(), unsigned + record_len(&k));
        assert!(decode(&request.bytes).is_ok());
        let reply = sign_reply(reply_to(&request), &k, &request, 1_000_010, 0);
        let m = decode(&reply).unwrap();
        assert_eq!(verify(&reply, &m, &k, &request, 1_000_020), Verdict::Valid);
        // Out of the fudge by our clock.
        assert!(matches!(
            verify(&reply, &m, &k, &request, 1_000_400),
            Verdict::Unverified { .. }
        ));
        // Another secret, or one flipped byte, does not verify.
        let other = key(b"another secret, just as long!!!!");
        assert!(matches!(
            verify(&reply, &m, &other, &request, 1_000_020),
            Verdict::Unverified { .. }
        ));
        let mut bent = reply.clone();
        bent[3] ^= 0x01;
        let bm = decode(&bent).unwrap();
        assert!(matches!(
            verify(&bent, &bm, &k, &request, 1_000_020),
            Verdict::Unverified { .. }
        ));
    }

    #[test]
    fn unsigned_and_error_replies_are_told_apart() {
        let k = key(b"0123456789abcdef");
        let request = sign(query(9, &name("a").unwrap(), TYPE_A), &k, 5_000);
        let plain = reply_to(&request);
        assert!(matches!(
            verify(&plain, &decode(&plain).unwrap(), &k, &request, 5_000),
            Verdict::Unverified {
                why: "the answer is not signed"
            }
        ));
        let mut badsig = plain.clone();
        append(
            &mut badsig,
            &k,
            &TsigRdata {
                algorithm: name("hmac-sha256").unwrap(),
                time: 5_000,
                fudge: FUDGE,
                mac: vec![],
                original_id: 9,
                error: BADSIG,
                other: vec![],
            },
        );
        assert_eq!(
            verify(&badsig, &decode(&badsig).unwrap(), &k, &request, 5_000),
            Verdict::Refused { error: BADSIG }
        );
    }
}
