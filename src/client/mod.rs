//! The cron client: find this machine's public address per family ([`detect`]) and keep
//! the `[client]` names at it, through the same core, registrars, state and zone locks as
//! the CGI. `[client]` is read by [`settings`].

pub mod detect;
pub mod lock;
pub mod ranges;
pub mod settings;
