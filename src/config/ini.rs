//! Reads INI text the way Python's `configparser` does, because ws.ddns config files were
//! written for it and must load unchanged.
//!
//! What is copied (see `seed-systems.md` §5.4): `=` and `:` delimiters, full-line `#`/`;`
//! comments (also indented), no inline comments, indented continuation lines, lower-cased
//! keys, duplicate sections and keys as errors, `%%` for a literal `%`, and `[DEFAULT]` keys
//! seen by every section. `%(name)s` interpolation is refused rather than half-supported.
//! Every entry keeps its line number so errors can point at it.

use std::fmt;

/// One `key = value` line (plus its continuation lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased key.
    pub key: String,
    /// Raw value: continuation lines joined with `\n`, `%` not yet unescaped.
    pub raw: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// A `[section]` and its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets, as written (section names are case-sensitive).
    pub name: String,
    /// 1-based line of the header.
    pub line: usize,
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

/// A syntax error with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// Parses the text into sections. `[DEFAULT]` is returned like any other section; the
/// caller decides how its keys are inherited.
pub fn parse(text: &str) -> Result<Vec<Section>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    // Indentation of the current entry's key line, for continuation detection.
    let mut entry_indent: Option<usize> = None;
    for (index, raw_line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw_line.trim_end_matches('\r');
        let stripped = line.trim();
        if stripped.is_empty() {
            continue;
        }
        if stripped.starts_with('#') || stripped.starts_with(';') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let (Some(key_indent), Some(section)) = (entry_indent, sections.last_mut())
            && indent > key_indent
            && let Some(entry) = section.entries.last_mut()
        {
            entry.raw.push('\n');
            entry.raw.push_str(stripped);
            continue;
        }
        if let Some(rest) = stripped.strip_prefix('[') {
            sections.push(header(rest, line_no, &sections)?);
            entry_indent = None;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(SyntaxError {
                line: line_no,
                problem: "a key before the first section header; start the file with [default]"
                    .into(),
            });
        };
        let Some(split) = stripped.find(['=', ':']) else {
            return Err(SyntaxError {
                line: line_no,
                problem: "expected `key = value`".into(),
            });
        };
        let key = stripped[..split].trim().to_lowercase();
        if key.is_empty() {
            return Err(SyntaxError {
                line: line_no,
                problem: "a value without a key".into(),
            });
        }
        if let Some(first) = section.entries.iter().find(|e| e.key == key) {
            return Err(SyntaxError {
                line: line_no,
                problem: format!(
                    "key `{key}` appears twice in [{}] (first on line {}); keep one",
                    section.name, first.line
                ),
            });
        }
        section.entries.push(Entry {
            key,
            raw: stripped[split + 1..].trim().to_string(),
            line: line_no,
        });
        entry_indent = Some(indent);
    }
    Ok(sections)
}

/// A `[name]` header line (after its `[`), refused when malformed or repeated.
fn header(rest: &str, line_no: usize, sections: &[Section]) -> Result<Section, SyntaxError> {
    let name = rest.strip_suffix(']').ok_or_else(|| SyntaxError {
        line: line_no,
        problem: "section header is not closed; write it as [name]".into(),
    })?;
    if name.is_empty() {
        return Err(SyntaxError {
            line: line_no,
            problem: "empty section name".into(),
        });
    }
    if let Some(first) = sections.iter().find(|s| s.name == name) {
        return Err(SyntaxError {
            line: line_no,
            problem: format!(
                "section [{name}] appears twice (first on line {}); merge them",
                first.line
            ),
        });
    }
    Ok(Section {
        name: name.to_string(),
        line: line_no,
        entries: Vec::new(),
    })
}

/// Applies configparser's basic interpolation to a value: `%%` becomes `%`. A lone `%` or a
/// `%(name)s` reference is an error whose text never repeats the value, since values are
/// often passwords.
pub fn unescape_percent(raw: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    // Most values hold no `%` at all: copied in one piece rather than char by char.
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let mut chars = rest[at + 1..].chars();
        match chars.next() {
            Some('%') => {
                out.push('%');
                rest = chars.as_str();
            }
            Some('(') => {
                return Err(
                    "`%(name)s` references are not supported; write the value out \
                            (a literal % is written %%)",
                );
            }
            _ => return Err("a lone `%` must be written `%%` (as in ws.ddns config files)"),
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_configparser_files() {
        let text = "\u{feff}# comment\n[default]\nUserName = 1234567\npassword: a ; b\n  ; indented comment\nallowed_hostnames = a.example.com\n    b.example.com\n\n[user:alice]\nallowed_hostnames=\n";
        let sections = parse(text).unwrap();
        assert_eq!(sections.len(), 2);
        let d = &sections[0];
        assert_eq!(d.name, "default");
        assert_eq!(d.entries[0].key, "username");
        assert_eq!(d.entries[0].raw, "1234567");
        assert_eq!(d.entries[1].raw, "a ; b");
        assert_eq!(d.entries[2].raw, "a.example.com\nb.example.com");
        assert_eq!(d.entries[2].line, 6);
        assert_eq!(sections[1].name, "user:alice");
        assert_eq!(sections[1].entries[0].raw, "");
    }

    #[test]
    fn reports_errors_with_lines() {
        assert_eq!(parse("[a]\nx=1\nx=2\n").unwrap_err().line, 3);
        assert_eq!(parse("[a]\n[a]\n").unwrap_err().line, 2);
        assert_eq!(parse("x=1\n").unwrap_err().line, 1);
        assert_eq!(parse("[a]\njunk\n").unwrap_err().line, 2);
        assert_eq!(parse("[a\n").unwrap_err().line, 1);
    }

    #[test]
    fn percent_rules_match_configparser() {
        assert_eq!(unescape_percent("50%%off").unwrap(), "50%off");
        assert!(unescape_percent("50%off").is_err());
        assert!(unescape_percent("%(home)s").is_err());
        assert!(unescape_percent("x%").is_err());
    }
}
