//! The CGI boundary (RFC 3875): environment variables in, a header block and body out.
//! `main` hands over the real environment and stdin; nothing here looks for them itself.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

/// Largest request body read; update forms are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// Longest wait for a request body. A form of a few hundred bytes arrives at once; a client
/// that announces more than it sends must not hold the request (and a web server's CGI
/// slot) open.
pub const BODY_DEADLINE: Duration = Duration::from_secs(5);

/// Why a request body is treated as absent. The dialect's rule for a body that is not a
/// complete form is that it carries no parameters: the query alone is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// `CONTENT_LENGTH` is above [`MAX_BODY`]; nothing is read.
    TooLarge {
        /// The announced length.
        declared: usize,
    },
    /// Standard input ended before `CONTENT_LENGTH` bytes came.
    Short {
        /// The announced length.
        declared: usize,
        /// The bytes that came.
        got: usize,
    },
    /// The body did not come within the deadline.
    Late {
        /// The announced length.
        declared: usize,
        /// The deadline.
        deadline: Duration,
    },
    /// Reading standard input failed.
    Unreadable(io::ErrorKind),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge { declared } => write!(
                f,
                "request body of {declared} bytes (CONTENT_LENGTH) is larger than the {MAX_BODY} bytes an update form can need"
            ),
            BodyError::Short { declared, got } => write!(
                f,
                "request body ended after {got} of {declared} bytes (CONTENT_LENGTH); the client gave up or the web server cut it off"
            ),
            BodyError::Late { declared, deadline } => write!(
                f,
                "request body of {declared} bytes (CONTENT_LENGTH) did not arrive within {} s",
                deadline.as_secs()
            ),
            BodyError::Unreadable(kind) => {
                write!(f, "request body could not be read from stdin ({kind})")
            }
        }
    }
}

/// Reads exactly `length` bytes of body from `input` within `deadline`. The read runs on
/// its own thread, so a client that never sends what it announced costs the deadline and
/// no more; the blocked thread ends with the process.
pub fn read_body<R: Read + Send + 'static>(
    input: R,
    length: usize,
    deadline: Duration,
) -> Result<Vec<u8>, BodyError> {
    if length == 0 {
        return Ok(Vec::new());
    }
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut body = Vec::with_capacity(length);
        let read = input.take(length as u64).read_to_end(&mut body);
        let _ = sender.send(read.map(|_| body));
    });
    match receiver.recv_timeout(deadline) {
        Ok(Ok(body)) if body.len() == length => Ok(body),
        Ok(Ok(body)) => Err(BodyError::Short {
            declared: length,
            got: body.len(),
        }),
        Ok(Err(e)) => Err(BodyError::Unreadable(e.kind())),
        Err(_) => Err(BodyError::Late {
            declared: length,
            deadline,
        }),
    }
}

/// What the web server told us about the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgiRequest {
    /// `REQUEST_METHOD`, upper case.
    pub method: String,
    /// `SCRIPT_NAME`: the path the script is mounted at (`/nic/update` with one mount per
    /// path, `/ddns` when mounted once under a prefix).
    pub script_name: String,
    /// `PATH_INFO`: the path after the script ("" when the script is mounted at the update
    /// path itself, as with `ScriptAlias /nic/update`).
    pub path_info: String,
    /// `QUERY_STRING`, still percent-encoded.
    pub query: String,
    /// `CONTENT_TYPE` of a body.
    pub content_type: Option<String>,
    /// The body (POST/PUT), at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// `REMOTE_ADDR`: the client's address, the default update target.
    pub remote_addr: Option<String>,
    /// `REMOTE_USER`: the user the web server authenticated; None or empty → nobody.
    pub remote_user: Option<String>,
    /// `HTTP_USER_AGENT`, for the log.
    pub user_agent: Option<String>,
    /// `HTTP_AUTHORIZATION`, when the web server passes the header on for ddns-cgi to check.
    pub authorization: Option<String>,
}

/// Where CGI variables are read from: the process environment in `main`, a map in tests.
/// Only the variables a request needs are ever looked up, so the dozens a web server sets
/// besides (`SERVER_SIGNATURE`, `DOCUMENT_ROOT`, every request header) cost nothing.
pub trait Vars {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

impl Vars for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl CgiRequest {
    /// Builds the request from CGI variables (any other variables are ignored).
    pub fn from_vars(vars: &impl Vars, body: Vec<u8>) -> CgiRequest {
        let get = |name: &str| vars.var(name);
        let non_empty = |name: &str| get(name).filter(|v| !v.is_empty());
        CgiRequest {
            method: method(vars),
            script_name: get("SCRIPT_NAME").unwrap_or_default(),
            path_info: get("PATH_INFO").unwrap_or_default(),
            query: get("QUERY_STRING").unwrap_or_default(),
            content_type: non_empty("CONTENT_TYPE"),
            body,
            remote_addr: non_empty("REMOTE_ADDR"),
            remote_user: non_empty("REMOTE_USER"),
            user_agent: non_empty("HTTP_USER_AGENT"),
            authorization: non_empty("HTTP_AUTHORIZATION"),
        }
    }

