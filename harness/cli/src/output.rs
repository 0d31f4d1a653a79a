//! Output helpers shared by the commands: error chains, hex dumps, the live event printer.

use std::io::Write;

pub use dfuse::error_chain;
use dfuse::{render_event, Event, Observer};

/// A classic hex dump: address, 16 bytes split 8+8.
pub fn hex_dump(out: &mut dyn Write, address: u32, data: &[u8]) -> std::io::Result<()> {
    for (i, row) in data.chunks(16).enumerate() {
        let bytes: Vec<String> = row.iter().map(|b| format!("{b:02X}")).collect();
        let (left, right) = bytes.split_at(bytes.len().min(8));
        writeln!(
            out,
            "{:08X}  {}  {}",
            address as usize + 16 * i,
            left.join(" "),
            right.join(" ")
        )?;
    }
    Ok(())
}

/// Prints every DFU request and reply to stderr as it happens (`--verbose`).
pub struct LivePrinter {
    pub enabled: bool,
}

impl Observer for LivePrinter {
    fn event(&mut self, e: &Event) {
        if self.enabled && !matches!(e, Event::Sleep { .. }) {
            eprintln!("  {}", render_event(e, true));
        }
    }
}
