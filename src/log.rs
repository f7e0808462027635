//! Admin log lines on stderr, which the web server puts in its error log.
//!
//! Every line starts with `ddns-cgi:` so it can be found among the server's own messages.
//! Lines are written at once (not buffered to the end), so a request that is killed by a
//! timeout still leaves what it did.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;

/// How much to log, from quiet to chatty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something is broken and the admin must act.
    Error,
    /// Something looks wrong but the request was served.
    Warn,
    /// One line per request: who, what, outcome.
    Info,
    /// Every registrar call.
    Debug,
}

impl Level {
    /// Parses a config value (`error`, `warn`, `info`, `debug`).
    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// Where log lines go, and the level below which they are dropped.
pub struct Log {
    level: Level,
    sink: RefCell<Box<dyn Write>>,
}

impl Log {
    /// Logs to stderr.
    pub fn stderr(level: Level) -> Log {
        Log::to(level, Box::new(std::io::stderr()))
    }

    /// Logs to any writer (tests use a shared buffer).
    pub fn to(level: Level, sink: Box<dyn Write>) -> Log {
        Log {
            level,
            sink: RefCell::new(sink),
        }
    }

    /// Changes the level, once the config saying which one is loaded.
    pub fn set_level(&mut self, level: Level) {
        self.level = level;
    }

    /// Whether lines of this level are written.
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.level
    }

    /// Writes one line. Line breaks inside the message are flattened so a value from a
    /// request can never forge a second log line.
    pub fn line(&self, level: Level, message: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        let text = message.to_string().replace(['\n', '\r'], " ");
        // One write per line: stderr is unbuffered, and a line written in pieces can be
        // interleaved with another process's in the shared error log.
        let line = format!("ddns-cgi: {level}: {text}\n");
        let mut sink = self.sink.borrow_mut();
        let _ = sink.write_all(line.as_bytes());
        let _ = sink.flush();
    }

    /// An error the admin must fix.
    pub fn error(&self, message: fmt::Arguments<'_>) {
        self.line(Level::Error, message)
    }

    /// A warning.
    pub fn warn(&self, message: fmt::Arguments<'_>) {
        self.line(Level::Warn, message)
    }

    /// The per-request summary.
    pub fn info(&self, message: fmt::Arguments<'_>) {
        self.line(Level::Info, message)
    }

    /// Registrar traffic details.
    pub fn debug(&self, message: fmt::Arguments<'_>) {
        self.line(Level::Debug, message)
    }
}

/// Shows untrusted text in a log line: control characters escaped, length capped.
pub fn printable(text: &str) -> String {
    printable_within(text, 120)
}

/// [`printable`] with another cap on the characters shown, for text that is read whole,
/// such as a registrar's error message.
pub fn printable_within(text: &str, limit: usize) -> String {
    let mut out: String = text
        .chars()
        .take(limit)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(limit).is_some() {
        out.push('…');
    }
    out
}
