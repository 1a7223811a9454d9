//! What the editor draws, published by the audio thread at the end of every block through a
//! triple buffer: the take playing, the one waiting for its bar line, where the playhead is and
//! the worker's status. Plain `Copy` data: writing it copies a few KB and never allocates,
//! locks or waits; the editor reads the newest one whenever it repaints.

use latentforge::groove::Pattern;
use latentforge::presets::GrooveSettings;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSnapshot {
    /// The take playing now, before the edit layer.
    pub take: Pattern,
    /// The take waiting for its bar line, and that bar.
    pub waiting: Option<(Pattern, i64)>,
    /// The playhead, in beats (quarter notes) since the host's beat 0.
    pub beat: f64,
    /// The host transport is playing (else the plugin free-runs).
    pub playing: bool,
    /// The worker's model status bits ([`crate::worker::LOADED`] and friends).
    pub status: u8,
    /// Follow is on and its variation is what plays.
    pub following: bool,
    /// Blocks processed since activation.
    pub blocks: u64,
    /// The knobs as they act (a preset applied) and the tempo, in BPM: what an export writes.
    pub settings: GrooveSettings,
    pub tempo: f64,
}

impl Default for GridSnapshot {
    fn default() -> Self {
        GridSnapshot {
            take: Pattern::default(),
            waiting: None,
            beat: 0.0,
            playing: false,
            status: 0,
            following: false,
            blocks: 0,
            settings: GrooveSettings::default(),
            tempo: 120.0,
        }
    }
}
