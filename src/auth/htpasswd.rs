//! The htpasswd file named by `[default] htpasswd`, the same file a web server may use:
//! `user:hash` lines, as Apache's `htpasswd` writes them. Read only when a request carries
//! a user and password for ddns-cgi to check, and only as far as that user's line.
//!
//! Lines whose hash is of no format ddns-cgi checks (plain text, which `htpasswd -p`
//! writes, or crypt(3) DES from `htpasswd -d`) never match: plain text would let anyone who
//! reads the file in, and DES keeps 8 characters of a password. `check-config` warns about
//! each, with the command that rewrites it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::hash::Format;

/// An htpasswd file larger than this is refused: a few thousand users fit in it.
const MAX_SIZE: u64 = 1 << 20;

/// The hash found for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A hash of a format ddns-cgi checks.
    Hash(String),
    /// A line of no such format, with its line number.
    Unsupported(usize),
}

/// Why the file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong and what to do.
    pub problem: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "htpasswd file {}: {}", self.path.display(), self.problem)
    }
}

/// The file's text, at most [`MAX_SIZE`] bytes of UTF-8.
fn read(path: &Path) -> Result<String, FileError> {
    let error = |problem: String| FileError {
        path: path.to_path_buf(),
        problem,
    };
    let file = std::fs::File::open(path).map_err(|e| {
        error(format!(
            "cannot be read ({e}); make it readable by the web server's user (and nobody else), or fix [default] htpasswd"
        ))
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(format!("cannot be read ({e})")))?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(error(format!(
            "is larger than {MAX_SIZE} bytes; is it really an htpasswd file?"
        )));
    }
    String::from_utf8(bytes).map_err(|_| error("is not UTF-8 text".to_string()))
}

/// The `user:hash` lines, with line numbers; `#` comments and blank lines are skipped as
/// Apache's mod_authn_file does.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.starts_with('#'))
        .filter_map(|(n, line)| {
            let (user, hash) = line.trim_end().split_once(':')?;
            Some((n + 1, user, hash))
        })
}

/// The entry of `user` (compared exactly, as Apache does), None when the file has none.
pub fn lookup(path: &Path, user: &str) -> Result<Option<Entry>, FileError> {
    let text = read(path)?;
    Ok(lines(&text)
        .find(|(_, name, _)| *name == user)
        .map(|(line, _, hash)| match Format::of(hash) {
            Some(_) => Entry::Hash(hash.to_string()),
            None => Entry::Unsupported(line),
        }))
}

/// `check-config`'s warnings about the file: one that cannot be read, and each line ddns-cgi
/// will not check. They name users and lines, never a hash.
pub fn warnings(path: &Path) -> Vec<String> {
    let text = match read(path) {
        Ok(text) => text,
        Err(e) => return vec![e.to_string()],
    };
    lines(&text)
        .filter(|(_, _, hash)| Format::of(hash).is_none())
        .map(|(line, user, _)| {
            format!(
                "htpasswd file {} line {line}: the entry of user {} is plain text or crypt(3), which ddns-cgi never accepts; rewrite it with: htpasswd -B {} {}",
                path.display(),
                crate::log::printable(user),
                path.display(),
                crate::log::printable(user)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_users_line_exactly() {
        let dir = std::env::temp_dir().join(format!("ddns-htpasswd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("htpasswd");
        std::fs::write(
            &path,
            "# admins\nalice:$apr1$lmVMarKY$wuMsxy3GR4ztiwwCpHKMs0\r\nbob:plainpw\n\ncarol:{SHA}x=\n",
        )
        .unwrap();
        assert_eq!(
            lookup(&path, "alice").unwrap(),
            Some(Entry::Hash("$apr1$lmVMarKY$wuMsxy3GR4ztiwwCpHKMs0".into()))
        );
        assert_eq!(lookup(&path, "bob").unwrap(), Some(Entry::Unsupported(3)));
        assert_eq!(lookup(&path, "Alice").unwrap(), None);
        assert_eq!(lookup(&path, "# admins").unwrap(), None);
        let warnings = warnings(&path);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("line 3") && !warnings[0].contains("plainpw"));
        let missing = lookup(&dir.join("none"), "alice").unwrap_err();
        assert!(missing.to_string().contains("cannot be read"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
