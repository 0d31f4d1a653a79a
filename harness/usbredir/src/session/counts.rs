//! What a connection did, counted: control transfers by outcome and plug events.

/// What one connection did: the control transfers it served, by outcome, and the plug events it sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionCounts {
    pub control_transfers: u64,
    pub stalls: u64,
    pub timeouts: u64,
    pub io_errors: u64,
    pub connects: u64,
    pub disconnects: u64,
    /// cancel_data_packet for ids already answered or unknown: nothing to cancel, no reply.
    pub cancels_ignored: u64,
    /// Packets of types we do not serve (iso, interrupt, bulk), skipped.
    pub unserved: u64,
    /// Commands carried out for the rig (`hil vboard serve --rig`).
    pub rig_commands: u64,
}

impl ConnectionCounts {
    pub fn add(&mut self, o: &ConnectionCounts) {
        self.control_transfers += o.control_transfers;
        self.stalls += o.stalls;
        self.timeouts += o.timeouts;
        self.io_errors += o.io_errors;
        self.connects += o.connects;
        self.disconnects += o.disconnects;
        self.cancels_ignored += o.cancels_ignored;
        self.unserved += o.unserved;
        self.rig_commands += o.rig_commands;
    }
}

impl std::fmt::Display for ConnectionCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} control transfers ({} stalled, {} timed out, {} I/O errors), {} device connects, \
             {} disconnects",
            self.control_transfers,
            self.stalls,
            self.timeouts,
            self.io_errors,
            self.connects,
            self.disconnects
        )
    }
}