    /// The body length `main` should read: `CONTENT_LENGTH` for POST and PUT, nothing for
    /// other methods (a GET's body means nothing, and waiting for one could hang).
    pub fn body_length(vars: &impl Vars) -> Result<usize, BodyError> {
        if !matches!(method(vars).as_str(), "POST" | "PUT") {
            return Ok(0);
        }
        match vars
            .var("CONTENT_LENGTH")
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            Some(declared) if declared > MAX_BODY => Err(BodyError::TooLarge { declared }),
            length => Ok(length.unwrap_or(0)),
        }
    }
}

/// `REQUEST_METHOD`, upper case; GET when the server sets none.
fn method(vars: &impl Vars) -> String {
    vars.var("REQUEST_METHOD")
        .map_or_else(|| "GET".into(), |m| m.to_ascii_uppercase())
}

/// The answer: a status with its reason phrase (inadyn needs the phrase), headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgiResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, chosen by the dialect.
    pub content_type: &'static str,
    /// Extra headers besides `Status`, `Content-Type` and `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// HEAD: send the headers only.
    pub head_only: bool,
}

impl CgiResponse {
    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<String>) -> CgiResponse {
        CgiResponse::new(status, "text/plain; charset=utf-8", body)
    }

    /// An answer of any content type.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> CgiResponse {
        CgiResponse {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
            head_only: false,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> CgiResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Writes the CGI header block and the body.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut head = format!(
            "Status: {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            // Values are ours, but a stray line break would split the header block.
            let value = value.replace(['\r', '\n'], " ");
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // One write for the whole answer: stdout is a pipe to the web server.
        if !self.head_only {
            head.push_str(&self.body);
        }
        out.write_all(head.as_bytes())?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        // The reason the dyndns server's answers carry.
        452..=457 | 512 => "UNKNOWN",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_status_with_reason_and_length() {
        let mut out = Vec::new();
        CgiResponse::text(401, "badauth\n")
            .with_header("WWW-Authenticate", "Basic realm=\"ddns\"")
            .write_to(&mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Status: 401 Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 8\r\nWWW-Authenticate: Basic realm=\"ddns\"\r\n\r\nbadauth\n"
        );
    }

    #[test]
    fn reads_variables() {
        let vars: HashMap<String, String> = [
            ("REQUEST_METHOD", "get"),
            ("QUERY_STRING", "hostname=a.example.com"),
            ("REMOTE_USER", ""),
            ("CONTENT_LENGTH", "999999999"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let req = CgiRequest::from_vars(&vars, Vec::new());
        assert_eq!(req.method, "GET");
        assert_eq!(req.remote_user, None);
        assert_eq!(req.path_info, "");
        // A GET's body is never read, whatever CONTENT_LENGTH says.
        assert_eq!(CgiRequest::body_length(&vars), Ok(0));
    }

    #[test]
    fn only_post_and_put_bodies_are_read_and_bounded() {
        let vars = |method: &str, length: &str| -> HashMap<String, String> {
            [("REQUEST_METHOD", method), ("CONTENT_LENGTH", length)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        for method in ["GET", "HEAD", "DELETE", "get"] {
            assert_eq!(
                CgiRequest::body_length(&vars(method, "5")),
                Ok(0),
                "{method}"
            );
        }
        assert_eq!(CgiRequest::body_length(&vars("post", "5")), Ok(5));
        assert_eq!(
            CgiRequest::body_length(&vars("PUT", " 65536 ")),
            Ok(MAX_BODY)
        );
        assert_eq!(CgiRequest::body_length(&vars("POST", "-1")), Ok(0));
        assert_eq!(CgiRequest::body_length(&vars("POST", "")), Ok(0));
        assert_eq!(
            CgiRequest::body_length(&vars("POST", "65537")),
            Err(BodyError::TooLarge { declared: 65537 })
        );
    }

    /// Blocks like a pipe whose writer never writes and never closes.
    struct Silent;

    impl Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            loop {
                std::thread::park();
            }
        }
    }

    #[test]
    fn a_body_is_read_whole_or_not_at_all() {
        let short = Duration::from_millis(50);
        assert_eq!(read_body(&b"abcdef"[..], 4, short), Ok(b"abcd".to_vec()));
        assert_eq!(read_body(Silent, 0, short), Ok(Vec::new()));
        assert_eq!(
            read_body(&b"ab"[..], 4, short),
            Err(BodyError::Short {
                declared: 4,
                got: 2
            })
        );
        assert_eq!(
            read_body(Silent, 4, short),
            Err(BodyError::Late {
                declared: 4,
                deadline: short
            })
        );
        assert_eq!(
            read_body(b"ab".chain(Silent), 4, short),
            Err(BodyError::Late {
                declared: 4,
                deadline: short
            })
        );
    }
}
