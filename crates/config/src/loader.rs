//! Turns the lines read from smb.conf into typed settings: sorts parameters into sections, looks each up in
//! the registry (warning about unknown and unsupported ones), applies `[global]` share parameters as defaults
//! for every share, merges repeated sections and validates the result.

use std::path::PathBuf;

use crate::diag::{Diagnostics, Location};
use crate::global::Global;
use crate::reader::Event;
use crate::registry::{self, Key, Parameter, Scope, Support};
use crate::share::ShareConfig;
use crate::value::Value;

/// Longest share name accepted (the limit Windows applies).
const MAX_SHARE_NAME: usize = 80;

/// A supported parameter found in a section, not yet applied.
struct Setting {
    written: String,
    param: &'static Parameter,
    inverted: bool,
    value: String,
    at: Location,
}

impl Setting {
    fn key(&self) -> Option<Key> {
        match self.param.support {
            Support::Supported(key) => Some(key),
            Support::Ignored => None,
        }
    }

    /// Parses the value by the parameter's type, flipping booleans given through an inverse synonym.
    fn parse(&self) -> Result<Value, String> {
        match self.param.ty.parse(&self.value) {
            Ok(Value::Bool(b)) if self.inverted => Ok(Value::Bool(!b)),
            other => other,
        }
    }
}

/// A share section (all its occurrences merged).
struct PendingShare {
    name: String,
    at: Location,
    settings: Vec<Setting>,
}

/// The section parameters currently go to.
#[derive(Clone, Copy)]
enum Current {
    Global,
    Share(usize),
    Skipped,
}

#[derive(Default)]
struct Sections {
    global: Vec<Setting>,
    shares: Vec<PendingShare>,
}

/// Builds the global settings and the shares from `events`, recording problems in `diags`.
pub(crate) fn build(events: Vec<Event>, diags: &mut Diagnostics) -> (Global, Vec<ShareConfig>) {
    let sections = collect(events, diags);
    let mut global = Global::default();
    let mut defaults = ShareConfig::new("", PathBuf::new());
    apply_global(&sections.global, &mut global, &mut defaults, diags);
    // `smb encrypt` in [global] is also the server-wide setting (SESSION_FLAG_ENCRYPT_DATA).
    global.smb_encrypt = defaults.smb_encrypt;
    let shares = sections
        .shares
        .into_iter()
        .filter_map(|pending| build_share(pending, &defaults, diags))
        .collect();
    (global, shares)
}

fn collect(events: Vec<Event>, diags: &mut Diagnostics) -> Sections {
    let mut sections = Sections::default();
    let mut current = Current::Global;
    for event in events {
        match event {
            Event::Section { name, at } => current = open_section(&mut sections, name, at, diags),
            Event::Param { name, value, at } => {
                if let Some(setting) = classify(name, value, at, current, &sections, diags) {
                    match current {
                        Current::Global => sections.global.push(setting),
                        Current::Share(i) => {
                            if let Some(share) = sections.shares.get_mut(i) {
                                share.settings.push(setting);
                            }
                        }
                        Current::Skipped => {}
                    }
                }
            }
        }
    }
    sections
}

fn open_section(
    sections: &mut Sections,
    name: String,
    at: Location,
    diags: &mut Diagnostics,
) -> Current {
    match name.to_lowercase().as_str() {
        "global" | "globals" => return Current::Global,
        "homes" | "printers" | "print$" => {
            diags.warn(
                &at,
                format!("section [{name}] is not supported yet and is skipped"),
            );
            return Current::Skipped;
        }
        "ipc$" => {
            diags.warn(
                &at,
                "[IPC$] is provided by rsmbd itself; this section is ignored",
            );
            return Current::Skipped;
        }
        _ => {}
    }
    if let Err(reason) = check_share_name(&name) {
        diags.error(&at, reason);
        return Current::Skipped;
    }
    let lower = name.to_lowercase();
    let existing = sections
        .shares
        .iter()
        .position(|s| s.name.to_lowercase() == lower);
    Current::Share(existing.unwrap_or_else(|| {
        sections.shares.push(PendingShare {
            name,
            at,
            settings: Vec::new(),
        });
        sections.shares.len().saturating_sub(1)
    }))
}

fn check_share_name(name: &str) -> Result<(), String> {
    if name.chars().count() > MAX_SHARE_NAME {
        Err(format!(
            "share name '{name}' is longer than {MAX_SHARE_NAME} characters"
        ))
    } else if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\')
    {
        Err(format!(
            "share name '{name}' contains '/', '\\' or a control character"
        ))
    } else {
        Ok(())
    }
}

