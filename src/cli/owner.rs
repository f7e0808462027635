//! The command line runs as whoever typed it, often root. What it creates in the state
//! directory belongs to that user; in a directory that is not shared with a group, the web
//! server's user could then no longer open the locks and state, and every CGI request
//! would fail. So a run refuses before it writes anything when it is not the directory's
//! owner and the directory is not shared (setgid and group `rwx`) with a group it is in.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The user running and the state directory, as [`refusal`] weighs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The process's effective user ID.
    pub uid: u32,
    /// Its groups, the primary one included.
    pub groups: Vec<u32>,
    /// The state directory's owner.
    pub owner: u32,
    /// Its group.
    pub gid: u32,
    /// Its mode.
    pub mode: u32,
}

/// Why this run may not write in `dir`, with the fix; None when it may (or when the
/// directory does not exist yet: it then becomes this user's).
pub fn check(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    // /proc/self belongs to the process's effective user and group.
    let me = std::fs::metadata("/proc/self").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mut groups = supplementary(&status);
    groups.push(me.gid());
    let facts = Facts {
        uid: me.uid(),
        groups,
        owner: meta.uid(),
        gid: meta.gid(),
        mode: meta.mode(),
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let names = Names {
        owner: name_of(&passwd, facts.owner),
        me: name_of(&passwd, facts.uid),
        group: name_of(&group, facts.gid),
    };
    refusal(&dir.display().to_string(), &facts, &names)
}

/// The names shown in the advice (an ID when a name is unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The state directory's owner.
    pub owner: String,
    /// The user running.
    pub me: String,
    /// The state directory's group.
    pub group: String,
}

/// The decision: the owner may write; in a shared directory root and the group's members
/// may too, since what they make is given to the group. Root is not exempt otherwise.
pub fn refusal(dir: &str, facts: &Facts, names: &Names) -> Option<String> {
    if facts.uid == facts.owner {
        return None;
    }
    let shared = facts.mode & 0o2070 == 0o2070;
    let Names { owner, me, group } = names;
    if shared {
        if facts.uid == 0 || facts.groups.contains(&facts.gid) {
            return None;
        }
        return Some(format!(
            "state_dir {dir} is shared with group {group}, but {me} is not in it, so it cannot use the locks and state there; add it (adduser {me} {group}; it takes effect at the next login), or run as the owner: runuser -u {owner} -- ddns-cgi … (docs/install.md, section 5)"
        ));
    }
    Some(format!(
        "state_dir {dir} belongs to {owner} and is not shared with a group (mode {:04o}); what {me} created there would be private to {me}, and the web server's user could no longer use the locks and state, so nothing was written; run as the owner: runuser -u {owner} -- ddns-cgi …, or share it: chgrp {group} {dir} && chmod 2770 {dir}, and add {me} to group {group} (docs/install.md, section 5)",
        facts.mode & 0o7777
    ))
}

/// The `Groups:` line of `/proc/self/status`.
fn supplementary(status: &str) -> Vec<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Groups:"))
        .map(|ids| {
            ids.split_whitespace()
                .filter_map(|g| g.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The name of `id` in a `/etc/passwd` or `/etc/group` text, else `uid N`-style digits.
fn name_of(table: &str, id: u32) -> String {
    table
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let found: u32 = fields.nth(1)?.parse().ok()?;
            (found == id && !name.is_empty()).then(|| name.to_string())
        })
        .unwrap_or_else(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(uid: u32, groups: &[u32], mode: u32) -> Facts {
        Facts {
            uid,
            groups: groups.to_vec(),
            owner: 33,
            gid: 33,
            mode,
        }
    }

    fn names() -> Names {
        Names {
            owner: "www-data".into(),
            me: "root".into(),
            group: "www-data".into(),
        }
    }

    #[test]
    fn only_the_owner_or_a_shared_group_may_write() {
        let refused = |f: &Facts| refusal("/var/lib/ddns-cgi", f, &names());
        assert_eq!(refused(&facts(33, &[33], 0o40750)), None);
        let root = refused(&facts(0, &[0], 0o40750)).unwrap();
        assert!(root.contains("belongs to www-data and is not shared with a group (mode 0750)"));
        assert!(root.contains("runuser -u www-data -- ddns-cgi"));
        assert!(root.contains("chmod 2770 /var/lib/ddns-cgi"));
        // Group-writable without setgid is not shared: new files would get the user's group.
        assert!(refused(&facts(0, &[0], 0o40770)).is_some());
        assert_eq!(refused(&facts(0, &[0], 0o42770)), None);
        assert_eq!(refused(&facts(999, &[999, 33], 0o42770)), None);
        let stranger = refused(&facts(999, &[999], 0o42770)).unwrap();
        assert!(stranger.contains("is not in it"), "{stranger}");
    }

    #[test]
    fn names_and_groups_are_read_from_the_system_files() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n";
        assert_eq!(name_of(passwd, 33), "www-data");
        assert_eq!(name_of(passwd, 0), "root");
        assert_eq!(name_of(passwd, 7), "7");
        assert_eq!(supplementary("Name:\tx\nGroups:\t33 100 \n"), vec![33, 100]);
        assert_eq!(supplementary("Groups:\n"), Vec::<u32>::new());
    }
}
