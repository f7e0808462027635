//! The one HTTP client all registrars share.
//!
//! Built once per request from the config: the proxy comes from the config only (a client's
//! `Proxy:` header reaches a CGI as `HTTP_PROXY`, and ureq would otherwise obey it —
//! "httpoxy"), one time budget bounds all calls together, and HTTP error statuses are returned,
//! not turned into opaque errors, because their bodies say what went wrong. Redirects are
//! returned too, never followed: a registrar API does not redirect, and following one would
//! carry our credentials to wherever it points.

use std::time::Duration;

use crate::backend::BackendError;
use crate::backend::resolver::CachingResolver;
use crate::backend::scrub::Scrub;
use crate::budget::Budget;
use crate::config::General;

/// A shared agent and the request's time budget.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    /// What all exchanges of the request may take together, shared with every transport.
    budget: Budget,
    /// The secrets to take out of a transport error before it is shown: it may quote the
    /// URL or what the server sent.
    scrub: Scrub,
}

/// A registrar's answer.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// HTTP status.
    pub status: u16,
    /// The headers, for what a registrar says beside the body (Gandi's paging).
    pub headers: ureq::http::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl HttpReply {
    /// A header's value, if present and readable as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A redirect (3xx), which no registrar API answers.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }

    /// The error for a redirect answered to `what`, naming where it pointed (scrubbed of
    /// our secrets: it may carry them back to us).
    pub fn redirect_error(&self, registrar: &str, what: &str, scrub: &Scrub) -> BackendError {
        let location = match self.headers.get("location") {
            Some(value) => format!(
                "redirecting to `{}`",
                scrub.show(&String::from_utf8_lossy(value.as_bytes()))
            ),
            None => "a redirect without a Location".to_string(),
        };
        BackendError::BadResponse {
            registrar: registrar.to_string(),
            detail: format!(
                "HTTP {} for {what}, {location}; not followed, since a registrar API never redirects: check the url key",
                self.status
            ),
        }
    }
}

/// Largest answer read; a whole zone is a few tens of kilobytes.
const MAX_ANSWER: u64 = 8 * 1024 * 1024;

impl Http {
    /// The same agent, cleaning its transport errors of these secrets.
    pub fn scrubbing(mut self, scrub: &Scrub) -> Http {
        self.scrub = scrub.clone();
        self
    }

    /// Builds the agent, spending from `budget`. Fails only for a proxy URL ureq cannot use.
    pub fn new(general: &General, budget: Budget) -> Result<Http, String> {
        let proxy = match &general.proxy {
            None => None,
            Some(url) => Some(ureq::Proxy::new(url).map_err(|e| format!("proxy: {e}"))?),
        };
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            .timeout_global(Some(budget.limit()))
            .timeout_connect(Some(budget.limit().min(Duration::from_secs(10))))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ddns-cgi/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Http {
            agent: ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                CachingResolver::<ureq::unversioned::resolver::DefaultResolver>::default(),
            ),
            budget,
            scrub: Scrub::default(),
        })
    }

    /// The budget the agent spends from.
    pub fn budget(&self) -> Budget {
        self.budget.clone()
    }

    /// Sends one request. `headers` must not be logged by the caller: they may hold a token.
    pub fn send(
        &self,
        registrar: &str,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<HttpReply, BackendError> {
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .map_err(|e| BackendError::Unreachable {
                registrar: registrar.to_string(),
                detail: format!("cannot build the request: {e}"),
            })?;
        let remaining = self.budget.remaining();
        if remaining.is_zero() {
            return Err(BackendError::Timeout {
                registrar: registrar.to_string(),
            });
        }
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(Some(remaining))
            .build();
        self.budget.spend(|| self.exchange(registrar, request))
    }

    fn exchange(
        &self,
        registrar: &str,
        request: ureq::http::Request<Vec<u8>>,
    ) -> Result<HttpReply, BackendError> {
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| transport_error(registrar, e, &self.scrub))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| transport_error(registrar, e, &self.scrub))?;
        Ok(HttpReply {
            status,
            headers,
            body,
        })
    }
}

fn transport_error(registrar: &str, error: ureq::Error, scrub: &Scrub) -> BackendError {
    match error {
        ureq::Error::Timeout(_) => BackendError::Timeout {
            registrar: registrar.to_string(),
        },
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => BackendError::Timeout {
            registrar: registrar.to_string(),
        },
        // The message may quote what the server sent, such as a malformed status line.
        other => BackendError::Unreachable {
            registrar: registrar.to_string(),
            detail: scrub.show(&other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_error_is_shown_without_the_secrets() {
        let scrub = Scrub::default();
        scrub.add("hunter2-secret");
        let quoted = ureq::Error::BadUri("https://gw.example.net/?p=hunter2-secret\u{1b}".into());
        let BackendError::Unreachable { detail, .. } = transport_error("schlund", quoted, &scrub)
        else {
            panic!("not unreachable");
        };
        assert!(!detail.contains("hunter2"), "{detail}");
        assert!(
            detail.contains("p=***") && detail.contains("\\u{1b}"),
            "{detail}"
        );
    }
}
