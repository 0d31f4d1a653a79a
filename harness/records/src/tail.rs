//! The torn last line: a run killed inside a row leaves a partial line at the end of a CSV file. Readers
//! stop before it and the writer cuts it off before appending; both use [`complete_len`], the one place that
//! decides where the complete rows end. The recorder writes every row on one line (line breaks in details
//! become spaces), so the last newline is a row boundary.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// How far back to look at a time for the last newline.
const CHUNK: u64 = 64 * 1024;

/// The length of `file`'s complete lines: up to and including its last newline (0 when there is none).
/// Leaves the file position unspecified.
pub fn complete_len(file: &mut File) -> io::Result<u64> {
    let mut end = file.metadata()?.len();
    let mut buf = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn len_of(bytes: &[u8]) -> u64 {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        complete_len(&mut f).unwrap()
    }

    #[test]
    fn stops_after_the_last_newline() {
        assert_eq!(len_of(b""), 0);
        assert_eq!(len_of(b"no newline"), 0);
        assert_eq!(len_of(b"a\nb\n"), 4);
        assert_eq!(len_of(b"a\nb\ntorn"), 4);
    }

    #[test]
    fn finds_a_newline_further_back_than_one_chunk() {
        let mut bytes = b"header\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 3 * CHUNK as usize));
        assert_eq!(len_of(&bytes), 7);
    }
}
