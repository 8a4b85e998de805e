//! 8.3 short names (MS-FSCC 2.1.5.2.1), for FileAlternateNameInformation and the ShortName field of
//! FileBothDirectoryInformation / FileIdBothDirectoryInformation (MS-FSCC 2.4.8, 2.4.17).
//!
//! rsmbd stores no short names: they are generated from the long name, the same way every time, as Samba
//! generates them (Windows does too where 8.3 names are on). A name that already is a valid 8.3 name is
//! its own short name, upper-cased; a listing then leaves the ShortName field empty, as Windows and
//! Samba do. Generation works in a fixed buffer: listings call it for every entry.

/// Characters an 8.3 name may hold besides letters and digits.
const SYMBOLS: &[u8] = b"!#$%&'()-@^_`{}~";
/// The longest short name: 8 characters, a dot, 3 characters.
const MAX_LEN: usize = 12;

/// A short name: at most 12 ASCII characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortName {
    bytes: [u8; MAX_LEN],
    len: usize,
}

impl ShortName {
    pub fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    fn push(&mut self, c: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    /// Appends up to `n` of the characters of `part` an 8.3 name may hold, upper-cased.
    fn push_kept(&mut self, part: &str, n: usize) -> usize {
        let kept = part.bytes().filter(|&b| valid_byte(b)).take(n);
        let mut count = 0;
        for b in kept {
            self.push(b.to_ascii_uppercase());
            count += 1;
        }
        count
    }
}

fn valid_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || SYMBOLS.contains(&b)
}

/// Whether `name` is a valid 8.3 name: a base of 1 to 8 characters and, after one dot, an extension of
/// 1 to 3, all of them letters, digits or the symbols allowed.
pub fn is_8_3(name: &str) -> bool {
    let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let valid = |s: &str, max: usize| s.len() <= max && s.bytes().all(valid_byte);
    !base.is_empty() && valid(base, 8) && valid(ext, 3) && (name.contains('.') != ext.is_empty())
}

/// The short name of `name`: itself upper-cased when it is an 8.3 name, else up to five of its
/// characters, `~`, two characters from a hash of the whole name (so names that start alike differ),
/// and up to three characters of its extension.
pub fn short_name(name: &str) -> ShortName {
    let mut out = ShortName {
        bytes: [0; MAX_LEN],
        len: 0,
    };
    if is_8_3(name) {
        for b in name.bytes() {
            out.push(b.to_ascii_uppercase());
        }
        return out;
    }
    let (base, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    if out.push_kept(base, 5) == 0 {
        out.push(b'_');
    }
    let hash = upper_case_hash(name);
    out.push(b'~');
    out.push(digit(hash));
    out.push(digit(hash / 36));
    if ext.bytes().any(valid_byte) {
        out.push(b'.');
        out.push_kept(ext, 3);
    }
    out
}

/// The ShortName a directory listing shows for `name`: none when the name is its own short name.
pub fn listed(name: &str) -> Option<ShortName> {
    (!is_8_3(name)).then(|| short_name(name))
}

/// FNV-1a over the UTF-8 bytes of the upper-cased name: a stable hash, not a secret.
fn upper_case_hash(name: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut utf8 = [0u8; 4];
    for c in name.chars().flat_map(char::to_uppercase) {
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// A base-36 digit, upper-cased.
fn digit(v: u64) -> u8 {
    let d = (v % 36) as u8;
    if d < 10 {
        b'0' + d
    } else {
        b'A' + (d - 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str) -> String {
        short_name(name).as_str().to_owned()
    }

    #[test]
    fn short_names() {
        assert_eq!(s("readme.txt"), "README.TXT");
        assert_eq!(s("A"), "A");
        let long = s("longfilename.text");
        assert!(
            long.starts_with("LONGF~") && long.ends_with(".TEX"),
            "{long}"
        );
        assert_eq!(long.len(), 12);
        assert_ne!(s("longfilename1.txt"), s("longfilename2.txt"));
        assert_eq!(s("Long File.txt"), s("LONG FILE.TXT"));
        assert!(s("a b.txt").starts_with("AB~"));
        assert!(s(".hidden").starts_with("_~"));
        assert!(!s("x.").ends_with('.'));
        assert!(s("\u{e9}t\u{e9}.txt").is_ascii());
        assert!(s("\u{e9}t\u{e9}.txt").len() <= MAX_LEN);
    }

    #[test]
    fn listings_show_only_generated_names() {
        assert_eq!(listed("README.TXT"), None);
        assert_eq!(listed("readme.txt"), None);
        let listed = listed("torture_search.txt").unwrap();
        assert_eq!(listed, short_name("torture_search.txt"));
        assert!(listed.as_str().starts_with("TORTU~"));
    }

    #[test]
    fn never_longer_than_twelve() {
        for name in [
            "a.b.c.d.e",
            "........",
            "x~y~z.qqqqqq",
            "\u{1F600}\u{1F600}.\u{1F600}",
            "",
        ] {
            let n = short_name(name);
            assert!(
                n.as_str().len() <= MAX_LEN && n.as_str().is_ascii(),
                "{name:?}"
            );
        }
    }
}
