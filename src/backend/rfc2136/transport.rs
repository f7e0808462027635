//! Carrying one DNS message to the server and its reply back, within the request's one time
//! budget: TCP (RFC 1035 §4.2.2, a 2-byte length before each message), or UDP for messages
//! of at most 512 bytes, falling back to TCP when the reply is truncated.

use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use crate::budget::Budget;

/// Largest message sent over UDP (RFC 1035 §4.2.1, RFC 2136 §2.1).
pub const UDP_LIMIT: usize = 512;
/// Largest message a DNS transport carries: TCP frames it with a 2-byte length
/// (RFC 1035 §4.2.2).
pub const MESSAGE_LIMIT: usize = 65535;
/// Sends of one UDP message at most, always the same bytes.
const UDP_SENDS: u32 = 3;
/// Largest reply read over UDP.
const UDP_READ: usize = 4096;

/// Why an exchange gave no reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The budget ran out first.
    Timeout,
    /// No connection or no way to send: refused, unreachable, unknown host.
    Unreachable(String),
    /// The connection broke or the reply was cut short.
    Broken(String),
    /// The message is longer than [`MESSAGE_LIMIT`]: nothing was sent.
    TooLarge(usize),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("no answer within the time left"),
            Failure::Unreachable(why) | Failure::Broken(why) => f.write_str(why),
            Failure::TooLarge(len) => write!(
                f,
                "a message of {len} bytes, more than the {MESSAGE_LIMIT} DNS allows"
            ),
        }
    }
}

/// One request, one reply.
pub trait Transport {
    /// Sends `message` and returns the reply's bytes (not yet checked further). Over UDP,
    /// a datagram `settles` does not accept is set aside and the wait goes on for one it
    /// does; the one set aside is returned only when none came.
    fn exchange(&self, message: &[u8], settles: &dyn Fn(&[u8]) -> bool)
    -> Result<Vec<u8>, Failure>;
    /// `server:port over tcp`, for log lines.
    fn describe(&self) -> String;
    /// The protocol a message of `len` bytes is sent over first.
    fn carrier(&self, _len: usize) -> Protocol {
        Protocol::Tcp
    }
}

/// Which protocol to prefer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP for every message (the default: an accurate rcode, RFC 2136 §7.8).
    Tcp,
    /// UDP for messages that fit, TCP otherwise.
    Udp,
}

impl Protocol {
    /// What a message of `len` bytes goes over: UDP only when preferred and it fits.
    pub fn for_len(self, len: usize) -> Protocol {
        if self == Protocol::Udp && len <= UDP_LIMIT {
            Protocol::Udp
        } else {
            Protocol::Tcp
        }
    }

    /// The name the config uses.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// The sockets to a server, spending `budget`.
pub struct Network {
    /// Host name or address.
    pub server: String,
    /// Port.
    pub port: u16,
    /// Preferred protocol.
    pub protocol: Protocol,
    /// The request's budget.
    pub budget: Budget,
}

impl Transport for Network {
    fn exchange(
        &self,
        message: &[u8],
        settles: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Vec<u8>, Failure> {
        if message.len() > MESSAGE_LIMIT {
            return Err(Failure::TooLarge(message.len()));
        }
        let left = self.budget.remaining();
        if left.is_zero() {
            return Err(Failure::Timeout);
        }
        let deadline = Instant::now() + left;
        self.budget.spend(|| {
            let addr = self.address()?;
            if self.protocol.for_len(message.len()) == Protocol::Udp {
                // None: truncated, so again over TCP.
                if let Some(reply) = udp(addr, message, deadline, settles)? {
                    return Ok(reply);
                }
            }
            tcp(addr, message, deadline)
        })
    }

    fn describe(&self) -> String {
        format!(
            "{}:{} over {}",
            self.server,
            self.port,
            self.protocol.name()
        )
    }

    fn carrier(&self, len: usize) -> Protocol {
        self.protocol.for_len(len)
    }
}

impl Network {
    fn address(&self) -> Result<SocketAddr, Failure> {
        let mut addrs = (self.server.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| Failure::Unreachable(format!("cannot resolve {}: {e}", self.server)))?;
        addrs
            .next()
            .ok_or_else(|| Failure::Unreachable(format!("{} has no address", self.server)))
    }
}

/// Time left until `deadline`, or a timeout.
fn left(deadline: Instant) -> Result<Duration, Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_millis(1) {
        Err(Failure::Timeout)
    } else {
        Ok(left)
    }
}

fn io_failure(e: std::io::Error, what: &str) -> Failure {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Failure::Timeout,
        ErrorKind::ConnectionRefused => Failure::Unreachable(format!("{what}: connection refused")),
        _ => Failure::Broken(format!("{what}: {e}")),
    }
}

