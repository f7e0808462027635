//! `check-config --example`: the commented template, the very file the tests load, so it
//! can never fall behind the keys the config takes.

/// The template.
pub const TEMPLATE: &str = include_str!("../../config.example.ini");
