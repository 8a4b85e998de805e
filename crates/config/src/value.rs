//! Parameter value types of the smb.conf language and their text forms (booleans, integers, sizes, lists).

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// yes/no, true/false, 1/0, on/off.
    Bool,
    /// A decimal integer.
    Integer,
    /// A byte count with an optional K, M or G suffix (binary multiples).
    Size,
    /// Free text (also enumerations, paths and names, checked by the parameter itself).
    String,
    /// Names separated by commas or white space; double quotes group a name holding spaces.
    List,
    /// Unix permission bits in octal (`0744`).
    Mode,
}

/// A parsed parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Bool(bool),
    Integer(u64),
    Str(String),
    List(Vec<String>),
}

impl Type {
    /// Parses `text` (already trimmed) as a value of this type; `Err` holds the reason.
    pub(crate) fn parse(self, text: &str) -> Result<Value, String> {
        match self {
            Type::Bool => parse_bool(text).map(Value::Bool),
            Type::Integer => parse_integer(text).map(Value::Integer),
            Type::Size => parse_size(text).map(Value::Integer),
            Type::String => Ok(Value::Str(text.to_owned())),
            Type::List => Ok(Value::List(parse_list(text))),
            Type::Mode => parse_mode(text).map(Value::Integer),
        }
    }
}

/// Parses a boolean in any of Samba's spellings, ignoring case.
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" => Ok(true),
        "no" | "false" | "0" | "off" => Ok(false),
        _ => Err(format!("invalid boolean '{text}' (use yes or no)")),
    }
}

/// Parses a non-negative decimal integer.
pub(crate) fn parse_integer(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("invalid number '{text}'"))
}

/// Parses permission bits written in octal, at most 07777.
pub(crate) fn parse_mode(text: &str) -> Result<u64, String> {
    u64::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("invalid mode '{text}' (octal permission bits such as 0755)"))
}

/// Parses a byte count: digits followed by an optional K/KB/KiB, M/MB/MiB or G/GB/GiB (case-insensitive,
/// all multiples of 1024).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("invalid size '{text}'");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let number = digits.parse::<u64>().map_err(|_| bad())?;
    let shift = match suffix.trim().to_ascii_lowercase().as_str() {
        "" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad()),
    };
    number.checked_mul(1u64 << shift).ok_or_else(bad)
}

/// Splits a list on commas and white space; a double-quoted part keeps its spaces. Empty items are dropped.
pub fn parse_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' | ' ' | '\t' if !quoted => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["yes", "YES", "True", "1", "on", "On"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for t in ["no", "No", "FALSE", "0", "off", "OFF"] {
            assert_eq!(parse_bool(t), Ok(false), "{t}");
        }
        assert!(parse_bool("maybe").is_err());
        assert!(parse_bool("").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("8 MB"), Ok(8 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("M").is_err());
        assert!(parse_size("3T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert!(parse_size("18446744073709551615G").is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("8192"), Ok(8192));
        assert!(parse_integer("-1").is_err());
        assert!(parse_integer("12a").is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0744"), Ok(0o744));
        assert_eq!(parse_mode("2775"), Ok(0o2775));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("17777").is_err());
    }

    #[test]
    fn lists() {
        assert_eq!(parse_list("a, b c,,d"), ["a", "b", "c", "d"]);
        assert_eq!(
            parse_list("alice \"bob smith\",@staff"),
            ["alice", "bob smith", "@staff"]
        );
        assert!(parse_list("  ").is_empty());
    }

    #[test]
    fn typed_parse() {
        assert_eq!(Type::Bool.parse("on"), Ok(Value::Bool(true)));
        assert_eq!(Type::Size.parse("1K"), Ok(Value::Integer(1024)));
        assert_eq!(Type::String.parse("x y"), Ok(Value::Str("x y".into())));
        assert_eq!(
            Type::List.parse("x y"),
            Ok(Value::List(vec!["x".into(), "y".into()]))
        );
    }
}
