//! The boards of live connections, by connection number, so that a second device served beside a board — its
//! CMSIS-DAP probe (`crate::probe`) — acts on that same board: one board, one clock, whichever socket the
//! request came in on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use dfuse::SystemClock;
use vboard::Board;

/// A connection's board and the real clock its time runs on.
#[derive(Debug)]
pub struct SharedBoard {
    pub board: Mutex<Board>,
    pub clock: SystemClock,
}

impl SharedBoard {
    /// The board; a panic on another connection's thread does not take this one down.
    pub fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The live boards by connection number (held weakly: a board goes when its connection does).
#[derive(Debug, Clone, Default)]
pub struct Boards(Arc<Mutex<BTreeMap<u64, Weak<SharedBoard>>>>);

impl Boards {
    pub fn register(&self, connection: u64, board: &Arc<SharedBoard>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, b| b.strong_count() > 0);
        map.insert(connection, Arc::downgrade(board));
    }

    /// Connection `connection`'s board, while that connection lives.
    pub fn get(&self, connection: u64) -> Option<Arc<SharedBoard>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&connection).and_then(Weak::upgrade)
    }
}
