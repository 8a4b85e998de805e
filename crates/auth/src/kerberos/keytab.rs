//! The keytab file the Kerberos acceptor takes its service keys from: MIT Kerberos' binary keytab
//! format, version 0x0502 (big-endian), as `ktutil`, `kadmin ktadd`, `net ads keytab` and Windows'
//! `ktpass` write it. Version 0x0501 (host byte order, no name type) is refused.
//!
//! Written by hand because no maintained crate reads keytabs without also bringing a whole Kerberos
//! client; the format is small: after the version, records of a signed 32-bit length (negative for a
//! deleted record's hole), each holding the principal (component count, realm, components, name type),
//! a timestamp, an 8-bit key version, the key (type and bytes) and, when room is left, a 32-bit key
//! version that supersedes the 8-bit one. Every length is checked against the record it sits in.

/// A key of a service principal.
#[derive(Clone, PartialEq, Eq)]
pub struct KeytabEntry {
    pub realm: String,
    pub components: Vec<String>,
    pub kvno: u32,
    /// Kerberos encryption type number (17 aes128-cts-hmac-sha1-96, 18 aes256-cts-hmac-sha1-96, ...).
    pub etype: i32,
    pub key: Vec<u8>,
}

impl std::fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeytabEntry")
            .field("principal", &self.principal())
            .field("kvno", &self.kvno)
            .field("etype", &self.etype)
            .finish_non_exhaustive()
    }
}

impl KeytabEntry {
    /// `comp1/comp2@REALM`.
    pub fn principal(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }
}

/// Largest keytab accepted (a keytab holds a few hundred bytes per key).
const MAX_KEYTAB_BYTES: u64 = 1 << 20;

/// Why a keytab could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum KeytabError {
    Io(String),
    UnsupportedVersion(u16),
    Malformed,
}

impl std::fmt::Display for KeytabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeytabError::Io(e) => write!(f, "{e}"),
            KeytabError::UnsupportedVersion(v) => write!(f, "unsupported keytab version {v:#06x}"),
            KeytabError::Malformed => f.write_str("malformed keytab"),
        }
    }
}

/// Reads the keytab at `path` (a `FILE:` or `WRFILE:` prefix is allowed).
pub fn load(path: &str) -> Result<Vec<KeytabEntry>, KeytabError> {
    let path = path
        .strip_prefix("FILE:")
        .or_else(|| path.strip_prefix("WRFILE:"))
        .unwrap_or(path);
    let io = |e: std::io::Error| KeytabError::Io(format!("{path}: {e}"));
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_KEYTAB_BYTES {
        return Err(KeytabError::Malformed);
    }
    parse(&std::fs::read(path).map_err(io)?)
}

/// Parses a keytab file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Vec<KeytabEntry>, KeytabError> {
    let mut r = Reader(bytes);
    let version = r.u16()?;
    if version != 0x0502 {
        return Err(KeytabError::UnsupportedVersion(version));
    }
    let mut entries = Vec::new();
    while !r.0.is_empty() {
        let size = r.u32()? as i32;
        let record = r.take(size.unsigned_abs() as usize)?;
        if size > 0 {
            entries.push(entry(record)?);
        }
    }
    Ok(entries)
}

fn entry(record: &[u8]) -> Result<KeytabEntry, KeytabError> {
    let mut r = Reader(record);
    let count = r.u16()?;
    let realm = r.string()?;
    let components = (0..count)
        .map(|_| r.string())
        .collect::<Result<Vec<_>, _>>()?;
    let _name_type = r.u32()?;
    let _timestamp = r.u32()?;
    let kvno8 = r.u8()?;
    let etype = i32::from(r.u16()?);
    let key_len = usize::from(r.u16()?);
    let key = r.take(key_len)?.to_vec();
    let kvno = if r.0.len() >= 4 {
        r.u32()?
    } else {
        u32::from(kvno8)
    };
    Ok(KeytabEntry {
        realm,
        components,
        kvno,
        etype,
        key,
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], KeytabError> {
        if n > self.0.len() {
            return Err(KeytabError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, KeytabError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn u16(&mut self) -> Result<u16, KeytabError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, KeytabError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], KeytabError> {
        self.take(N)?.try_into().map_err(|_| KeytabError::Malformed)
    }

    fn string(&mut self) -> Result<String, KeytabError> {
        let len = usize::from(self.u16()?);
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| KeytabError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as MIT's ktadd writes it.
    fn record(
        components: &[&str],
        kvno: u8,
        etype: u16,
        key: &[u8],
        kvno32: Option<u32>,
    ) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend((components.len() as u16).to_be_bytes());
        for s in std::iter::once(&"RSMBD.TEST").chain(components) {
            r.extend((s.len() as u16).to_be_bytes());
            r.extend(s.as_bytes());
        }
        r.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
        r.extend(0x6b16_5789u32.to_be_bytes());
        r.push(kvno);
        r.extend(etype.to_be_bytes());
        r.extend((key.len() as u16).to_be_bytes());
        r.extend(key);
        if let Some(v) = kvno32 {
            r.extend(v.to_be_bytes());
        }
        let mut out = (r.len() as i32).to_be_bytes().to_vec();
        out.extend(r);
        out
    }

    #[test]
    fn reads_entries_skips_holes_and_prefers_the_32_bit_kvno() {
        let mut file = vec![0x05, 0x02];
        file.extend(record(&["cifs", "localhost"], 2, 18, &[7; 32], Some(2)));
        file.extend((-12i32).to_be_bytes());
        file.extend([0; 12]);
        file.extend(record(&["cifs", "localhost"], 3, 17, &[9; 16], None));
        file.extend(record(&["cifs", "nas"], 255, 18, &[1; 32], Some(300)));
        let entries = parse(&file).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].principal(), "cifs/localhost@RSMBD.TEST");
        assert_eq!(
            (entries[0].kvno, entries[0].etype, entries[0].key.len()),
            (2, 18, 32)
        );
        assert_eq!((entries[1].kvno, entries[1].etype), (3, 17));
        assert_eq!(entries[2].kvno, 300);
    }

    #[test]
    fn refuses_other_versions_and_every_truncation() {
        assert_eq!(
            parse(&[0x05, 0x01]),
            Err(KeytabError::UnsupportedVersion(0x0501))
        );
        let mut file = vec![0x05, 0x02];
        file.extend(record(&["cifs", "localhost"], 2, 18, &[7; 32], Some(2)));
        for cut in 1..file.len() {
            assert!(parse(&file[..cut]).is_err() || cut == 2, "cut at {cut}");
        }
        let mut lying = file.clone();
        lying[2..6].copy_from_slice(&1000i32.to_be_bytes());
        assert_eq!(parse(&lying), Err(KeytabError::Malformed));
        let mut huge_component = vec![0x05, 0x02];
        huge_component.extend(8i32.to_be_bytes());
        huge_component.extend([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        assert_eq!(parse(&huge_component), Err(KeytabError::Malformed));
    }
}
