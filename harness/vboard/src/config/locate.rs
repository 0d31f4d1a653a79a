//! Finding keys in board-file text: from a byte offset to line/column/key, and from a dotted key to its line.
//! Board files are flat `[section]` tables with `key = value` lines; that is all this needs to understand.

use super::error::Location;

/// Line and column (1-based) of a byte offset.
pub(crate) fn position(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
    Location {
        line: Some(line),
        column: Some(column),
    }
}

/// The dotted key on the line containing `offset`: `section.key` for `key = ...` lines, `section` for headers.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let mut section = String::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        if let Some(name) = header(line) {
            section = name;
            if offset < end {
                return section;
            }
        } else if offset < end {
            return join(&section, key_of(line).unwrap_or(""));
        }
        start = end;
    }
    section
}

/// The location of `key` (dotted, e.g. `hsi.trim`), if it is written in the file.
pub(crate) fn find_key(text: &str, dotted: &str) -> Location {
    let (want_section, want_key) = match dotted.rsplit_once('.') {
        Some((s, k)) => (s, k),
        None => ("", dotted),
    };
    let mut section = String::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(name) = header(line) {
            section = name;
            continue;
        }
        if section == want_section && key_of(line) == Some(want_key) {
            let column = line.len() - line.trim_start().len() + 1;
            return Location {
                line: Some(index + 1),
                column: Some(column),
            };
        }
    }
    Location::default()
}

fn header(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(
        inner[..end]
            .trim_matches(|c| c == '[' || c == ' ')
            .to_string(),
    )
}

fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let (key, _) = t.split_once('=')?;
    Some(key.trim().trim_matches('"'))
}

fn join(section: &str, key: &str) -> String {
    match (section.is_empty(), key.is_empty()) {
        (true, _) => key.to_string(),
        (false, true) => section.to_string(),
        (false, false) => format!("{section}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[hsi]\n# c\ntrim = 40\n[link]\nshape = 2\n";

    #[test]
    fn finds_keys_and_positions() {
        assert_eq!(find_key(TEXT, "hsi.trim").line, Some(4));
        assert_eq!(find_key(TEXT, "name").line, Some(1));
        assert_eq!(find_key(TEXT, "link.attempts").line, None);
        assert_eq!(key_at(TEXT, TEXT.find("40").unwrap()), "hsi.trim");
        assert_eq!(key_at(TEXT, TEXT.find("[link]").unwrap()), "link");
        assert_eq!(
            position(TEXT, TEXT.find("40").unwrap()),
            Location {
                line: Some(4),
                column: Some(8)
            }
        );
    }
}
