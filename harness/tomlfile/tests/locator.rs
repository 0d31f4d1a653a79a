//! The locator as a loader meets it: serde errors and validation errors in a nested table, in an element of an
//! array of tables, for an unknown key and for a wrong type, each named by file, line, column and dotted key.

use std::path::Path;

use serde::Deserialize;
use tomlfile::{FileError, KeyPath, Location, Source};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Raw {
    name: String,
    controller: Controller,
    boards: Vec<Board>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Controller {
    port: String,
    #[serde(default)]
    baud: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Board {
    name: String,
    usb: Usb,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Usb {
    serial: String,
}

/// Line 1 name, 2–4 the controller, 5–7, 8–10 and 11–13 three boards.
const TEXT: &str = r#"name = "rig"
[controller]
port = "/dev/ttyX"
baud = 9600
[[boards]]
name = "a"
usb = { serial = "S1" }
[[boards]]
name = "b"
usb = { serial = "S2" }
[[boards]]
name = "c"
usb = { serial = "S3" }
"#;

fn source(text: &str) -> Source {
    Source::new(text.to_string(), Path::new("rigs/case.toml"))
}

fn parse_error(text: &str) -> FileError {
    source(text).parse::<Raw>().unwrap_err()
}

#[test]
fn the_valid_text_parses() {
    let raw: Raw = source(TEXT).parse().unwrap();
    assert_eq!(raw.boards[2].usb.serial, "S3");
}

#[test]
fn a_key_in_a_nested_table() {
    let src = source(TEXT);
    let err = src.invalid(&KeyPath::dotted("controller.baud"), "must be 300..=4000000");
    assert_eq!(err.key(), "controller.baud");
    assert_eq!(err.line(), Some(4));
    assert_eq!(
        err.to_string(),
        "rigs/case.toml:4:1: key `controller.baud`: must be 300..=4000000"
    );
}

#[test]
fn an_element_of_an_array_of_tables() {
    let src = source(TEXT);
    let key = KeyPath::root().key("boards").index(2).key("usb");
    assert_eq!(key.to_string(), "boards[2].usb");
    let err = src.invalid(&key, "needs `usb.serial` or `usb.path`");
    assert_eq!(err.line(), Some(13));
    assert!(
        err.to_string()
            .starts_with("rigs/case.toml:13:1: key `boards[2].usb`: needs"),
        "{err}"
    );
    // A key that is not written is placed where its nearest written parent is: the third [[boards]] header.
    let err = src.invalid(&KeyPath::dotted("boards[2].hse_hz"), "needs hse_hz");
    assert_eq!(err.line(), Some(11));
    assert_eq!(err.key(), "boards[2].hse_hz");
}

#[test]
fn an_unknown_key() {
    let err = parse_error(&TEXT.replace("serial = \"S2\"", "sn = \"S2\""));
    assert!(matches!(err, FileError::Parse { .. }));
    assert_eq!(err.key(), "boards[1].usb.sn");
    assert_eq!(err.line(), Some(10));
    let shown = err.to_string();
    assert!(
        shown.starts_with("rigs/case.toml:10:9: key `boards[1].usb.sn`: unknown field `sn`"),
        "{shown}"
    );
}

#[test]
fn a_wrong_type() {
    let err = parse_error(&TEXT.replace("baud = 9600", "baud = \"fast\""));
    assert_eq!(err.key(), "controller.baud");
    assert_eq!(err.line(), Some(4));
    let shown = err.to_string();
    assert!(
        shown.starts_with("rigs/case.toml:4:8: key `controller.baud`: invalid type"),
        "{shown}"
    );
}

#[test]
fn a_missing_key_names_the_table_it_belongs_to() {
    let err = parse_error(&TEXT.replace("name = \"b\"\n", ""));
    assert_eq!(err.key(), "boards[1].name");
    assert_eq!(err.line(), Some(8));
    assert!(err.to_string().contains("missing field `name`"), "{err}");
}

#[test]
fn a_missing_top_level_key_has_no_line() {
    let text = format!(
        "# a comment first\n{}# and one last\n",
        TEXT.replace("name = \"rig\"\n", "")
    );
    let err = parse_error(&text);
    assert_eq!(err.key(), "name", "{err}");
    assert_eq!(err.line(), None);
    assert_eq!(
        err.to_string(),
        "rigs/case.toml: key `name`: missing field `name`"
    );
    // An error on the first line is still on the first line.
    let err = parse_error(&TEXT.replace("name = \"rig\"", "name = 1"));
    assert_eq!(err.line(), Some(1), "{err}");
    assert_eq!(err.key(), "name", "{err}");
}

#[test]
fn a_syntax_error_still_names_its_key() {
    let err = parse_error(&TEXT.replace("name = \"c\"", "name = = \"c\""));
    assert_eq!(err.key(), "boards[2].name");
    assert_eq!(err.line(), Some(12));
}

#[test]
fn an_unreadable_file_names_the_path_and_the_kind_of_file() {
    let err =
        tomlfile::load::<Raw>(Path::new("/nonexistent/board.toml"), "board file").unwrap_err();
    assert!(matches!(err, FileError::Io { .. }));
    assert_eq!(
        err.to_string(),
        "/nonexistent/board.toml: cannot read board file"
    );
    assert_eq!(err.line(), None);
}

#[test]
fn locations_display_as_line_and_column() {
    assert_eq!(Location::of_offset("a\nbc\n", 4).to_string(), ":2:3");
    assert_eq!(Location::default().to_string(), "");
}

#[test]
fn a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte() {
    let dir = std::env::temp_dir().join(format!("tomlfile-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, b"name = \"x\"\n# fine\nport = \"\xfe\"\n").unwrap();
    let err = Source::read(&path).unwrap_err();
    assert_eq!(err.line(), Some(3));
    let text = err.to_string();
    assert!(text.contains("bad.toml:3:9: not UTF-8"), "{text}");
    assert!(!text.contains("key ``"), "no empty key: {text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_syntax_error_at_either_end_of_the_file_names_its_line() {
    // A file cut inside its last key (an editor's crash, a half-copied file), and junk before the first key:
    // the parser's span there is empty or starts at 0, which is also what serde gives for the whole document.
    // A bare word between keys is on its own line, not on the key before it.
    for (text, line, column) in [
        (format!("{TEXT}usb"), 14, 4),
        (format!("{TEXT}[[boards]"), 14, 9),
        ("a".to_string(), 1, 2),
        ("=1\n".to_string(), 1, 1),
        (TEXT.replace("[controller]\n", "[controller]\nport\n"), 3, 5),
    ] {
        let err = parse_error(&text);
        assert_eq!(err.line(), Some(line), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("rigs/case.toml:{line}:{column}: ")),
            "{err}"
        );
    }
}