/// One exchange over TCP; every read and write bounded by what is left of the deadline.
fn tcp(addr: SocketAddr, message: &[u8], deadline: Instant) -> Result<Vec<u8>, Failure> {
    let mut stream = TcpStream::connect_timeout(&addr, left(deadline)?)
        .map_err(|e| io_failure(e, "connecting over TCP"))?;
    let len = u16::try_from(message.len()).map_err(|_| Failure::TooLarge(message.len()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    stream
        .set_write_timeout(Some(left(deadline)?))
        .and_then(|()| stream.write_all(&framed))
        .map_err(|e| io_failure(e, "sending over TCP"))?;
    let mut len = [0u8; 2];
    read_full(&mut stream, &mut len, deadline)?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_full(&mut stream, &mut reply, deadline)?;
    Ok(reply)
}

/// Fills `buf`, resetting the read timeout to what is left before each read, so a server
/// sending a byte at a time cannot stretch the deadline.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), Failure> {
    let mut filled = 0;
    while filled < buf.len() {
        stream
            .set_read_timeout(Some(left(deadline)?))
            .map_err(|e| io_failure(e, "reading over TCP"))?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Failure::Broken(
                    "the server closed the connection before its answer was complete".into(),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_failure(e, "reading over TCP")),
        }
    }
    Ok(())
}

