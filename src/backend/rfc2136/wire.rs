//! DNS messages as bytes (RFC 1035 §4, RFC 2136 §2): the few we send (a query, an UPDATE)
//! and a decoder for any reply. No I/O. Names we write are absolute, lower case and never
//! compressed; names we read may be compressed, and every read is bounds-checked, so any
//! bytes at all give a value or an error, never a panic.

use std::fmt;

/// Record types used.
pub const TYPE_A: u16 = 1;
/// Name server: a delegation when below the apex.
pub const TYPE_NS: u16 = 2;
/// Alias.
pub const TYPE_CNAME: u16 = 5;
/// Start of authority.
pub const TYPE_SOA: u16 = 6;
/// IPv6 address.
pub const TYPE_AAAA: u16 = 28;
/// Transaction signature (RFC 8945).
pub const TYPE_TSIG: u16 = 250;
/// Every type (prerequisites and deletes).
pub const TYPE_ANY: u16 = 255;

/// Internet class.
pub const CLASS_IN: u16 = 1;
/// "None" class: "RRset does not exist" and deleting one record (RFC 2136 §2.4, §2.5).
pub const CLASS_NONE: u16 = 254;
/// "Any" class: deleting an RRset, TSIG records.
pub const CLASS_ANY: u16 = 255;

/// Opcode of a query.
pub const OPCODE_QUERY: u8 = 0;
/// Opcode of an UPDATE.
pub const OPCODE_UPDATE: u8 = 5;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Compression pointers followed in one name at most. A name has at most 127 labels, so a
/// chain longer than that is a loop.
const MAX_JUMPS: usize = 128;
/// Longest name on the wire (RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;

/// Why bytes are not a DNS message we can read, or a name cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The message ends inside a field.
    Truncated,
    /// A name is malformed: a label or the whole name too long, a loop of pointers, an
    /// unknown label type.
    BadName,
    /// A section count or length does not fit the message.
    BadLayout,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "message ends inside a field",
            WireError::BadName => "malformed name",
            WireError::BadLayout => "section counts do not fit the message",
        })
    }
}

/// A name in wire form (length-prefixed labels, ending with the root), lower case.
pub fn name(text: &str) -> Result<Vec<u8>, WireError> {
    let text = text.trim_end_matches('.');
    let mut out = Vec::with_capacity(text.len() + 2);
    if !text.is_empty() {
        for label in text.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(WireError::BadName);
            }
            out.push(label.len() as u8);
            out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
        }
    }
    out.push(0);
    if out.len() > MAX_NAME {
        return Err(WireError::BadName);
    }
    Ok(out)
}

/// A wire name as text with a trailing dot, for log lines: other bytes than letters,
/// digits, `-` and `_` are shown as `\DDD`.
pub fn name_text(wire: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&len) = wire.get(i) {
        if len == 0 {
            break;
        }
        let label = wire.get(i + 1..i + 1 + len as usize).unwrap_or(&[]);
        for &b in label {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                out.push(b as char);
            } else {
                out.push_str(&format!("\\{b:03}"));
            }
        }
        out.push('.');
        i += 1 + len as usize;
    }
    if out.is_empty() { ".".into() } else { out }
}

/// One resource record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// Owner, in wire form.
    pub owner: Vec<u8>,
    /// Type.
    pub rtype: u16,
    /// Class (overloaded in prerequisites and updates).
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// The data, as it goes on the wire.
    pub rdata: Vec<u8>,
}

