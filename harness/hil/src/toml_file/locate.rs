//! Key paths and where they are written: a flat index of every key, table header and array element in a TOML
//! text with its byte span (from toml_edit's spans), so a byte offset maps to a dotted key and back.

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

/// Every located key of one document.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex(Vec<(KeyPath, Range<usize>)>);

impl SpanIndex {
    /// Indexes `text`; a text toml_edit cannot parse gives an empty index (serde reports that error anyway).
    pub(crate) fn new(text: &str) -> SpanIndex {
        let mut index = SpanIndex::default();
        if let Ok(doc) = ImDocument::parse(text.to_string()) {
            index.table(&KeyPath::root(), doc.as_table());
        }
        index
    }

    /// The innermost key whose span holds `offset`, else the last key written before it.
    pub(crate) fn path_at(&self, offset: usize) -> KeyPath {
        let holding = self
            .0
            .iter()
            .filter(|(_, span)| span.contains(&offset))
            .min_by_key(|(_, span)| span.len());
        let before = || {
            self.0
                .iter()
                .filter(|(_, span)| span.start <= offset)
                .max_by_key(|(_, span)| span.start)
        };
        holding
            .or_else(before)
            .map(|(path, _)| path.clone())
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
            .find(|(q, _)| q == path)
            .map(|(_, span)| span.clone())
    }

    /// The direct children of `path` written in the file, with their spans.
    pub(crate) fn children<'a>(
        &'a self,
        path: &'a KeyPath,
    ) -> impl Iterator<Item = (&'a KeyPath, &'a Range<usize>)> + 'a {
        self.0
            .iter()
            .filter(move |(q, _)| q.parent().as_ref() == Some(path))
            .map(|(q, span)| (q, span))
    }

    fn push(&mut self, path: &KeyPath, span: Option<Range<usize>>) {
        if let Some(span) = span {
            self.0.push((path.clone(), span));
        }
    }

    fn table(&mut self, path: &KeyPath, table: &Table) {
        self.push(path, table.span());
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
}