/// One exchange over UDP: the same bytes sent up to three times, waiting 1 s after the
/// first send and 2 s after each later one (RFC 2136 §7.8 for why the bytes stay the same).
/// Replies with another ID are ignored, and one `settles` refuses is kept only in case no
/// other comes. `None` when the reply is truncated.
fn udp(
    addr: SocketAddr,
    message: &[u8],
    deadline: Instant,
    settles: &dyn Fn(&[u8]) -> bool,
) -> Result<Option<Vec<u8>>, Failure> {
    let local: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let socket = UdpSocket::bind(local).map_err(|e| io_failure(e, "opening a UDP socket"))?;
    // Connected: the kernel drops datagrams from any other source.
    socket
        .connect(addr)
        .map_err(|e| io_failure(e, "connecting the UDP socket"))?;
    let mut buf = vec![0u8; UDP_READ];
    let mut unsettled = None;
    for send in 0..UDP_SENDS {
        socket
            .send(message)
            .map_err(|e| io_failure(e, "sending over UDP"))?;
        let wait = Duration::from_secs(if send == 0 { 1 } else { 2 });
        let until = (Instant::now() + wait).min(deadline);
        while let Some(timeout) = until
            .checked_duration_since(Instant::now())
            .filter(|t| *t >= Duration::from_millis(1))
        {
            socket
                .set_read_timeout(Some(timeout))
                .map_err(|e| io_failure(e, "reading over UDP"))?;
            match socket.recv(&mut buf) {
                Ok(n) if n >= 3 && buf[..2] == message[..2] => {
                    if buf[2] & 0x02 != 0 {
                        return Ok(None);
                    }
                    if settles(&buf[..n]) {
                        return Ok(Some(buf[..n].to_vec()));
                    }
                    unsettled = Some(buf[..n].to_vec());
                }
                Ok(_) => {} // another ID: not ours
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return unsettled.map(Some).ok_or(io_failure(e, "reading over UDP")),
            }
        }
        if left(deadline).is_err() {
            break;
        }
    }
    unsettled.map(Some).ok_or(Failure::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn network(port: u16, protocol: Protocol, budget: Duration) -> Network {
        Network {
            server: "127.0.0.1".into(),
            port,
            protocol,
            budget: Budget::new(budget),
        }
    }

    #[test]
    fn a_closed_port_fails_at_once_and_a_silent_one_within_the_budget() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let started = Instant::now();
        let n = network(port, Protocol::Tcp, Duration::from_secs(5));
        assert!(matches!(
            n.exchange(b"x", &|_| true),
            Err(Failure::Unreachable(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(1));

        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let n = network(port, Protocol::Udp, Duration::from_millis(1500));
        let started = Instant::now();
        assert_eq!(n.exchange(&[0; 20], &|_| true), Err(Failure::Timeout));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1400) && took < Duration::from_millis(2000),
            "{took:?}"
        );
        assert_eq!(n.budget.remaining(), Duration::ZERO);
        assert_eq!(n.exchange(&[0; 20], &|_| true), Err(Failure::Timeout));
    }

    #[test]
    fn tcp_frames_messages_by_length() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut len = [0u8; 2];
            s.read_exact(&mut len).unwrap();
            let mut msg = vec![0u8; u16::from_be_bytes(len).into()];
            s.read_exact(&mut msg).unwrap();
            msg.reverse();
            s.write_all(&[0, msg.len() as u8]).unwrap();
            s.write_all(&msg).unwrap();
        });
        let n = network(port, Protocol::Tcp, Duration::from_secs(5));
        assert_eq!(n.exchange(b"abc", &|_| true).unwrap(), b"cba");
        server.join().unwrap();
        assert_eq!(n.budget.calls(), 1);
    }

    #[test]
    fn a_message_over_65535_bytes_is_refused_before_sending() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let n = network(port, Protocol::Tcp, Duration::from_secs(5));
        let big = vec![0u8; MESSAGE_LIMIT + 1];
        assert_eq!(
            n.exchange(&big, &|_| true),
            Err(Failure::TooLarge(MESSAGE_LIMIT + 1))
        );
        // Nothing connected, and no exchange counted.
        assert!(listener.accept().is_err());
        assert_eq!(n.budget.calls(), 0);
        // The framing refuses it too, whatever calls it.
        let addr = listener.local_addr().unwrap();
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(
            tcp(addr, &big, deadline),
            Err(Failure::TooLarge(MESSAGE_LIMIT + 1))
        );
    }

    #[test]
    fn udp_waits_past_a_datagram_that_settles_nothing() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let replier = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (len, from) = server.recv_from(&mut buf).unwrap();
            let id = [buf[0], buf[1]];
            // A forged reply first, then the real one, both with the request's ID.
            server.send_to(&[id[0], id[1], 0x80, b'f'], from).unwrap();
            server.send_to(&[id[0], id[1], 0x80, b'r'], from).unwrap();
            len
        });
        let n = network(port, Protocol::Udp, Duration::from_secs(3));
        let reply = n.exchange(&[7, 9, 0, 0, 0], &|r| r.get(3) == Some(&b'r'));
        assert_eq!(reply.unwrap(), [7, 9, 0x80, b'r']);
        assert_eq!(replier.join().unwrap(), 5);

        // Only the forged one: it is returned once the wait is over, for the caller to
        // refuse with its own words.
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let replier = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (_, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&[buf[0], buf[1], 0x80, b'f'], from).unwrap();
            // Still there, silent, for the resends.
            server
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            let mut resends = 0;
            while server.recv_from(&mut buf).is_ok() {
                resends += 1;
            }
            resends
        });
        let n = network(port, Protocol::Udp, Duration::from_millis(1500));
        let started = Instant::now();
        let reply = n.exchange(&[7, 9, 0, 0, 0], &|r| r.get(3) == Some(&b'r'));
        assert_eq!(reply.unwrap(), [7, 9, 0x80, b'f']);
        assert!(started.elapsed() >= Duration::from_millis(1400));
        assert_eq!(replier.join().unwrap(), 1, "sent again once after 1 s");
    }

    #[test]
    fn udp_sends_a_message_over_512_bytes_over_tcp() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        udp.set_nonblocking(true).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = tcp.accept().unwrap();
            let mut len = [0u8; 2];
            s.read_exact(&mut len).unwrap();
            let mut msg = vec![0u8; u16::from_be_bytes(len).into()];
            s.read_exact(&mut msg).unwrap();
            s.write_all(&[0, 3, msg[0], msg[1], 0x80]).unwrap();
            msg.len()
        });
        let n = network(port, Protocol::Udp, Duration::from_secs(5));
        let mut big = vec![0u8; UDP_LIMIT + 1];
        big[..2].copy_from_slice(&[4, 2]);
        assert_eq!(n.carrier(big.len()), Protocol::Tcp);
        assert_eq!(n.carrier(UDP_LIMIT), Protocol::Udp);
        assert_eq!(n.exchange(&big, &|_| true).unwrap(), [4, 2, 0x80]);
        assert_eq!(server.join().unwrap(), UDP_LIMIT + 1);
        let mut buf = [0u8; 16];
        assert!(udp.recv(&mut buf).is_err(), "nothing came over UDP");
    }
}
