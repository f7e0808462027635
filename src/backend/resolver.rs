//! Name lookups, once per registrar host and process.
//!
//! ureq looks the host name up before every call, even one that reuses the pooled
//! connection, and with a timeout set each lookup runs on a thread of its own. A SchlundTech
//! update makes two calls to the same host (read the zone, write it), and glibc keeps no
//! cache, so without this the second call would wait for a second DNS answer. A CGI process
//! lives for one request, far shorter than any DNS TTL, so the first answer is kept for the
//! rest of the process. A failed lookup is not kept.
//!
//! An address written as such in the URL (a name server or registrar given as
//! `https://192.0.2.1/`) needs no lookup at all, so it never costs a thread.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// A resolver with a cache for the life of the process.
#[derive(Debug, Default)]
pub struct CachingResolver<R = DefaultResolver> {
    inner: R,
    /// `scheme://host:port` and its addresses; a request meets one or two hosts.
    known: Mutex<Vec<(String, ResolvedSocketAddrs)>>,
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(addr) = literal(uri) {
            let mut addrs = self.inner.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        let Some(key) = cache_key(uri) else {
            return self.inner.resolve(uri, config, timeout);
        };
        if let Some(addrs) = self.cached(&key) {
            return Ok(addrs);
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut known) = self.known.lock() {
            known.push((key, addrs.clone()));
        }
        Ok(addrs)
    }
}

impl<R> CachingResolver<R> {
    fn cached(&self, key: &str) -> Option<ResolvedSocketAddrs> {
        let known = self.known.lock().ok()?;
        known
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, addrs)| addrs.clone())
    }
}

/// The socket address of a URL whose host is an IP address, with the scheme's default port
/// when none is given.
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let port = match (authority.port_u16(), uri.scheme_str()?) {
        (Some(port), _) => port,
        (None, "https") => 443,
        (None, "http") => 80,
        (None, _) => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The scheme is part of the key because it decides the default port.
fn cache_key(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    Some(match authority.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Answers every name with one address, or fails for names starting with "down", and
    /// counts the lookups.
    #[derive(Debug, Default)]
    struct Counting {
        lookups: AtomicU32,
    }

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            _config: &ureq::config::Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            if uri.host().is_some_and(|h| h.starts_with("down")) {
                return Err(ureq::Error::HostNotFound);
            }
            let mut addrs = self.empty();
            addrs.push(SocketAddr::from(([192, 0, 2, 7], 443)));
            Ok(addrs)
        }
    }

    fn resolve(resolver: &CachingResolver<Counting>, url: &str) -> Result<Vec<SocketAddr>, String> {
        let uri: Uri = url.parse().unwrap();
        resolver
            .resolve(
                &uri,
                &ureq::config::Config::default(),
                NextTimeout::default(),
            )
            .map(|addrs| addrs.iter().copied().collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_host_is_looked_up_once_per_process() {
        let resolver = CachingResolver::<Counting>::default();
        let first = resolve(&resolver, "https://gateway.example.net/zone").unwrap();
        let second = resolve(&resolver, "https://GATEWAY.example.net/other?x=1").unwrap();
        assert_eq!(first, vec![SocketAddr::from(([192, 0, 2, 7], 443))]);
        assert_eq!(second, first);
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn another_host_port_or_scheme_is_looked_up_again() {
        let resolver = CachingResolver::<Counting>::default();
        resolve(&resolver, "https://gateway.example.net/").unwrap();
        resolve(&resolver, "https://api.example.net/").unwrap();
        resolve(&resolver, "https://gateway.example.net:8443/").unwrap();
        resolve(&resolver, "http://gateway.example.net/").unwrap();
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 4);
        resolve(&resolver, "http://gateway.example.net/again").unwrap();
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn an_address_in_the_url_is_not_looked_up() {
        let resolver = CachingResolver::<Counting>::default();
        let cases = [
            ("http://127.0.0.1:8080/gw", "127.0.0.1:8080"),
            ("https://192.0.2.1/", "192.0.2.1:443"),
            ("http://[::1]:53/", "[::1]:53"),
            ("http://[2001:db8::7]/", "[2001:db8::7]:80"),
        ];
        for (url, addr) in cases {
            let want: SocketAddr = addr.parse().unwrap();
            assert_eq!(resolve(&resolver, url).unwrap(), vec![want], "{url}");
        }
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 0);
        resolve(&resolver, "https://192.0.2.1.example.net/").unwrap();
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_lookup_is_tried_again() {
        let resolver = CachingResolver::<Counting>::default();
        assert!(resolve(&resolver, "https://down.example.net/").is_err());
        assert!(resolve(&resolver, "https://down.example.net/").is_err());
        assert_eq!(resolver.inner.lookups.load(Ordering::SeqCst), 2);
    }
}
