//! Diagnostics: warnings and errors found while reading smb.conf, each tied to a file and line.

use std::fmt;

/// One message about a place in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the message is about, as it was named (or found through `include`).
    pub file: String,
    /// 1-based line number (the first line of a continued line); 0 when the message concerns the whole file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(at: &Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: at.file.clone(),
            line: at.line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The configuration could not be used; holds every error found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// All errors, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A place in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub file: String,
    pub line: usize,
}

/// Collects warnings and errors while a configuration is read.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn warn(&mut self, at: &Location, message: impl Into<String>) {
        self.warnings.push(Diagnostic::new(at, message));
    }

    pub fn error(&mut self, at: &Location, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(at, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let at = Location {
            file: "smb.conf".into(),
            line: 7,
        };
        let a = Diagnostic::new(&at, "first");
        let b = Diagnostic::new(&at, "second");
        assert_eq!(a.to_string(), "smb.conf:7: first");
        let e = ConfigError {
            diagnostics: vec![a, b],
        };
        assert_eq!(e.to_string(), "smb.conf:7: first\nsmb.conf:7: second");
    }
}
