//! Key paths and where they are written: a flat index of every key, table header and array element in a TOML
//! text with its byte span (from toml_edit's spans), so a byte offset maps to a dotted key and back. Text that
//! is not valid TOML is indexed line by line (`[table]`, `[[array]]` and `key = ...` lines), so a syntax error
//! still names the key it is in.

use std::fmt;
use std::ops::Range;

use toml_edit::{ImDocument, Item, Table, Value};

/// A dotted key path such as `boards[2].usb`, built by validators and shown in errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl KeyPath {
    /// The document root.
    pub fn root() -> KeyPath {
        KeyPath::default()
    }

    /// This path extended by a table key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_string()));
        path
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// Parses a path written as it displays: `hsi.trim`, `boards[2].usb`, `steps[0]`. Keys are taken as
    /// written (no quoting); an index that is not a number is kept as part of the key.
    pub fn dotted(text: &str) -> KeyPath {
        let mut path = KeyPath::root();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            if !key.is_empty() {
                path = path.key(key);
            }
            while let Some((n, after)) = rest.split_once(']') {
                match n.parse() {
                    Ok(n) => path = path.index(n),
                    Err(_) => path = path.key(&format!("[{n}]")),
                }
                rest = after.strip_prefix('[').unwrap_or(after);
            }
        }
        path
    }

    /// True for the document root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    fn parent(&self) -> Option<KeyPath> {
        let mut path = self.clone();
        path.0.pop().map(|_| path)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Every located key of one document: its path, its span, and whether it is a table (header) rather than a
/// value.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex(Vec<(KeyPath, Range<usize>, bool)>);

impl SpanIndex {
    /// Indexes `text`; a text toml_edit cannot parse is indexed line by line.
    pub(crate) fn new(text: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        match ImDocument::parse(text.to_string()) {
            Ok(doc) => index.table(&KeyPath::root(), doc.as_table()),
            Err(_) => index.lines(text),
        }
        index
    }

    /// The innermost key whose span holds `offset`, else the last key written before it.
    pub(crate) fn path_at(&self, offset: usize) -> KeyPath {
        let holding = self
            .0
            .iter()
            .filter(|(_, span, _)| span.contains(&offset))
            // The root table's span can equal its first key's: the deeper path wins a tie.
            .min_by_key(|(path, span, _)| (span.len(), std::cmp::Reverse(path.0.len())));
        let before = || {
            self.0
                .iter()
                .filter(|(_, span, _)| span.start <= offset)
                .max_by_key(|(_, span, _)| span.start)
        };
        holding
            .or_else(before)
            .map(|(path, _, _)| path.clone())
            .unwrap_or_default()
    }

    /// Where `path` is written; for a key that is not written, where its nearest written parent is (the
    /// document root has no location).
    pub(crate) fn span_of(&self, path: &KeyPath) -> Option<Range<usize>> {
        let mut path = Some(path.clone());
        while let Some(p) = path.filter(|p| !p.0.is_empty()) {
            if let Some(span) = self.exact(&p) {
                return Some(span);
            }
            path = p.parent();
        }
        None
    }

    /// Where exactly `path` is written, if it is.
    pub(crate) fn exact(&self, path: &KeyPath) -> Option<Range<usize>> {
        self.0
            .iter()
            .find(|(q, _, _)| q == path)
            .map(|(_, span, _)| span.clone())
    }

    /// The key written over exactly `span`, a table if there is one (the root's span may equal its only key's).
    pub(crate) fn table_spanning(&self, span: &Range<usize>) -> Option<KeyPath> {
        self.0
            .iter()
            .filter(|(_, s, _)| s == span)
            .max_by_key(|(_, _, table)| *table)
            .map(|(path, _, _)| path.clone())
    }

    /// Whether some key (not the root) is written over all of `span`.
    pub(crate) fn holds(&self, span: &Range<usize>) -> bool {
        self.0
            .iter()
            .any(|(q, s, _)| !q.is_root() && s.start <= span.start && span.end <= s.end)
    }

    /// Whether `path` is written as a table (a `[header]` or `[[header]]`) rather than as a value.
    pub(crate) fn is_table(&self, path: &KeyPath) -> bool {
        self.0.iter().any(|(q, _, table)| *table && q == path)
    }

    /// The key named `name` that serde found unknown, among the keys of that name written at `path` or inside
    /// `span` below `path`'s parent. Inside a tagged enum serde's span covers the whole array of tables, so
    /// several keys may share the name (a valid `seed` in one step's image, a stray one in another step): the
    /// one whose neighbours best fit `expected` — the fields serde's message says that table takes — wins, then
    /// the shallower, then the first written.
    pub(crate) fn unknown_key(
        &self,
        path: &KeyPath,
        name: &str,
        span: &Range<usize>,
        expected: &[String],
    ) -> Option<KeyPath> {
        let scope = path.parent().unwrap_or_default();
        let direct = path.key(name);
        let candidates = self.0.iter().filter(|(q, s, _)| {
            matches!(q.0.last(), Some(Segment::Key(k)) if k == name)
                && (*q == direct
                    || q.0.starts_with(&scope.0) && span.start <= s.start && s.end <= span.end)
        });
        let fit = |q: &KeyPath| -> i64 {
            let parent = q.parent().unwrap_or_default();
            self.children(&parent)
                .filter(|(sibling, _)| *sibling != q)
                .map(|(sibling, _)| match sibling.0.last() {
                    Some(Segment::Key(k)) if expected.iter().any(|e| e == k) => 1,
                    _ => -1,
                })
                .sum()
        };
        candidates
            .enumerate()
            .max_by_key(|(i, (q, _, _))| {
                (fit(q), std::cmp::Reverse(q.0.len()), std::cmp::Reverse(*i))
            })
            .map(|(_, (q, _, _))| q.clone())
    }