/// Looks a parameter up; returns it when it is to be applied, after warning about anything that is not.
fn classify(
    name: String,
    value: String,
    at: Location,
    current: Current,
    sections: &Sections,
    diags: &mut Diagnostics,
) -> Option<Setting> {
    if let Current::Skipped = current {
        return None;
    }
    let Some((param, inverted)) = registry::lookup(&name) else {
        let what = if name.contains(':') {
            format!("parametric option '{name}' is not supported by rsmbd yet and is ignored")
        } else {
            format!("unknown parameter '{name}'")
        };
        diags.warn(&at, what);
        return None;
    };
    let setting = Setting {
        written: name,
        param,
        inverted,
        value,
        at,
    };
    if let Err(reason) = setting.parse() {
        diags.error(&setting.at, format!("'{}': {reason}", setting.written));
        return None;
    }
    if setting.key().is_none() {
        diags.warn(
            &setting.at,
            format!(
                "parameter '{}' is not supported by rsmbd yet and is ignored",
                setting.written
            ),
        );
        return None;
    }
    if let (Current::Share(i), Scope::Global) = (current, param.scope) {
        let share = sections.shares.get(i).map_or("", |s| s.name.as_str());
        diags.warn(
            &setting.at,
            format!(
                "global parameter '{}' in share [{share}] is ignored",
                setting.written
            ),
        );
        return None;
    }
    Some(setting)
}

/// Applies `[global]`: global parameters to `global`, share parameters to the share `defaults`.
fn apply_global(
    settings: &[Setting],
    global: &mut Global,
    defaults: &mut ShareConfig,
    diags: &mut Diagnostics,
) {
    let mut protocol_at = None;
    for setting in settings {
        let (Some(key), Ok(value)) = (setting.key(), setting.parse()) else {
            continue;
        };
        let result = match setting.param.scope {
            Scope::Global => global.apply(key, value),
            Scope::Share => defaults.apply(key, value),
        };
        report(setting, result, diags);
        if matches!(key, Key::ServerMinProtocol | Key::ServerMaxProtocol) {
            protocol_at = Some(&setting.at);
        }
    }
    if let Some(at) = protocol_at {
        if global.server_min_protocol > global.server_max_protocol {
            diags.error(
                at,
                format!(
                    "server min protocol ({}) is newer than server max protocol ({})",
                    global.server_min_protocol, global.server_max_protocol
                ),
            );
        }
    }
}

fn build_share(
    pending: PendingShare,
    defaults: &ShareConfig,
    diags: &mut Diagnostics,
) -> Option<ShareConfig> {
    let mut share = defaults.clone();
    share.name = pending.name;
    for setting in &pending.settings {
        if let (Some(key), Ok(value)) = (setting.key(), setting.parse()) {
            report(setting, share.apply(key, value), diags);
        }
    }
    if share.path.as_os_str().is_empty() {
        diags.error(&pending.at, format!("share [{}] has no path", share.name));
        return None;
    }
    Some(share)
}

fn report(setting: &Setting, result: Result<Option<String>, String>, diags: &mut Diagnostics) {
    match result {
        Ok(None) => {}
        Ok(Some(warning)) => diags.warn(&setting.at, warning),
        Err(reason) => diags.error(&setting.at, format!("'{}': {reason}", setting.written)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::PARAMETERS;
    use crate::value::Type;

    /// Every supported parameter is handled by the settings of its scope, with the value type the table gives.
    #[test]
    fn every_supported_parameter_is_applied() {
        for param in PARAMETERS {
            let Support::Supported(key) = param.support else {
                continue;
            };
            if key == Key::Include {
                continue;
            }
            let text = match param.ty {
                Type::Bool => "yes",
                Type::Integer => "100",
                Type::Size => "1M",
                Type::Mode => "0755",
                Type::String | Type::List => "SMB3",
            };
            let value = param.ty.parse(text).unwrap();
            let result = match param.scope {
                Scope::Global => Global::default().apply(key, value).map(|_| ()),
                Scope::Share => ShareConfig::new("s", PathBuf::new())
                    .apply(key, value)
                    .map(|_| ()),
            };
            if let Err(e) = result {
                assert!(!e.starts_with("internal"), "{}: {e}", param.name);
            }
        }
    }

    #[test]
    fn share_names_checked() {
        assert!(check_share_name("data").is_ok());
        assert!(check_share_name("a/b").is_err());
        assert!(check_share_name("a\\b").is_err());
        assert!(check_share_name("a\u{1}").is_err());
        assert!(check_share_name(&"x".repeat(81)).is_err());
    }
}
