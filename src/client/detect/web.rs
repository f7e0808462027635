//! One question to one "what is my IP" provider: a GET on a connection pinned to the
//! family, no proxy but the configured one, at most two redirects, 4 KiB of body, and a
//! strict reading of the answer.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::client::ranges::parse_strict;
use crate::client::settings::{Format, Provider};

/// Largest body read; an address is a few dozen bytes, an HTML page a few hundred.
const MAX_BODY: u64 = 4096;

/// What one provider answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status, when one came.
    pub status: Option<u16>,
    /// The address read, or why there is none.
    pub result: Result<IpAddr, String>,
    /// How long it took.
    pub elapsed: Duration,
    /// The provider asked us to stay away (403/429): for at least this long.
    pub backoff: Option<Duration>,
}

/// An agent for one family: pinned to it, with the configured proxy only.
/// `https_only`: redirects may not leave https (for the https providers; a plain one is on
/// this machine, which the config checks).
pub fn agent(
    v6: bool,
    proxy: Option<&str>,
    timeout: Duration,
    https_only: bool,
) -> Result<ureq::Agent, String> {
    let proxy = match proxy {
        None => None,
        Some(url) => Some(ureq::Proxy::new(url).map_err(|e| format!("[client] proxy: {e}"))?),
    };
    let family = if v6 {
        ureq::config::IpFamily::Ipv6Only
    } else {
        ureq::config::IpFamily::Ipv4Only
    };
    let config = ureq::Agent::config_builder()
        .proxy(proxy)
        .ip_family(family)
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(2)
        .https_only(https_only)
        .user_agent(concat!("ddns-cgi/", env!("CARGO_PKG_VERSION")))
        .accept("text/plain")
        .build();
    Ok(ureq::Agent::new_with_config(config))
}

/// Asks one provider.
pub fn ask(agent: &ureq::Agent, provider: &Provider, v6: bool) -> Answer {
    let started = Instant::now();
    let mut answer = Answer {
        status: None,
        result: Err(String::new()),
        elapsed: Duration::ZERO,
        backoff: None,
    };
    answer.result = match agent.get(&provider.url).call() {
        Err(ureq::Error::Timeout(_)) => Err("timeout".to_string()),
        Err(ureq::Error::TooManyRedirects) => Err("more than 2 redirects".to_string()),
        Err(e) => Err(format!("no answer ({e})")),
        Ok(mut response) => {
            let status = response.status().as_u16();
            answer.status = Some(status);
            if status == 403 || status == 429 {
                answer.backoff = Some(retry_after(response.headers()).unwrap_or_default());
                Err(format!("HTTP {status}: the provider refuses us for now"))
            } else if status != 200 {
                Err(format!("HTTP {status}"))
            } else {
                match response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY)
                    .read_to_string()
                {
                    Ok(body) => read_body(&body, &provider.format, v6),
                    Err(ureq::Error::Timeout(_)) => Err("timeout".to_string()),
                    Err(ureq::Error::BodyExceedsLimit(_)) => {
                        Err(format!("body longer than {MAX_BODY} bytes"))
                    }
                    Err(e) => Err(format!("body unreadable ({e})")),
                }
            }
        }
    };
    answer.elapsed = started.elapsed();
    answer
}

/// `Retry-After` in seconds (the date form is not used by echo services).
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The address a body holds, read by the provider's format.
pub fn read_body(body: &str, format: &Format, v6: bool) -> Result<IpAddr, String> {
    let text = match format {
        Format::Text => body
            .trim_matches(|c: char| c.is_ascii_whitespace())
            .to_string(),
        Format::Trace => body
            .lines()
            .find_map(|line| line.trim().strip_prefix("ip="))
            .map(str::to_string)
            .ok_or("no ip= line")?,
        Format::Json(field) => {
            let value: serde_json::Value =
                serde_json::from_str(body).map_err(|_| "not JSON".to_string())?;
            value
                .get(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or(format!("no string field `{field}`"))?
        }
        Format::Search => return search(body, v6),
    };
    let shown = crate::log::printable_within(&text, 60);
    let ip = parse_strict(&text).ok_or_else(|| match text.is_empty() {
        true => "empty body".to_string(),
        false => format!("`{shown}` is not an address"),
    })?;
    if ip.is_ipv6() != v6 {
        return Err(format!(
            "{ip} is not an IPv{} address",
            if v6 { 6 } else { 4 }
        ));
    }
    Ok(ip)
}

/// Every address of the family in any text; exactly one distinct one is the answer.
pub fn search(text: &str, v6: bool) -> Result<IpAddr, String> {
    let mut found: Vec<IpAddr> = Vec::new();
    let is_part = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    for word in text.split(|c: char| !is_part(c)) {
        let word = word.trim_matches(|c| c == '.' || c == ':');
        if let Some(ip) = parse_strict(word)
            && ip.is_ipv6() == v6
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "no IPv{} address in the text",
            if v6 { 6 } else { 4 }
        )),
        many => Err(format!(
            "{} different addresses in the text ({})",
            many.len(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_read_strictly() {
        let text = |b: &str| read_body(b, &Format::Text, false);
        assert_eq!(text("203.0.113.7\n"), Ok("203.0.113.7".parse().unwrap()));
        assert!(text("").unwrap_err().contains("empty"));
        assert!(text("999.1.1.1").is_err());
        assert!(text("192.000.002.001").is_err());
        assert!(text("<html>203.0.113.7</html>").is_err());
        assert!(read_body("2001:db8::7", &Format::Text, false).is_err());
        assert_eq!(
            read_body("fl=1\nh=1.1.1.1\nip=203.0.113.7\n", &Format::Trace, false),
            Ok("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            read_body(r#"{"ip":"203.0.113.7"}"#, &Format::Json("ip".into()), false),
            Ok("203.0.113.7".parse().unwrap())
        );
        let page = "<html><body>Current IP Address: 203.0.113.7</body></html>";
        assert_eq!(
            read_body(page, &Format::Search, false),
            Ok("203.0.113.7".parse().unwrap())
        );
        assert!(search("a 203.0.113.7 b 198.51.100.1", false).is_err());
        assert_eq!(
            search("x 2001:db8::7. y", true),
            Ok("2001:db8::7".parse().unwrap())
        );
    }
}
