//! Mutations of valid files for the property tests: a value replaced by one of another type or out of range,
//! a line deleted, duplicated or swapped, bytes that are not UTF-8 inserted, a byte flipped, the file cut.
//! Indices are drawn unbounded and taken modulo the file's current size, so edits compose.

use proptest::prelude::*;

/// One edit of a file's bytes; line numbers and offsets are taken modulo the current length.
#[derive(Debug, Clone)]
pub enum Edit {
    /// The value after the line's first separator (`=` in TOML, `:` in JSON) becomes this text.
    Value(usize, String),
    /// Field `1` (comma-separated) of line `0` becomes this text: a CSV value or, on line 0, a header name.
    Field(usize, usize, String),
    Delete(usize),
    /// Line `0` is copied before line `1` (a duplicated key, a repeated row).
    Duplicate(usize, usize),
    Swap(usize, usize),
    /// These bytes are inserted at the offset.
    Insert(usize, Vec<u8>),
    Flip(usize, u8),
    Truncate(usize),
}

/// Values of every TOML and JSON type, out-of-range numbers and integers too large for any field.
pub fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "\"text\"",
            "\"\"",
            "\" \"",
            "-1",
            "0",
            "1",
            "-0.0",
            "1.5",
            "1e308",
            "-1e308",
            "nan",
            "inf",
            "-inf",
            "255",
            "256",
            "65536",
            "4294967296",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999",
            "0xFFFFFFFF",
            "0x1_0000_0000",
            "0o777",
            "0b2",
            "true",
            "false",
            "null",
            "[]",
            "[1, \"a\"]",
            "{}",
            "{ x = 1 }",
            "{\"x\": 1}",
            "1979-05-27T07:32:00Z",
            "'''multi\nline'''",
            "\"unterminated",
            "\"\\u0000\"",
            "\"\\uD800\"",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        "[ -~]{0,16}",
        "\"[^\"\\\\\n]{0,16}\"",
    ]
}

/// Values a CSV field may be handed: numbers of every size and sign, words, empty, quoted text with a
/// newline or a comma in it, a lone quote.
pub fn csv_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "-1",
            "0",
            "1.5",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "4294967296",
            "18446744073709551616",
            "true",
            "false",
            "pass",
            "fail",
            "\"",
            "\"a,b\"",
            "\"two\nlines\"",
            "\"\"\"\"",
            "schema",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        "[ -~]{0,12}",
    ]
}

/// Bytes that are not UTF-8 (continuation bytes alone, a cut sequence, overlong forms), or any bytes.
fn bad_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            vec![0xFF],
            vec![0x80],
            vec![0xC3],
            vec![0xE2, 0x82],
            vec![0xF0, 0x9F, 0x98],
            vec![0xC0, 0xAF],
            vec![0xED, 0xA0, 0x80],
            vec![0x00],
            vec![b'\r'],
        ]),
        prop::collection::vec(any::<u8>(), 1..6),
    ]
}

/// One edit; `values` are what a `Value` or `Field` edit writes.
pub fn edit(values: BoxedStrategy<String>) -> impl Strategy<Value = Edit> {
    let n = any::<usize>;
    prop_oneof![
        3 => (n(), values.clone()).prop_map(|(l, v)| Edit::Value(l, v)),
        2 => (n(), n(), values).prop_map(|(l, f, v)| Edit::Field(l, f, v)),
        2 => n().prop_map(Edit::Delete),
        2 => (n(), n()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
        1 => (n(), n()).prop_map(|(a, b)| Edit::Swap(a, b)),
        1 => (n(), bad_bytes()).prop_map(|(at, b)| Edit::Insert(at, b)),
        2 => (n(), any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        1 => n().prop_map(Edit::Truncate),
    ]
}

/// One to four edits of a TOML file.
pub fn toml_edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(value().boxed()), 1..5)
}

/// One to four edits of a CSV or JSON file.
pub fn record_edits() -> impl Strategy<Value = Vec<Edit>> {
    let values = prop_oneof![csv_value(), value()].boxed();
    prop::collection::vec(edit(values), 1..5)
}

/// `bytes` with `edits` applied in order; `separator` splits a line's key from its value for `Value` edits.
pub fn apply(bytes: &[u8], edits: &[Edit], separator: u8) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for edit in edits {
        bytes = apply_one(bytes, edit, separator);
    }
    bytes
}

fn apply_one(mut bytes: Vec<u8>, edit: &Edit, separator: u8) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len();
    let join = |lines: Vec<Vec<u8>>| lines.join(&b'\n');
    match edit {
        Edit::Value(l, v) => {
            // Prefer a line with a separator: start at `l` and take the first one that has it.
            let Some(line) = (0..n)
                .map(|k| (l % n + k) % n)
                .find(|&k| lines[k].contains(&separator) && !lines[k].starts_with(b"#"))
            else {
                return bytes;
            };
            let at = lines[line].iter().position(|&b| b == separator).unwrap();
            lines[line].truncate(at + 1);
            lines[line].push(b' ');
            lines[line].extend_from_slice(v.as_bytes());
            join(lines)
        }
        Edit::Field(l, f, v) => {
            let line = &mut lines[l % n];
            let mut fields: Vec<Vec<u8>> = line.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
            let k = f % fields.len();
            fields[k] = v.as_bytes().to_vec();
            *line = fields.join(&b',');
            join(lines)
        }
        Edit::Delete(l) => {
            lines.remove(l % n);
            join(lines)
        }
        Edit::Duplicate(a, b) => {
            let copy = lines[a % n].clone();
            lines.insert(b % (n + 1), copy);
            join(lines)
        }
        Edit::Swap(a, b) => {
            lines.swap(a % n, b % n);
            join(lines)
        }
        Edit::Insert(at, extra) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, extra.iter().copied());
            bytes
        }
        Edit::Flip(at, value) => {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = *value;
            }
            bytes
        }
        Edit::Truncate(at) => {
            bytes.truncate(at % (bytes.len() + 1));
            bytes
        }
    }
}
