//! rsmbd-config: reads Samba's smb.conf language (ksmbd.conf is a subset) into typed global and share
//! settings, with every problem reported as `file:line: message`.
//!
//! Supported so far: `[section]` headers, `name = value` lines, whole-line `;`/`#` comments,
//! backslash-newline continuation, parameter names compared ignoring case and spaces, synonyms (including
//! inverse ones such as `writable` for `read only`), `include =` (relative to the including file, nested at
//! most 10 deep) and share parameters in `[global]` as defaults for every share. Parameters are described
//! by one table, [`registry::PARAMETERS`]; unknown or not yet supported ones produce warnings.
#![forbid(unsafe_code)]

mod diag;
pub mod discovery;
pub mod fruit;
mod global;
pub mod kerberos;
pub mod limits;
mod loader;
mod protocol;
mod reader;
pub mod registry;
mod share;
mod value;

use std::path::{Path, PathBuf};

pub use diag::{ConfigError, Diagnostic};
pub use discovery::DiscoveryConfig;
pub use global::{Global, MapToGuest, ServerSigning, ENCRYPTION_ALGORITHMS, SIGNING_ALGORITHMS};
pub use limits::Limits;
pub use protocol::ProtocolLevel;
pub use share::{ShareConfig, SmbEncrypt};
pub use value::{parse_list, Type};

use diag::Diagnostics;
use reader::Reader;

/// A loaded configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Server-wide settings.
    pub global: Global,
    /// Disk shares, in the order they first appear.
    pub shares: Vec<ShareConfig>,
    /// Problems that did not stop loading (unknown or unsupported parameters, skipped sections...).
    pub warnings: Vec<Diagnostic>,
    /// The file the configuration was loaded from, if any.
    pub source: Option<PathBuf>,
}

impl Config {
    /// Reads the configuration file at `path` and the files it includes.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let mut diags = Diagnostics::default();
        let mut reader = Reader::new(&mut diags);
        if let Err(e) = reader.read_file(path, 0) {
            return Err(ConfigError {
                diagnostics: vec![Diagnostic {
                    file: path.display().to_string(),
                    line: 0,
                    message: format!("cannot read configuration: {e}"),
                }],
            });
        }
        let events = reader.events;
        finish(events, diags, Some(path.to_path_buf()))
    }

    /// Parses configuration text; `name` labels diagnostics and its directory anchors relative includes.
    pub fn parse_str(text: &str, name: &str) -> Result<Config, ConfigError> {
        let mut diags = Diagnostics::default();
        let mut reader = Reader::new(&mut diags);
        reader.read_text(text, name, 0);
        let events = reader.events;
        finish(events, diags, None)
    }

    /// The share called `name`, compared ignoring case.
    pub fn share(&self, name: &str) -> Option<&ShareConfig> {
        let wanted = name.to_lowercase();
        self.shares.iter().find(|s| s.name.to_lowercase() == wanted)
    }
}

fn finish(
    events: Vec<reader::Event>,
    mut diags: Diagnostics,
    source: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let (global, shares) = loader::build(events, &mut diags);
    if !diags.errors.is_empty() {
        return Err(ConfigError {
            diagnostics: diags.errors,
        });
    }
    Ok(Config {
        global,
        shares,
        warnings: diags.warnings,
        source,
    })
}