impl Rr {
    /// Appends the record to a message.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.owner);
        out.extend_from_slice(&self.rtype.to_be_bytes());
        out.extend_from_slice(&self.class.to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        out.extend_from_slice(&(self.rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.rdata);
    }
}

/// A header: ID, opcode (recursion not desired, every other flag clear) and counts.
fn header(id: u16, opcode: u8, counts: [u16; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(u16::from(opcode) << 11).to_be_bytes());
    for count in counts {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out
}

/// A query for `qname` of `qtype`, class IN, RD=0 (we ask the primary itself).
pub fn query(id: u16, qname: &[u8], qtype: u16) -> Vec<u8> {
    let mut out = header(id, OPCODE_QUERY, [1, 0, 0, 0]);
    out.extend_from_slice(qname);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// An UPDATE of `zone`: the prerequisites, then the updates in order (RFC 2136 §2).
pub fn update(id: u16, zone: &[u8], prerequisites: &[Rr], updates: &[Rr]) -> Vec<u8> {
    let counts = [1, prerequisites.len() as u16, updates.len() as u16, 0];
    let mut out = header(id, OPCODE_UPDATE, counts);
    out.extend_from_slice(zone);
    out.extend_from_slice(&TYPE_SOA.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    for rr in prerequisites.iter().chain(updates) {
        rr.write(&mut out);
    }
    out
}

/// A record read from a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Owner, decompressed, lower case, wire form.
    pub owner: Vec<u8>,
    /// Type.
    pub rtype: u16,
    /// Class.
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// The data as sent (names in it may be compressed).
    pub rdata: Vec<u8>,
    /// Where the record starts in the message.
    pub start: usize,
    /// Where its data starts in the message, to read names in it.
    pub rdata_at: usize,
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// ID.
    pub id: u16,
    /// QR: this is a reply.
    pub is_reply: bool,
    /// Opcode.
    pub opcode: u8,
    /// AA: the answer comes from the zone's own data.
    pub authoritative: bool,
    /// TC: cut to fit UDP.
    pub truncated: bool,
    /// The header's four-bit rcode.
    pub rcode: u8,
    /// Question (zone) section: name, type, class.
    pub questions: Vec<(Vec<u8>, u16, u16)>,
    /// Answer (prerequisite) section.
    pub answers: Vec<Record>,
    /// Authority (update) section.
    pub authority: Vec<Record>,
    /// Additional section.
    pub additional: Vec<Record>,
}

/// Reads bytes as they come, every read checked.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn name(&mut self) -> Result<Vec<u8>, WireError> {
        let (name, next) = read_name(self.buf, self.pos)?;
        self.pos = next;
        Ok(name)
    }
}

/// Reads a possibly compressed name at `at`: the name (lower case, wire form) and where
/// the bytes after it start. Pointers may only point backwards, and at most
/// [`MAX_JUMPS`] are followed.
pub fn read_name(buf: &[u8], at: usize) -> Result<(Vec<u8>, usize), WireError> {
    let mut out = Vec::new();
    let mut pos = at;
    let mut after = None;
    let mut jumps = 0;
    loop {
        let len = *buf.get(pos).ok_or(WireError::Truncated)?;
        match len {
            0 => {
                out.push(0);
                if out.len() > MAX_NAME {
                    return Err(WireError::BadName);
                }
                return Ok((out, after.unwrap_or(pos + 1)));
            }
            1..=63 => {
                let label = buf
                    .get(pos + 1..pos + 1 + len as usize)
                    .ok_or(WireError::Truncated)?;
                out.push(len);
                out.extend(label.iter().map(|b| b.to_ascii_lowercase()));
                if out.len() > MAX_NAME {
                    return Err(WireError::BadName);
                }
                pos += 1 + len as usize;
            }
            0xC0..=0xFF => {
                let low = *buf.get(pos + 1).ok_or(WireError::Truncated)?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                jumps += 1;
                if target >= pos || jumps > MAX_JUMPS {
                    return Err(WireError::BadName);
                }
                after.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(WireError::BadName),
        }
    }
}

/// Decodes a whole message. Bytes after the last record are an error: a reply is exactly
/// one message, and the TSIG must be its last record.
pub fn decode(buf: &[u8]) -> Result<Message, WireError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    // Every question takes at least 5 bytes and every record 11, so counts beyond what the
    // message can hold are rejected before anything is allocated for them.
    let least = usize::from(counts[0]) * 5
        + (usize::from(counts[1]) + usize::from(counts[2]) + usize::from(counts[3])) * 11;
    if least > buf.len().saturating_sub(HEADER_LEN) {
        return Err(WireError::BadLayout);
    }
    let mut questions = Vec::with_capacity(counts[0].into());
    for _ in 0..counts[0] {
        let qname = r.name()?;
        questions.push((qname, r.u16()?, r.u16()?));
    }
    let mut sections = [Vec::new(), Vec::new(), Vec::new()];
    for (section, &count) in sections.iter_mut().zip(&counts[1..]) {
        for _ in 0..count {
            section.push(record(&mut r)?);
        }
    }
    if r.pos != buf.len() {
        return Err(WireError::BadLayout);
    }
    let [answers, authority, additional] = sections;
    Ok(Message {
        id,
        is_reply: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0F) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0x000F) as u8,
        questions,
        answers,
        authority,
        additional,
    })
}

