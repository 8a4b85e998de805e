//! The Kerberos and NTLM logon settings of `[global]`: Samba's `realm`, `kerberos method`,
//! `dedicated keytab file`, `ntlm auth` and `username map`, and ksmbd-tools' `kerberos keytab file` for
//! the same keytab.

use crate::registry::Key;
use crate::value::Value;

/// Where the service keys come from (`kerberos method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KerberosMethod {
    /// `secrets only` (Samba's default): keys live in a domain member's secrets.tdb, which rsmbd does
    /// not have, so Kerberos is off.
    SecretsOnly,
    /// `dedicated keytab`: the file named by `dedicated keytab file`.
    DedicatedKeytab,
    /// `system keytab` and `secrets and keytab`: the system keytab (`KRB5_KTNAME`, else
    /// /etc/krb5.keytab).
    SystemKeytab,
}

/// The system keytab when `KRB5_KTNAME` does not name another.
pub const SYSTEM_KEYTAB: &str = "/etc/krb5.keytab";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosConfig {
    /// `realm`, upper case: the realm client principals must belong to.
    pub realm: Option<String>,
    pub method: KerberosMethod,
    /// `dedicated keytab file` (Samba) or `kerberos keytab file` (ksmbd-tools).
    pub dedicated_keytab: Option<String>,
    /// `ntlm auth = disabled`: NTLM logons are refused, only Kerberos logs on. Samba's other values
    /// (`ntlmv2-only`, `no`, `yes`, `mschapv2-and-ntlmv2-only`) all mean NTLMv2 only in rsmbd, which
    /// never accepts NTLMv1.
    pub ntlm_disabled: bool,
    /// `username map`: the file mapping client (Kerberos principal) names to accounts.
    pub username_map: Option<String>,
}

impl Default for KerberosConfig {
    fn default() -> Self {
        KerberosConfig {
            realm: None,
            method: KerberosMethod::SecretsOnly,
            dedicated_keytab: None,
            ntlm_disabled: false,
            username_map: None,
        }
    }
}

impl KerberosConfig {
    /// The keytab to accept Kerberos logons with, if Kerberos is on. `system` is the system keytab's
    /// path (`KRB5_KTNAME` or [`SYSTEM_KEYTAB`]).
    pub fn keytab(&self, system: &str) -> Option<String> {
        match self.method {
            KerberosMethod::DedicatedKeytab => self.dedicated_keytab.clone(),
            KerberosMethod::SystemKeytab => Some(system.to_string()),
            // ksmbd-tools has no method parameter: naming a keytab turns Kerberos on.
            KerberosMethod::SecretsOnly => self.dedicated_keytab.clone(),
        }
    }

    /// Applies one of this module's parameters; false if `key` is not one of them.
    pub(crate) fn apply(&mut self, key: Key, value: &Value) -> Result<bool, String> {
        match (key, value) {
            (Key::Realm, Value::Str(s)) => {
                self.realm = (!s.trim().is_empty()).then(|| s.trim().to_uppercase())
            }
            (Key::KerberosMethod, Value::Str(s)) => self.method = method(s)?,
            (Key::DedicatedKeytabFile, Value::Str(s)) => {
                self.dedicated_keytab = (!s.trim().is_empty()).then(|| s.trim().to_string())
            }
            (Key::NtlmAuth, Value::Str(s)) => self.ntlm_disabled = ntlm_disabled(s)?,
            (Key::UsernameMap, Value::Str(s)) => {
                self.username_map = (!s.trim().is_empty()).then(|| s.trim().to_string())
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn method(s: &str) -> Result<KerberosMethod, String> {
    match crate::registry::normalize(s).as_str() {
        "secretsonly" | "default" => Ok(KerberosMethod::SecretsOnly),
        "dedicatedkeytab" => Ok(KerberosMethod::DedicatedKeytab),
        "systemkeytab" | "secretsandkeytab" => Ok(KerberosMethod::SystemKeytab),
        _ => Err(format!(
            "kerberos method must be one of: secrets only, dedicated keytab, system keytab, secrets and keytab; not '{s}'"
        )),
    }
}

fn ntlm_disabled(s: &str) -> Result<bool, String> {
    match crate::registry::normalize(s).replace(['-', '_'], "").as_str() {
        "disabled" => Ok(true),
        "ntlmv2only" | "no" | "false" | "yes" | "true" | "mschapv2andntlmv2only" => Ok(false),
        _ => Err(format!(
            "ntlm auth must be one of: ntlmv2-only, mschapv2-and-ntlmv2-only, yes, no, disabled; not '{s}'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(c: &mut KerberosConfig, key: Key, v: &str) -> Result<bool, String> {
        c.apply(key, &Value::Str(v.into()))
    }

    #[test]
    fn keytab_follows_the_method() {
        let mut c = KerberosConfig::default();
        assert_eq!(c.keytab("/etc/krb5.keytab"), None);
        apply(&mut c, Key::DedicatedKeytabFile, "/etc/rsmbd.keytab").unwrap();
        assert_eq!(
            c.keytab("/sys"),
            Some("/etc/rsmbd.keytab".into()),
            "ksmbd-style: a keytab turns it on"
        );
        apply(&mut c, Key::KerberosMethod, "system keytab").unwrap();
        assert_eq!(c.keytab("/sys"), Some("/sys".into()));
        apply(&mut c, Key::KerberosMethod, "Dedicated Keytab").unwrap();
        assert_eq!(c.keytab("/sys"), Some("/etc/rsmbd.keytab".into()));
        assert!(apply(&mut c, Key::KerberosMethod, "magic").is_err());
    }

    #[test]
    fn realm_and_ntlm_auth() {
        let mut c = KerberosConfig::default();
        apply(&mut c, Key::Realm, "example.com").unwrap();
        assert_eq!(c.realm.as_deref(), Some("EXAMPLE.COM"));
        apply(&mut c, Key::NtlmAuth, "disabled").unwrap();
        assert!(c.ntlm_disabled);
        apply(&mut c, Key::NtlmAuth, "ntlmv2-only").unwrap();
        assert!(!c.ntlm_disabled);
        assert!(apply(&mut c, Key::NtlmAuth, "sometimes").is_err());
        assert_eq!(c.apply(Key::Workgroup, &Value::Str("X".into())), Ok(false));
    }
}
