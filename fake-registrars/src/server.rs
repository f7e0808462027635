//! A real HTTP/1.1 server on 127.0.0.1 with a port chosen by the OS, shared by the fakes.
//!
//! Each request is handled on its own thread, as a real registrar serves many clients at
//! once; that matters for the concurrency tests. The server stops when dropped.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the handler sees it: everything already read.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query as sent, e.g. `/v5/livedns/domains?page=1`.
    pub url: String,
    /// Header names as sent; compare case-insensitively with [`Incoming::header`].
    pub headers: Vec<(String, String)>,
    /// The body, decoded as UTF-8 (lossily: the fakes only speak text).
    pub body: String,
}

impl Incoming {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    /// The query string without `?`, or "".
    pub fn query(&self) -> &str {
        self.url.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// Extra headers, e.g. `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// A reply with one `Content-Type` header.
    pub fn new(status: u16, content_type: &str, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A running server. Dropping it stops the accept loop and waits for it.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    accept_loop: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `127.0.0.1:port` (0 = let the OS pick) and serves `handler` until dropped.
    pub fn start<H>(port: u16, handler: H) -> std::io::Result<HttpServer>
    where
        H: Fn(Incoming) -> Reply + Send + Sync + 'static,
    {
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| std::io::Error::other("server has no IP address"))?;
        let server = Arc::new(server);
        let handler = Arc::new(handler);
        let accepting = Arc::clone(&server);
        let accept_loop = std::thread::spawn(move || {
            for request in accepting.incoming_requests() {
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || serve_one(request, handler.as_ref()));
            }
        });
        Ok(HttpServer {
            server,
            addr,
            accept_loop: Some(accept_loop),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(handle) = self.accept_loop.take() {
            let _ = handle.join();
        }
    }
}

fn serve_one<H: Fn(Incoming) -> Reply + ?Sized>(mut request: tiny_http::Request, handler: &H) {
    let mut body = Vec::new();
    // A bounded read: nothing a client of ours sends is anywhere near this.
    let _ = request
        .as_reader()
        .take(4 * 1024 * 1024)
        .read_to_end(&mut body);
    let incoming = Incoming {
        method: request.method().as_str().to_string(),
        url: request.url().to_string(),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let reply = handler(incoming);
    let mut response = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
    for (name, value) in &reply.headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}

/// Sleeps for an injected latency, if any.
pub fn delay(latency: Duration) {
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
}
