//! The registrar accounts of a config: which sections hold one, what they may inherit from
//! `[DEFAULT]`, and the rules between accounts. Nothing here knows a registrar kind; each
//! kind's keys and their validation live in its own backend module.

use std::path::Path;

use super::values::Values;
use super::{Account, ConfigError};
use crate::backend::{IN_DEFAULT, KINDS, Kind};

/// A `[KIND]` or `[KIND:NAME]` section as found in the file.
pub struct Found<'a> {
    /// Its kind.
    pub kind: &'static Kind,
    /// The account name after the colon, if any.
    pub name: Option<String>,
    /// Its values, `[DEFAULT]`'s included.
    pub values: Values<'a>,
}

/// The accounts, validated: the ws.ddns account in `[default]` (when it holds one) or in
/// `[IN_DEFAULT]`, not both; every `[KIND]` and `[KIND:NAME]`; at least one in all.
pub fn build(
    path: &Path,
    default: &Values<'_>,
    written_in_default: &[&str],
    found: Vec<Found<'_>>,
) -> Result<Vec<Account>, ConfigError> {
    let mut found = found;
    if default_has_account(default, written_in_default) {
        if let Some(f) = found.iter().find(|f| is_ws_ddns(f.kind, &f.name)) {
            return Err(f.values.error(
                "username",
                format!(
                    "the {} account is set both here and in [default]; keep one",
                    IN_DEFAULT.brand
                ),
            ));
        }
        found.insert(
            0,
            Found {
                kind: IN_DEFAULT,
                name: None,
                values: only_keys_of(default, IN_DEFAULT),
            },
        );
    }
    // Zone discovery asks accounts in this order: by kind, then as written.
    found.sort_by_key(|f| KINDS.iter().position(|k| k.name == f.kind.name));
    let mut accounts = Vec::new();
    for f in found {
        let ws_ddns = is_ws_ddns(f.kind, &f.name);
        if !ws_ddns {
            check_not_inheriting_bound_keys(&f.values, f.kind)?;
        }
        let settings = (f.kind.parse)(&f.values)?;
        let label = match &f.name {
            Some(name) => format!("{}:{name}", f.kind.name),
            None => f.kind.name.to_string(),
        };
        let shown = if ws_ddns {
            format!("the {} account", f.kind.brand)
        } else {
            format!("[{label}]")
        };
        accounts.push((
            Account {
                label,
                kind: f.kind,
                settings,
                shown,
            },
            f.values,
        ));
    }
    check_accounts(path, &accounts)?;
    Ok(accounts.into_iter().map(|(account, _)| account).collect())
}

/// The one account that may take URL and credentials from `[DEFAULT]`: the ws.ddns one.
fn is_ws_ddns(kind: &Kind, name: &Option<String>) -> bool {
    kind.name == IN_DEFAULT.name && name.is_none()
}

/// `[default]` holds the ws.ddns account when it has one of the account's own keys (not one
/// another kind shares), or names any of its keys itself. Shared keys (url, zones, ttl)
/// inherited from `[DEFAULT]` do not make one: they are meant for the registrar sections.
fn default_has_account(default: &Values<'_>, written_in_default: &[&str]) -> bool {
    let shared = |key: &&str| {
        KINDS
            .iter()
            .any(|k| k.name != IN_DEFAULT.name && k.keys.contains(key))
    };
    IN_DEFAULT
        .keys
        .iter()
        .filter(|k| !shared(k))
        .any(|k| default.get(k).is_some())
        || IN_DEFAULT
            .keys
            .iter()
            .any(|k| written_in_default.contains(k))
}

/// `[default]`'s values that are the account's.
fn only_keys_of<'a>(default: &Values<'a>, kind: &Kind) -> Values<'a> {
    let ours = |k: &String| kind.keys.contains(&k.as_str());
    Values {
        path: default.path,
        section: default.section.clone(),
        entries: default
            .entries
            .iter()
            .filter(|(k, _)| ours(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        inherited: default
            .inherited
            .iter()
            .filter(|k| ours(k))
            .cloned()
            .collect(),
    }
}

/// Refuses an account that would inherit a URL or credential from `[DEFAULT]`: there they
/// are the ws.ddns account's, and must not reach another registrar.
fn check_not_inheriting_bound_keys(v: &Values<'_>, kind: &Kind) -> Result<(), ConfigError> {
    match kind.bound_keys.iter().find(|k| v.inherited.contains(**k)) {
        None => Ok(()),
        Some(key) => Err(ConfigError {
            path: v.path.to_path_buf(),
            line: v.entries.get(*key).map(|(_, line)| *line),
            section: Some("DEFAULT".into()),
            key: Some(key.to_string()),
            problem: format!(
                "[{section}] would inherit it, but a registrar URL or credential in [DEFAULT] belongs to the {brand} account (as in ws.ddns files) and must not reach another registrar; set {key} in [{section}] itself, and move it from [DEFAULT] to [default] or [{home}] if it is {brand}'s",
                section = v.section,
                brand = IN_DEFAULT.brand,
                home = IN_DEFAULT.name,
            ),
        }),
    }
}

/// At least one account; several of one kind each list their zones, and no zone is
/// claimed by two of them.
fn check_accounts(path: &Path, accounts: &[(Account, Values<'_>)]) -> Result<(), ConfigError> {
    if accounts.is_empty() {
        let sections: Vec<String> = KINDS.iter().map(|k| format!("[{}]", k.name)).collect();
        return Err(ConfigError {
            path: path.to_path_buf(),
            line: None,
            section: None,
            key: None,
            problem: format!(
                "no registrar configured; add a {} account to [default] (username, password) as ws.ddns files have it, or a registrar section ({})",
                IN_DEFAULT.brand,
                sections.join(", ")
            ),
        });
    }
    for (account, values) in accounts {
        let same_kind: Vec<&(Account, Values<'_>)> = accounts
            .iter()
            .filter(|(a, _)| a.kind.name == account.kind.name)
            .collect();
        if same_kind.len() > 1 && account.settings.zones().is_empty() {
            return Err(values.error(
                "zones",
                format!(
                    "{} accounts of kind {} are configured, so each must list its zones (names are routed by them)",
                    same_kind.len(),
                    account.kind.name
                ),
            ));
        }
        let earlier = same_kind
            .iter()
            .take_while(|(a, _)| a.label != account.label)
            .find_map(|(a, _)| {
                let zones = a.settings.zones();
                let twice = account
                    .settings
                    .zones()
                    .iter()
                    .find(|z| zones.contains(z))?;
                Some((a.label.as_str(), twice))
            });
        if let Some((other, zone)) = earlier {
            return Err(values.error(
                "zones",
                format!(
                    "zone {zone} is also claimed by [{other}]; list each zone in one account only"
                ),
            ));
        }
    }
    Ok(())
}
