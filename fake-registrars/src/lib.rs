//! Strict fakes of the registrars ddns-cgi talks to, speaking their real wire formats over
//! real HTTP on 127.0.0.1. Written from `shared/spec` (the SchlundTech XML gateway §13 and
//! Gandi LiveDNS §8 checklists); they reject what the real services reject and record every
//! request so tests can assert exactly what was sent.

#![forbid(unsafe_code)]

pub mod echo;
pub mod gandi;
pub mod schlund;
pub mod server;
