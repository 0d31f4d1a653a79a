//! What a run ran, for the page's environment block: the scenario's steps and the rig's board files, read
//! leniently from the copies of the scenario and rig files the run folder keeps. A copy that is missing or
//! does not parse gives nothing (the report is about the records; these only describe them).

use std::collections::BTreeMap;
use std::path::Path;

use records::{RIG_COPY, SCENARIO_COPY};
use toml::Value;

fn read(dir: &Path, name: &str) -> Option<toml::Table> {
    std::fs::read_to_string(dir.join(name)).ok()?.parse().ok()
}

/// A TOML value as it reads in the file, without the quotes of a string.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One step as "kind (key = value, ...)".
fn step(t: &toml::Table) -> String {
    let kind = t.get("kind").map(text).unwrap_or_else(|| "?".into());
    let args: Vec<String> = (t.iter())
        .filter(|(k, _)| k.as_str() != "kind")
        .map(|(k, v)| format!("{k} = {}", text(v)))
        .collect();
    match args.as_slice() {
        [] => kind,
        _ => format!("{kind} ({})", args.join(", ")),
    }
}

/// The steps of the run folder's scenario copy, in order.
pub fn scenario_steps(dir: &Path) -> Vec<String> {
    let Some(doc) = read(dir, SCENARIO_COPY) else {
        return Vec::new();
    };
    let steps = doc.get("steps").and_then(Value::as_array);
    (steps.into_iter().flatten())
        .filter_map(Value::as_table)
        .map(step)
        .collect()
}

/// Board name -> board file, from the run folder's rig copy.
pub fn board_files(dir: &Path) -> BTreeMap<String, String> {
    let Some(doc) = read(dir, RIG_COPY) else {
        return BTreeMap::new();
    };
    let boards = doc.get("boards").and_then(Value::as_array);
    (boards.into_iter().flatten())
        .filter_map(Value::as_table)
        .filter_map(|b| {
            let name = b.get("name")?.as_str()?;
            let file = b.get("board_file").map(text).unwrap_or_default();
            Some((name.to_string(), file))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_board_files_come_from_the_copies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SCENARIO_COPY),
            "name = \"x\"\n[[steps]]\nkind = \"power_cycle\"\noff_ms = 500\n[[steps]]\nkind = \"leave\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(RIG_COPY),
            "[[boards]]\nname = \"b1\"\nboard_file = \"../boards/b1.toml\"\n",
        )
        .unwrap();
        assert_eq!(
            scenario_steps(dir.path()),
            ["power_cycle (off_ms = 500)", "leave"]
        );
        assert_eq!(board_files(dir.path())["b1"], "../boards/b1.toml");
        assert!(scenario_steps(&dir.path().join("none")).is_empty());
    }
}
