//! A name server's section, `[rfc2136]` or `[rfc2136:NAME]`: where the primary is, the TSIG
//! key, the zones it may change, and how `check-config` shows them.

use std::any::Any;
use std::fmt::Write as _;

use base64::Engine as _;

use super::Rfc2136;
use super::transport::{Network, Protocol};
use super::tsig::{Algorithm, Key};
use super::wire;
use crate::backend::{Kind, Registrar, Settings, Shared};
use crate::config::ConfigError;
use crate::config::values::Values;
use crate::secret::Secret;

/// `[rfc2136]` and `[rfc2136:NAME]`.
pub const KIND: Kind = Kind {
    name: "rfc2136",
    brand: "DNS UPDATE",
    title: "a name server, by DNS UPDATE (RFC 2136) signed with TSIG",
    keys: &[
        "server",
        "port",
        "key_name",
        "key_secret",
        "key_algorithm",
        "zones",
        "ttl",
        "transport",
    ],
    bound_keys: &["server", "port", "key_name", "key_secret", "key_algorithm"],
    parse,
};

/// One primary name server and the key it knows us by.
#[derive(Debug, Clone)]
pub struct Rfc2136Settings {
    /// The zones' primary: host name or address.
    pub server: String,
    /// Its port. Default 53.
    pub port: u16,
    /// The key's name, as the server's `key` statement spells it.
    pub key_name: String,
    /// The base64 secret, as `tsig-keygen` or `keymgr` printed it.
    pub key_secret: Secret,
    /// Default `hmac-sha256`.
    pub key_algorithm: Algorithm,
    /// Zones this server may change; required.
    pub zones: Vec<String>,
    /// TTL of records written; None keeps the RRset's TTL (300 for a new one).
    pub ttl: Option<u32>,
    /// Default TCP.
    pub transport: Protocol,
}

impl Rfc2136Settings {
    /// The key for signing: the secret decoded here, as it is needed, and never shown.
    pub fn key(&self) -> Key {
        let secret = decode_secret(self.key_secret.expose()).unwrap_or_default();
        Key::new(
            wire::name(&self.key_name).unwrap_or_default(),
            self.key_algorithm,
            &secret,
        )
    }
}

fn decode_secret(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .filter(|bytes| !bytes.is_empty())
}

impl Settings for Rfc2136Settings {
    fn zones(&self) -> &[String] {
        &self.zones
    }

    fn describe(&self, out: &mut String) {
        let _ = writeln!(out, "  server = {}", self.server);
        let _ = writeln!(out, "  port = {}", self.port);
        let _ = writeln!(out, "  key_name = {}", self.key_name);
        let _ = writeln!(out, "  key_secret = {}", self.key_secret);
        let _ = writeln!(out, "  key_algorithm = {}", self.key_algorithm.name());
        let _ = writeln!(out, "  zones = {}", self.zones.join(" "));
        let _ = writeln!(
            out,
            "  ttl = {}",
            self.ttl.map_or(
                "(keep each RRset's TTL; 300 for a new one)".to_string(),
                |t| t.to_string()
            )
        );
        let _ = writeln!(out, "  transport = {}", self.transport.name());
    }

    fn secrets(&self) -> Vec<&Secret> {
        vec![&self.key_secret]
    }

    fn connect(&self, label: &str, shared: &Shared) -> Box<dyn Registrar> {
        let network = Network {
            server: self.server.clone(),
            port: self.port,
            protocol: self.transport,
            budget: shared.http.budget(),
        };
        Box::new(Rfc2136::new(
            label.to_string(),
            self.clone(),
            shared.policy,
            Box::new(network),
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn algorithm(v: &Values<'_>) -> Result<Algorithm, ConfigError> {
    let text = v.optional("key_algorithm").unwrap_or("hmac-sha256");
    match text.trim_end_matches('.').to_ascii_lowercase().as_str() {
        "hmac-sha256" => Ok(Algorithm::Sha256),
        "hmac-sha384" => Ok(Algorithm::Sha384),
        "hmac-sha512" => Ok(Algorithm::Sha512),
        "hmac-md5" | "hmac-md5.sig-alg.reg.int" => Err(v.error(
            "key_algorithm",
            "hmac-md5 must not be used for TSIG (RFC 8945 §6); make a new key with `tsig-keygen -a hmac-sha256 NAME` and use it on both sides",
        )),
        other => Err(v.error(
            "key_algorithm",
            format!(
                "`{}` is not supported; use hmac-sha256, hmac-sha384 or hmac-sha512",
                crate::log::printable(other)
            ),
        )),
    }
}

fn parse(v: &Values<'_>) -> Result<Box<dyn Settings>, ConfigError> {
    let server = v.required("server")?.trim().to_string();
    if server.is_empty() || server.contains(char::is_whitespace) {
        return Err(v.error("server", "must be the primary's host name or address"));
    }
    let port = v.number("port", 1, 65535)?.unwrap_or(53) as u16;
    let key_name = v.required("key_name")?.trim().to_ascii_lowercase();
    if wire::name(&key_name).is_err() || key_name.trim_end_matches('.').is_empty() {
        return Err(v.error(
            "key_name",
            "is not a DNS name (the name in the server's `key` statement)",
        ));
    }
    let key_secret = v.secret("key_secret")?;
    if decode_secret(key_secret.expose()).is_none() {
        return Err(v.error(
            "key_secret",
            "is not valid base64; copy the secret from the key file tsig-keygen or keymgr wrote",
        ));
    }
    let key_algorithm = algorithm(v)?;
    let zones = v.zones("zones")?;
    if zones.is_empty() {
        return Err(v.error(
            "zones",
            "is required: the zones this server is the primary of",
        ));
    }
    let ttl = v.number("ttl", 1, 2_147_483_647)?.map(|t| t as u32);
    let transport = match v.optional("transport").unwrap_or("tcp") {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        other => {
            return Err(v.error(
                "transport",
                format!("`{}` is neither tcp nor udp", crate::log::printable(other)),
            ));
        }
    };
    Ok(Box::new(Rfc2136Settings {
        server,
        port,
        key_name,
        key_secret,
        key_algorithm,
        zones,
        ttl,
        transport,
    }))
}
