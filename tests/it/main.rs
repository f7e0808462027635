//! Integration tests: the real `ddns-cgi` binary run as a CGI process against strict fake
//! registrars on 127.0.0.1.

#![forbid(unsafe_code)]

mod acme;
mod acme_e2e;
mod acme_limits;
mod apache;
mod cgi;
mod cli;
mod client;
mod client_flags;
mod client_users;
mod credentials;
mod ddclient;
mod delete;
mod discovery;
mod dyndns;
mod faults;
mod gandi;
mod gandi_dyndns;
mod hostile;
mod nameserver;
mod nginx;
mod prefix;
mod props;
mod release;
mod reliability;
mod request;
mod rfc2136;
mod rfc2136_knot;
mod schlund;
mod statedir;
mod util;
mod webserver;
