//! Minimal bounds-checked DER reader and writer (ITU-T X.690) for the few types SPNEGO needs
//! (RFC 4178 section 4.2, RFC 2743 section 3.1): SEQUENCE, context-specific tags, OBJECT IDENTIFIER,
//! OCTET STRING, ENUMERATED, BIT STRING and GeneralString.
//!
//! Hand-written rather than pulled in as a dependency because SPNEGO uses only a handful of
//! single-byte tags with definite lengths. The reader never panics: every length is checked
//! against the bytes that remain.

/// Malformed DER input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerError;

pub const TAG_ENUMERATED: u8 = 0x0a;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_OID: u8 = 0x06;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_GENERAL_STRING: u8 = 0x1b;
/// [APPLICATION 0] constructed: the GSS-API InitialContextToken framing.
pub const TAG_APPLICATION_0: u8 = 0x60;

/// The tag byte of a constructed context-specific `[n]` element.
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// One decoded element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    pub tag: u8,
    /// The contents octets.
    pub value: &'a [u8],
    /// The whole encoding: tag, length and contents.
    pub raw: &'a [u8],
}

/// Reads the first element of `input`; returns it and the bytes after it.
pub fn read(input: &[u8]) -> Result<(Element<'_>, &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError)?;
    if tag & 0x1f == 0x1f {
        return Err(DerError); // high tag numbers are never used by SPNEGO
    }
    let (&first, mut rest) = rest.split_first().ok_or(DerError)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(DerError); // indefinite length is not DER; > 4 GiB is absurd
        }
        let (bytes, after) = (
            rest.get(..count).ok_or(DerError)?,
            rest.get(count..).ok_or(DerError)?,
        );
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let value = rest.get(..len).ok_or(DerError)?;
    let after = rest.get(len..).ok_or(DerError)?;
    let raw = input.get(..input.len() - after.len()).ok_or(DerError)?;
    Ok((Element { tag, value, raw }, after))
}

/// Nesting deeper than any Kerberos or SPNEGO message goes.
const MAX_DEPTH: usize = 32;

/// Whether `input` is a sequence of DER elements whose every length, also inside every constructed
/// element (to [`MAX_DEPTH`] levels), fits in what contains it. Decoders of other crates are only
/// given input that passes (one of them computes lengths with unchecked arithmetic).
pub fn well_formed(input: &[u8]) -> bool {
    well_formed_at(input, 0)
}

fn well_formed_at(mut input: &[u8], depth: usize) -> bool {
    while !input.is_empty() {
        let Ok((element, rest)) = read(input) else {
            return false;
        };
        let constructed = element.tag & 0x20 != 0;
        if constructed && (depth >= MAX_DEPTH || !well_formed_at(element.value, depth + 1)) {
            return false;
        }
        input = rest;
    }
    true
}

/// Reads the first element of `input`, which must carry `tag`.
pub fn expect(input: &[u8], tag: u8) -> Result<(Element<'_>, &[u8]), DerError> {
    let (el, rest) = read(input)?;
    if el.tag == tag {
        Ok((el, rest))
    } else {
        Err(DerError)
    }
}

/// Reads `input` as exactly one element with `tag` and nothing after it.
pub fn expect_only(input: &[u8], tag: u8) -> Result<Element<'_>, DerError> {
    match expect(input, tag)? {
        (el, []) => Ok(el),
        _ => Err(DerError),
    }
}

/// Splits the contents of a constructed element into its child elements.
pub fn children(mut value: &[u8]) -> Result<Vec<Element<'_>>, DerError> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (el, rest) = read(value)?;
        out.push(el);
        value = rest;
    }
    Ok(out)
}

/// Encodes one element with a definite length.
pub fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(&significant);
    }
    out.extend_from_slice(value);
    out
}

/// Encodes the concatenation of already-encoded parts under one constructed tag.
pub fn encode_parts(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 70000] {
            let value = vec![0x5a; len];
            let enc = encode(TAG_OCTET_STRING, &value);
            let (el, rest) = read(&enc).unwrap();
            assert_eq!(
                (el.tag, el.value.len(), rest.len()),
                (TAG_OCTET_STRING, len, 0)
            );
            assert_eq!(el.raw, &enc[..]);
        }
        assert_eq!(encode(TAG_OCTET_STRING, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(encode(TAG_OCTET_STRING, &[0; 256])[..4], [0x04, 0x82, 1, 0]);
    }

    #[test]
    fn rejects_malformed_input() {
        assert_eq!(read(&[]), Err(DerError));
        assert_eq!(read(&[0x04]), Err(DerError));
        assert_eq!(read(&[0x04, 0x05, 1, 2]), Err(DerError));
        assert_eq!(read(&[0x04, 0x80, 0, 0]), Err(DerError));
        assert_eq!(read(&[0x04, 0x85, 1, 1, 1, 1, 1]), Err(DerError));
        assert_eq!(read(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(DerError));
        assert_eq!(read(&[0x1f, 0x01, 0x00]), Err(DerError));
        assert_eq!(expect(&[0x04, 0x00], TAG_OID), Err(DerError));
        assert_eq!(
            expect_only(&[0x04, 0x00, 0x00], TAG_OCTET_STRING),
            Err(DerError)
        );
        assert_eq!(children(&[0x04, 0x01]), Err(DerError));
    }

    #[test]
    fn well_formed_checks_every_nested_length() {
        let inner = encode(TAG_OCTET_STRING, b"abc");
        let good = encode(TAG_SEQUENCE, &inner);
        assert!(well_formed(&good));
        // The inner length claims more than the sequence holds.
        let mut bad = good.clone();
        bad[3] = 0x7f;
        assert!(!well_formed(&bad));
        // A length field of five bytes (a fuzzer's crash input for another crate's decoder).
        assert!(!well_formed(&[0x30, 0x02, 0xa0, 0x88, 0xff, 0xff]));
        let mut deep = inner;
        for _ in 0..40 {
            deep = encode(TAG_SEQUENCE, &deep);
        }
        assert!(!well_formed(&deep));
    }

    #[test]
    fn children_of_sequence() {
        let seq = encode_parts(
            TAG_SEQUENCE,
            &[encode(TAG_OID, &[1]), encode(context(2), &[])],
        );
        let el = expect_only(&seq, TAG_SEQUENCE).unwrap();
        let kids = children(el.value).unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!((kids[0].tag, kids[0].value), (TAG_OID, &[1u8][..]));
        assert_eq!(kids[1].tag, 0xa2);
    }
}
