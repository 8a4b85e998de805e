//! The network discovery settings of `[global]`: Samba's `multicast dns register` (Bonjour / mDNS-SD,
//! RFC 6762 and RFC 6763), rsmbd's own `wsd support` (WS-Discovery for Windows) and the model string
//! vfs_fruit announces (`fruit:model`, shown by Finder as the server's icon).

use crate::registry::Key;
use crate::value::Value;

/// The model announced when `fruit:model` is not set.
pub const DEFAULT_MODEL: &str = "RackMac";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// `multicast dns register` (default yes): announce the server over mDNS-SD.
    pub multicast_dns_register: bool,
    /// `wsd support` (rsmbd's own, default yes): answer WS-Discovery and serve the device metadata.
    pub wsd_support: bool,
    /// `fruit:model`: the `model=` of the `_device-info._tcp` record.
    pub model: String,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            multicast_dns_register: true,
            wsd_support: true,
            model: DEFAULT_MODEL.to_owned(),
        }
    }
}

impl DiscoveryConfig {
    /// Applies `key` if it is a discovery setting; `Ok(false)` when it is not one.
    pub(crate) fn apply(&mut self, key: Key, value: &Value) -> Result<bool, String> {
        match (key, value) {
            (Key::MulticastDnsRegister, Value::Bool(b)) => self.multicast_dns_register = *b,
            (Key::WsdSupport, Value::Bool(b)) => self.wsd_support = *b,
            (Key::FruitModel, Value::Str(s)) => self.model = model(s)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A TXT record value holds at most 255 bytes with its `model=` key (RFC 6763 section 6.1).
fn model(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 200 || text.chars().any(char::is_control) {
        return Err(format!(
            "fruit:model '{text}' must be 1 to 200 bytes without control characters"
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_its_own_keys_only() {
        let mut d = DiscoveryConfig::default();
        assert!(d.multicast_dns_register && d.wsd_support);
        assert_eq!(d.model, DEFAULT_MODEL);
        assert_eq!(d.apply(Key::WsdSupport, &Value::Bool(false)), Ok(true));
        assert!(!d.wsd_support);
        assert_eq!(
            d.apply(Key::MulticastDnsRegister, &Value::Bool(false)),
            Ok(true)
        );
        assert!(!d.multicast_dns_register);
        assert_eq!(
            d.apply(Key::FruitModel, &Value::Str(" Xserve ".into())),
            Ok(true)
        );
        assert_eq!(d.model, "Xserve");
        assert!(d
            .apply(Key::FruitModel, &Value::Str(String::new()))
            .is_err());
        assert_eq!(d.apply(Key::Workgroup, &Value::Str("x".into())), Ok(false));
    }

    #[test]
    fn parsed_from_smb_conf() {
        let c = crate::Config::parse_str(
            "[global]\nfruit:model = MacPro7,1\nmulticast dns register = no\nwsd support = no\n\
             [tm]\npath = /srv/tm\nfruit:time machine = yes\nfruit:encoding = native\n[plain]\npath = /p\n",
            "t.conf",
        )
        .unwrap();
        assert_eq!(c.global.discovery.model, "MacPro7,1");
        assert!(!c.global.discovery.multicast_dns_register && !c.global.discovery.wsd_support);
        assert!(c.share("tm").unwrap().time_machine);
        assert!(!c.share("plain").unwrap().time_machine);
        let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            w.iter()
                .any(|w| w.contains("parametric option 'fruit:encoding'")),
            "{w:?}"
        );
        assert_eq!(w.len(), 1, "{w:?}");
    }
}
