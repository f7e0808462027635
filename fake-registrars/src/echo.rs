//! Fake "what is my IP" providers: a plain HTTP server on 127.0.0.1 or [::1] answering each
//! request from a script (status, headers, body, delay), recording what was asked (path,
//! User-Agent, Accept). Stopped when dropped; a delayed answer never outlives its delay.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct EchoReply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// Wait this long before answering (a "silent" provider waits long).
    pub delay: Duration,
}

impl EchoReply {
    /// A 200 with this body.
    pub fn body(body: &str) -> EchoReply {
        EchoReply {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// This status with a short body.
    pub fn status(status: u16) -> EchoReply {
        EchoReply {
            status,
            ..EchoReply::body("refused\n")
        }
    }

    /// The same answer, given after `delay`.
    pub fn after(mut self, delay: Duration) -> EchoReply {
        self.delay = delay;
        self
    }

    /// The same answer with a header.
    pub fn header(mut self, name: &str, value: &str) -> EchoReply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// What one request asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The path and query.
    pub path: String,
    /// `User-Agent`.
    pub agent: Option<String>,
    /// `Accept`.
    pub accept: Option<String>,
}

type Script = dyn Fn(usize, &str) -> EchoReply + Send + Sync;

/// A running fake provider.
pub struct Echo {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<Asked>>>,
    accept_loop: Option<JoinHandle<()>>,
}

impl Echo {
    /// Serves `script(n, path)` for the n-th request (from 0) on 127.0.0.1, or [::1] with `v6`.
    pub fn start<F>(v6: bool, script: F) -> std::io::Result<Echo>
    where
        F: Fn(usize, &str) -> EchoReply + Send + Sync + 'static,
    {
        let bind = if v6 { "[::1]:0" } else { "127.0.0.1:0" };
        let server =
            tiny_http::Server::http(bind).map_err(|e| std::io::Error::other(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| std::io::Error::other("no IP address"))?;
        let server = Arc::new(server);
        let asked = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let (accepting, log) = (Arc::clone(&server), Arc::clone(&asked));
        let accept_loop = std::thread::spawn(move || {
            for request in accepting.incoming_requests() {
                let header = |name: &str| {
                    request
                        .headers()
                        .iter()
                        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                        .map(|h| h.value.as_str().to_string())
                };
                let one = Asked {
                    path: request.url().to_string(),
                    agent: header("user-agent"),
                    accept: header("accept"),
                };
                let n = {
                    let mut all = log.lock().unwrap();
                    all.push(one.clone());
                    all.len() - 1
                };
                let reply = script(n, &one.path);
                std::thread::spawn(move || {
                    std::thread::sleep(reply.delay);
                    let mut response =
                        tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
                    for (name, value) in &reply.headers {
                        if let Ok(h) =
                            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                        {
                            response.add_header(h);
                        }
                    }
                    let _ = request.respond(response);
                });
            }
        });
        Ok(Echo {
            server,
            addr,
            asked,
            accept_loop: Some(accept_loop),
        })
    }

    /// Always the same answer.
    pub fn fixed(v6: bool, reply: EchoReply) -> Echo {
        Echo::start(v6, move |_, _| reply.clone()).expect("start a fake provider")
    }

    /// `http://127.0.0.1:PORT/ip` (or `http://[::1]:PORT/ip`).
    pub fn url(&self) -> String {
        format!("http://{}/ip", self.addr)
    }

    /// `http://…:PORT` without a path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    /// How many requests came.
    pub fn count(&self) -> usize {
        self.asked.lock().unwrap().len()
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(handle) = self.accept_loop.take() {
            let _ = handle.join();
        }
    }
}
