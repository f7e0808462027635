//! Integration tests: the real `ddns-cgi` binary run as a CGI process against strict fake
//! registrars on 127.0.0.1.

mod cgi;
mod gandi;
mod reliability;
mod schlund;
mod util;