    /// The direct children of `path` written in the file, with their spans.
    pub(crate) fn children<'a>(
        &'a self,
        path: &'a KeyPath,
    ) -> impl Iterator<Item = (&'a KeyPath, &'a Range<usize>)> + 'a {
        self.0
            .iter()
            .filter(move |(q, _, _)| q.parent().as_ref() == Some(path))
            .map(|(q, span, _)| (q, span))
    }

    /// The line-by-line index of a text that does not parse: headers and `key = value` lines, each spanning
    /// to the end of its line.
    fn lines(&mut self, text: &str) {
        let mut table = KeyPath::root();
        let mut arrays: Vec<(KeyPath, usize)> = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let end = start + line.trim_end_matches(['\r', '\n']).len();
            let indent = line.len() - line.trim_start().len();
            let t = line.trim();
            if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split_once("]]")) {
                let array = dotted_key(&KeyPath::root(), name.0);
                let count = match arrays.iter_mut().find(|(p, _)| *p == array) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        arrays.push((array.clone(), 1));
                        0
                    }
                };
                table = array.index(count);
                self.0.push((table.clone(), start + indent..end, true));
            } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split_once(']')) {
                table = dotted_key(&KeyPath::root(), name.0);
                self.0.push((table.clone(), start + indent..end, true));
            } else if let Some((key, _)) = t.split_once('=').filter(|_| !t.starts_with('#')) {
                let span = start + indent..end.max(start + indent);
                self.0.push((dotted_key(&table, key), span, false));
            }
            start += line.len();
        }
    }

    fn push(&mut self, path: &KeyPath, span: Option<Range<usize>>) {
        if let Some(span) = span {
            self.0.push((path.clone(), span, false));
        }
    }

    fn table(&mut self, path: &KeyPath, table: &Table) {
        if let Some(span) = table.span() {
            self.0.push((path.clone(), span, true));
        }
        for (key, item) in table.iter() {
            let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
            self.item(&path.key(key), key_span, item);
        }
    }

    fn item(&mut self, path: &KeyPath, key_span: Option<Range<usize>>, item: &Item) {
        match item {
            Item::Value(value) => {
                let span = match (key_span, value.span()) {
                    (Some(k), Some(v)) => Some(k.start..v.end),
                    (k, v) => v.or(k),
                };
                self.push(path, span);
                self.value(path, value);
            }
            Item::Table(table) => self.table(path, table),
            Item::ArrayOfTables(array) => {
                for (i, table) in array.iter().enumerate() {
                    self.table(&path.index(i), table);
                }
            }
            Item::None => {}
        }
    }

    fn value(&mut self, path: &KeyPath, value: &Value) {
        match value {
            Value::Array(array) => {
                for (i, element) in array.iter().enumerate() {
                    self.push(&path.index(i), element.span());
                    self.value(&path.index(i), element);
                }
            }
            Value::InlineTable(table) => {
                for (key, element) in table.iter() {
                    let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
                    let span = match (key_span, element.span()) {
                        (Some(k), Some(v)) => Some(k.start..v.end),
                        (k, v) => v.or(k),
                    };
                    self.push(&path.key(key), span);
                    self.value(&path.key(key), element);
                }
            }
            _ => {}
        }
    }
}

/// `base` extended by a dotted key as written in a header or before `=` (`a.b`, `"quoted key"`).
fn dotted_key(base: &KeyPath, written: &str) -> KeyPath {
    written
        .split('.')
        .map(|k| k.trim().trim_matches(['"', '\'']))
        .filter(|k| !k.is_empty())
        .fold(base.clone(), |path, k| path.key(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[controller]\nport = \"/dev/x\"\ncmd = { send = \"ON\" }\n\n[[boards]]\nname = \"a\"\n\n[[boards]]\nname = \"b\"\nlist = [1, 2]\n";

    #[test]
    fn maps_offsets_to_paths_and_back() {
        let index = SpanIndex::new(TEXT);
        let at = |needle: &str| index.path_at(TEXT.find(needle).unwrap()).to_string();
        assert_eq!(at("\"b\""), "boards[1].name");
        assert_eq!(at("\"ON\""), "controller.cmd.send");
        assert_eq!(at("2]"), "boards[1].list[1]");
        assert_eq!(at("/dev/x"), "controller.port");
        let line = |p: &KeyPath| {
            let span = index.span_of(p).unwrap();
            TEXT[..span.start].matches('\n').count() + 1
        };
        assert_eq!(
            line(&KeyPath::root().key("boards").index(1).key("name")),
            10
        );
        assert_eq!(line(&KeyPath::root().key("boards").index(0).key("chip")), 6);
        assert_eq!(line(&KeyPath::root().key("controller").key("baud")), 2);
    }

    #[test]
    fn text_that_does_not_parse_is_indexed_by_line() {
        let text = TEXT.replace("name = \"b\"", "name = = \"b\"");
        let index = SpanIndex::new(&text);
        let at = |needle: &str| index.path_at(text.find(needle).unwrap()).to_string();
        assert_eq!(at("= \"b\""), "boards[1].name");
        assert_eq!(at("/dev/x"), "controller.port");
        assert_eq!(at("[1, 2]"), "boards[1].list");
    }

    #[test]
    fn dotted_paths_parse_as_they_display() {
        for text in ["hsi.trim", "boards[2].usb", "steps[0]", "a[1][2].b", "name"] {
            assert_eq!(KeyPath::dotted(text).to_string(), text);
        }
        assert_eq!(
            KeyPath::dotted("boards[2].usb"),
            KeyPath::root().key("boards").index(2).key("usb")
        );
        assert!(KeyPath::dotted("").is_root());
    }
}
