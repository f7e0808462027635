//! Request dialects: which handler a path belongs to, and the parameters it carries.
//!
//! Each dialect parses a [`crate::cgi::CgiRequest`] into an [`crate::update::UpdateRequest`]
//! and renders the per-host answers back; everything between is shared.

pub mod noip;
pub mod params;

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// NoIP / DynDNS2: `/nic/update`, `/v3/update`, `/update`, or the script itself.
    NoIp,
    /// Anything else: 404.
    NotFound,
}

/// Routes on `PATH_INFO` (noip-protocol.md §1.1). A CGI mounted with
/// `ScriptAlias /nic/update` sees an empty path, so empty means NoIP.
pub fn route(path_info: &str) -> Route {
    match path_info {
        "" | "/" | "/nic/update" | "/v3/update" | "/update" => Route::NoIp,
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_known_paths_only() {
        for path in ["", "/", "/nic/update", "/v3/update", "/update"] {
            assert_eq!(route(path), Route::NoIp, "{path}");
        }
        for path in ["/nic/update/", "/admin", "/nic/../update", "/NIC/UPDATE"] {
            assert_eq!(route(path), Route::NotFound, "{path}");
        }
    }
}