fn record(r: &mut Reader<'_>) -> Result<Record, WireError> {
    let start = r.pos;
    let owner = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let len = r.u16()?;
    let rdata_at = r.pos;
    let rdata = r.take(len.into())?.to_vec();
    Ok(Record {
        owner,
        rtype,
        class,
        ttl,
        rdata,
        start,
        rdata_at,
    })
}

/// A TSIG record's fields (RFC 8945 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigRdata {
    /// Algorithm name, wire form, lower case.
    pub algorithm: Vec<u8>,
    /// Seconds since the epoch, 48 bits.
    pub time: u64,
    /// Allowed skew.
    pub fudge: u16,
    /// The MAC; empty in BADKEY/BADSIG replies.
    pub mac: Vec<u8>,
    /// The ID the request had.
    pub original_id: u16,
    /// TSIG error: 0, or BADSIG (16), BADKEY (17), BADTIME (18), BADTRUNC (22).
    pub error: u16,
    /// Other data: the server's time in a BADTIME reply.
    pub other: Vec<u8>,
}

impl TsigRdata {
    /// Reads the data of a TSIG record of `message` (whose data starts at `at`, `len`
    /// bytes long).
    pub fn read(message: &[u8], record: &Record) -> Result<TsigRdata, WireError> {
        let end = record.rdata_at + record.rdata.len();
        let bounded = message.get(..end).ok_or(WireError::Truncated)?;
        let mut r = Reader {
            buf: bounded,
            pos: record.rdata_at,
        };
        let algorithm = r.name()?;
        let high = r.u16()?;
        let low = r.u32()?;
        let fudge = r.u16()?;
        let mac_len = r.u16()?;
        let mac = r.take(mac_len.into())?.to_vec();
        let original_id = r.u16()?;
        let error = r.u16()?;
        let other_len = r.u16()?;
        let other = r.take(other_len.into())?.to_vec();
        if r.pos != end {
            return Err(WireError::BadLayout);
        }
        Ok(TsigRdata {
            algorithm,
            time: (u64::from(high) << 32) | u64::from(low),
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }

    /// The data as written into a request or reply.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.algorithm.clone();
        out.extend_from_slice(&self.time.to_be_bytes()[2..]);
        out.extend_from_slice(&self.fudge.to_be_bytes());
        out.extend_from_slice(&(self.mac.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.mac);
        out.extend_from_slice(&self.original_id.to_be_bytes());
        out.extend_from_slice(&self.error.to_be_bytes());
        out.extend_from_slice(&(self.other.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.other);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_lower_case_absolute_and_bounded() {
        assert_eq!(
            name("Home.Example.COM.").unwrap(),
            b"\x04home\x07example\x03com\x00"
        );
        assert_eq!(name("").unwrap(), b"\x00");
        assert_eq!(name("a..b"), Err(WireError::BadName));
        assert_eq!(name(&"x".repeat(64)), Err(WireError::BadName));
        let long = vec!["abcdefghi"; 26].join(".");
        assert_eq!(name(&long), Err(WireError::BadName));
        assert_eq!(
            name_text(&name("home.example.com").unwrap()),
            "home.example.com."
        );
        assert_eq!(name_text(b"\x02a.\x00"), "a\\046.");
    }

    #[test]
    fn an_update_has_the_rfc_2136_layout() {
        let zone = name("example.com").unwrap();
        let host = name("home.example.com").unwrap();
        let delete = Rr {
            owner: host.clone(),
            rtype: TYPE_A,
            class: CLASS_ANY,
            ttl: 0,
            rdata: vec![],
        };
        let add = Rr {
            ttl: 300,
            class: CLASS_IN,
            rdata: vec![198, 51, 100, 7],
            ..delete.clone()
        };
        let bytes = update(0x1234, &zone, &[], &[delete, add]);
        assert_eq!(
            &bytes[..12],
            b"\x12\x34\x28\x00\x00\x01\x00\x00\x00\x02\x00\x00"
        );
        let m = decode(&bytes).unwrap();
        assert_eq!((m.opcode, m.is_reply, m.authority.len()), (5, false, 2));
        assert_eq!(m.questions, vec![(zone, TYPE_SOA, CLASS_IN)]);
        assert_eq!(m.authority[1].rdata, vec![198, 51, 100, 7]);
        assert_eq!(m.authority[1].ttl, 300);
        assert_eq!(m.authority[0].class, CLASS_ANY);
    }

    #[test]
    fn compressed_names_are_followed_backwards_only() {
        // Header, question example.com, answer owner = pointer to the question name.
        let mut msg = query(7, &name("example.com").unwrap(), TYPE_A);
        msg[7] = 1;
        msg.extend_from_slice(
            b"\x03www\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3C\x00\x04\x01\x02\x03\x04",
        );
        let m = decode(&msg).unwrap();
        assert_eq!(name_text(&m.answers[0].owner), "www.example.com.");
        // A pointer to itself, and one forwards, are refused.
        assert_eq!(read_name(b"\xC0\x00", 0), Err(WireError::BadName));
        assert_eq!(read_name(b"\xC0\x02\x00", 0), Err(WireError::BadName));
        assert_eq!(read_name(b"\x40", 0), Err(WireError::BadName));
        assert_eq!(read_name(b"\x05ab", 0), Err(WireError::Truncated));
    }

    #[test]
    fn every_truncation_of_a_reply_is_an_error() {
        let mut msg = query(7, &name("example.com").unwrap(), TYPE_A);
        msg[7] = 1;
        msg.extend_from_slice(b"\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3C\x00\x04\x01\x02\x03\x04");
        assert!(decode(&msg).is_ok());
        for cut in 0..msg.len() {
            assert!(decode(&msg[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = msg.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(WireError::BadLayout));
    }

    #[test]
    fn tsig_data_round_trips() {
        let data = TsigRdata {
            algorithm: name("hmac-sha256").unwrap(),
            time: 0x0001_2345_6789,
            fudge: 300,
            mac: vec![9; 32],
            original_id: 77,
            error: 18,
            other: vec![0, 0, 1, 2, 3, 4],
        };
        let mut msg = header(77, 0, [0, 0, 0, 1]);
        Rr {
            owner: name("key").unwrap(),
            rtype: TYPE_TSIG,
            class: CLASS_ANY,
            ttl: 0,
            rdata: data.to_bytes(),
        }
        .write(&mut msg);
        let m = decode(&msg).unwrap();
        assert_eq!(TsigRdata::read(&msg, &m.additional[0]).unwrap(), data);
    }

    proptest! {
        #[test]
        fn any_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(m) = decode(&bytes) {
                for r in m.answers.iter().chain(&m.authority).chain(&m.additional) {
                    let _ = TsigRdata::read(&bytes, r);
                    let _ = read_name(&bytes, r.rdata_at);
                }
            }
        }

        #[test]
        fn mutated_replies_decode_without_panic(
            flips in proptest::collection::vec((0usize..80, any::<u8>()), 1..8)
        ) {
            let mut msg = query(7, &name("home.example.com").unwrap(), TYPE_A);
            msg[7] = 2;
            for _ in 0..2 {
                msg.extend_from_slice(b"\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3C\x00\x04\x01\x02\x03\x04");
            }
            for (at, value) in flips {
                if let Some(b) = msg.get_mut(at) {
                    *b = value;
                }
            }
            if let Ok(m) = decode(&msg) {
                for r in m.answers.iter().chain(&m.authority).chain(&m.additional) {
                    let _ = TsigRdata::read(&msg, r);
                    let _ = read_name(&msg, r.rdata_at);
                }
            }
        }
    }
}
