//! The CGI boundary (RFC 3875): environment variables in, a header block and body out.
//! Pure: `main` reads the real environment and stdin and hands them over.

use std::collections::HashMap;
use std::io::{self, Write};

/// Largest request body read; update forms are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// What the web server told us about the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgiRequest {
    /// `REQUEST_METHOD`, upper case.
    pub method: String,
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
}

impl CgiRequest {
    /// Builds the request from CGI variables (any other variables are ignored).
    pub fn from_vars(vars: &HashMap<String, String>, body: Vec<u8>) -> CgiRequest {
        let get = |name: &str| vars.get(name).cloned();
        let non_empty = |name: &str| get(name).filter(|v| !v.is_empty());
        CgiRequest {
            method: get("REQUEST_METHOD")
                .unwrap_or_else(|| "GET".into())
                .to_ascii_uppercase(),
            path_info: get("PATH_INFO").unwrap_or_default(),
            query: get("QUERY_STRING").unwrap_or_default(),
            content_type: non_empty("CONTENT_TYPE"),
            body,
            remote_addr: non_empty("REMOTE_ADDR"),
            remote_user: non_empty("REMOTE_USER"),
            user_agent: non_empty("HTTP_USER_AGENT"),
        }
    }

    /// The body length `main` should read, from `CONTENT_LENGTH`, capped at [`MAX_BODY`].
    pub fn body_length(vars: &HashMap<String, String>) -> usize {
        vars.get("CONTENT_LENGTH")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_BODY)
    }
}

/// The answer: a status with its reason phrase (inadyn needs the phrase), headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgiResponse {
    /// Status code.
    pub status: u16,
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
        CgiResponse {
            status,
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
            "Status: {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
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
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
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
        assert_eq!(CgiRequest::body_length(&vars), MAX_BODY);
    }
}
