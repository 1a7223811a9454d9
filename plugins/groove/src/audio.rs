//! What `process()` does, step by step, on the audio thread: the variation button, requests to
//! the worker and what comes back, the host clock, note-offs due, rendering the block (hits as
//! MIDI notes and as audio per lane group), events in time order to the host, and the outputs.
//! Nothing here allocates, locks or waits (except [`LatentGroove::wait_for_worker`], offline).

use std::sync::atomic::Ordering;
use std::time::Duration;

use latentforge::drums::{BlockStart, Outputs};
use latentforge::groove::schedule::Block;
use latentforge::groove::{GM_NOTES, LANE_GROUPS};
use latentforge::presets::GrooveSettings;
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

use crate::snapshot::GridSnapshot;
use crate::worker::{Request, DRUMS_OK, GROOVE_OK, LOADED};
use crate::LatentGroove;

/// Longest block we prepare buffers for when the host does not say.
pub const MAX_EVENTS: usize = 512;
/// MIDI notes last a 32nd note.
const NOTE_BEATS: f64 = 0.125;
const BEATS_PER_BAR: f64 = 4.0;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BlockEvent {
    timing: u32,
    on: bool,
    key: u8,
    velocity: f32,
}

impl LatentGroove {
    pub(crate) fn effective_settings(&self, block: u32) -> GrooveSettings {
        let knobs = self.params.settings(self.params.variation.load(Ordering::Relaxed), block);
        match self.params.preset.value() {
            0 => knobs,
            i => match self.presets.get(i as usize - 1) {
                Some(p) => knobs.relative_to(&p.settings),
                None => knobs,
            },
        }
    }

    /// Sends what changed to the worker. A full queue is retried next block.
    pub(crate) fn request_changes(&mut self, settings: &GrooveSettings) {
        let Some(worker) = self.worker.as_mut() else { return };
        let pk = settings.groove_knobs();
        if self.params.follow.value() {
            // Follow plays variations of the input; the knobs' groove is asked for again when
            // it is turned off.
            self.sent_pattern = None;
        } else if self.sent_pattern != Some(pk)
            && worker.requests.push(Request::Pattern(pk, self.params.knobs())).is_ok()
        {
            self.sent_pattern = Some(pk);
            self.awaiting_pattern = true;
        }
        let kk = settings.kit_knobs();
        if self.sent_kit != Some(kk) && worker.requests.push(Request::Kit(kk, self.sample_rate as u32)).is_ok() {
            self.sent_kit = Some(kk);
            self.awaiting_kit = true;
        }
    }

    pub(crate) fn receive(&mut self, now_beat: f64) {
        let Some(worker) = self.worker.as_mut() else { return };
        if let Some(old) = self.kit_to_free.take() {
            if let Err(rtrb::PushError::Full(old)) = worker.garbage.push(old) {
                self.kit_to_free = Some(old);
            }
        }
        while let Ok(kit) = worker.kits.pop() {
            self.awaiting_kit = false;
            if let Some(old) = self.kit.replace(kit) {
                if let Err(rtrb::PushError::Full(old)) = worker.garbage.push(old) {
                    // Keep at most one; a second would have to be freed here. Keep the newest kit
                    // playing and park the old one; the queue drains within milliseconds.
                    if self.kit_to_free.is_none() {
                        self.kit_to_free = Some(old);
                    } else {
                        std::mem::forget(old);
                    }
                }
            }
        }
        let mut newest = None;
        while let Ok(p) = worker.patterns.pop() {
            newest = Some(p);
            self.awaiting_pattern = false;
        }
        if let Some(mut p) = newest {
            // Locked lanes keep what the playing pattern plays.
            let locks = self.params.locks();
            for (group, locked) in LANE_GROUPS.iter().zip(locks) {
                if locked {
                    p.keep_lanes(self.patterns.current(), group);
                }
            }
            self.patterns.offer(p, now_beat);
        }
    }

    /// Offline rendering (bounce, export) runs faster than real time, so it waits for the worker
    /// instead of rendering bars before their pattern or kit exist. Never in real-time modes.
    pub(crate) fn wait_for_worker(&mut self) {
        let Some(worker) = self.worker.as_ref() else { return };
        let status = worker.status.clone();
        for _ in 0..10_000 {
            let s = status.load(Ordering::Acquire);
            let pattern_due = self.awaiting_pattern && s & GROOVE_OK != 0;
            let kit_due = self.awaiting_kit && s & DRUMS_OK != 0;
            if s & LOADED != 0 && !pattern_due && !kit_due {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
            let Some(worker) = self.worker.as_mut() else { return };
            if !worker.patterns.is_empty() || !worker.kits.is_empty() {
                return;
            }
        }
    }

    /// "New variation" acts on its rising edge, like a button.
    pub(crate) fn press_variation_button(&mut self) {
        let button = self.params.new_variation.value();
        if button && !self.variation_button {
            let v = self.params.variation.load(Ordering::Relaxed).wrapping_add(1);
            self.params.variation.store(v, Ordering::Relaxed);
        }
        self.variation_button = button;
    }

    /// The block's place on the host's timeline; a jump (loop, locate) lets a waiting pattern
    /// start now.
    pub(crate) fn advance_clock(&mut self, transport: &Transport, samples: usize) -> Block {
        self.transport_playing = transport.playing;
        let host_beat = if transport.playing { transport.pos_beats() } else { None };
        let block = self.clock.next_block(transport.tempo, host_beat, samples, self.sample_rate as f64);
        if block.jumped {
            self.patterns.jump();
        }
        block
    }

    /// Keeps the drum notes played into the plugin this block, by beat, for Follow.
    pub(crate) fn take_input(&mut self, context: &mut impl ProcessContext<Self>, block: &Block) {
        if block.jumped {
            self.recorder.clear();
        }
        while let Some(event) = context.next_event() {
            if let NoteEvent::NoteOn { timing, key: Key::Number(key), velocity, .. } = event {
                self.recorder.note_on(block.start_beat + timing as f64 * block.beats_per_sample, key, velocity);
            }
        }
    }

    /// With Follow on, at each bar line: the 2 bars played before it go to the worker, unless
    /// they (and the seed, variation and spread) are what was last sent.
    pub(crate) fn request_follow(&mut self, block: &Block) {
        if !self.params.follow.value() {
            self.sent_follow = None;
            return;
        }
        let bar = (block.end_beat / BEATS_PER_BAR).floor() as i64;
        if (block.start_beat / BEATS_PER_BAR).floor() as i64 == bar && self.sent_follow.is_some() {
            return;
        }
        let Some(clip) = self.recorder.clip_before(bar) else { return };
        let seed = self.params.seed.value() as u32;
        let take = self.params.variation.load(Ordering::Relaxed);
        let spread = self.params.follow_spread.value();
        let request = (clip, seed, take, spread);
        if self.sent_follow == Some(request) {
            return;
        }
        let Some(worker) = self.worker.as_mut() else { return };
        if worker.requests.push(Request::Follow { clip, seed, take, spread }).is_ok() {
            self.sent_follow = Some(request);
            self.awaiting_pattern = true;
        }
    }

    /// What plays this block: the takes (playing and waiting) under the editor's edit layer,
    /// read from its triple buffer (the newest the editor published).
    pub(crate) fn apply_edits(&mut self) {
        let layer = self.edits.read();
        self.played = layer.apply(self.patterns.current());
        self.played_waiting = self.patterns.pending().map(|(p, bar)| (layer.apply(p), bar));
    }

    /// Tells the editor what played: the takes, the playhead and the worker's status.
    pub(crate) fn publish(&mut self, block: &Block, settings: &GrooveSettings) {
        self.blocks += 1;
        let status = self.worker.as_ref().map_or(0, |w| w.status.load(Ordering::Relaxed));
        let snapshot = GridSnapshot {
            take: *self.patterns.current(),
            waiting: self.patterns.pending().map(|(p, bar)| (*p, bar)),
            beat: block.end_beat,
            playing: self.transport_playing,
            status,
            following: self.params.follow.value() && self.sent_follow.is_some(),
            blocks: self.blocks,
            settings: *settings,
            tempo: block.tempo,
        };
        self.grid.write(snapshot);
    }

    /// Note-offs that fall in this block (all of them after a jump, so no note hangs). Returns
    /// the number of events queued.
    pub(crate) fn release_due_notes(&mut self, block: &Block, samples: usize) -> usize {
        let mut count = 0;
        for off in self.note_offs.iter_mut() {
            if let Some((key, beat)) = *off {
                if beat < block.end_beat || block.jumped {
                    let timing = (((beat - block.start_beat) / block.beats_per_sample).max(0.0) as u32)
                        .min(samples.saturating_sub(1) as u32);
                    push_event(&mut self.events, &mut count, BlockEvent { timing, on: false, key, velocity: 0.0 });
                    *off = None;
                }
            }
        }
        count
    }

    /// Plays the block: the mix and each lane group into the mono buffers, and a note-on (with
    /// its note-off due later) per hit. Returns the number of events queued.
    pub(crate) fn render(
        &mut self,
        block: &Block,
        settings: &GrooveSettings,
        samples: usize,
        mut count: usize,
    ) -> usize {
        let feel = settings.feel();
        let len = samples.min(self.mono.len());
        let mono = &mut self.mono[..len];
        mono.fill(0.0);
        let mut groups = self.group_mono.each_mut().map(|g| {
            let g = &mut g[..len];
            g.fill(0.0);
            g
        });
        let (played, waiting) = (&self.played, &self.played_waiting);
        let events = &mut self.events;
        let note_offs = &mut self.note_offs;
        let pattern_for_bar = |bar: i64| match waiting {
            Some((p, from)) if bar >= *from => p,
            _ => played,
        };
        self.player.sampler.set_mix(self.params.mix());
        self.player.render_block(
            BlockStart { beat: block.start_beat, bpm: block.tempo },
            &feel,
            pattern_for_bar,
            self.kit.as_deref(),
            Outputs { mix: mono, groups: Some(&mut groups) },
            |hit, offset| {
                let key = GM_NOTES[hit.lane];
                push_event(
                    events,
                    &mut count,
                    BlockEvent { timing: offset as u32, on: true, key, velocity: hit.velocity },
                );
                if let Some(slot) = note_offs.iter_mut().find(|s| s.is_none()) {
                    *slot = Some((key, hit.beat + NOTE_BEATS));
                }
            },
        );
        count
    }

    /// Sends the queued events to the host in time order, offs first at equal times
    /// (insertion sort: no allocation).
    pub(crate) fn send_events(&mut self, count: usize, context: &mut impl ProcessContext<Self>) {
        let events = &mut self.events[..count];
        for i in 1..events.len() {
            let mut j = i;
            while j > 0 && (events[j - 1].timing, events[j - 1].on) > (events[j].timing, events[j].on) {
                events.swap(j - 1, j);
                j -= 1;
            }
        }
        for e in events.iter() {
            let (voice_id, channel, key) = (VoiceID::Wildcard, Channel::Number(9), Key::Number(e.key));
            let event = if e.on {
                NoteEvent::NoteOn { timing: e.timing, voice_id, channel, key, velocity: e.velocity }
            } else {
                NoteEvent::NoteOff { timing: e.timing, voice_id, channel, key, velocity: 0.0 }
            };
            let _ = context.try_send_event(event);
        }
    }

    /// The mix to the main output and each lane group to its own, times the output gain.
    pub(crate) fn write_outputs(&mut self, buffer: &mut Buffer, aux: &mut AuxiliaryBuffers, samples: usize) {
        let len = samples.min(self.mono.len());
        let gains = &mut self.gains[..len];
        gains.iter_mut().for_each(|g| *g = self.params.gain.smoothed.next());
        write_output(buffer, &self.mono[..len], gains);
        for (out, group) in aux.outputs.iter_mut().zip(&self.group_mono) {
            write_output(out, &group[..len], gains);
        }
    }
}

fn push_event(events: &mut [BlockEvent; MAX_EVENTS], count: &mut usize, e: BlockEvent) {
    if *count < MAX_EVENTS {
        events[*count] = e;
        *count += 1;
    }
}

/// Writes a mono signal times the output gain to every channel of `buffer`: finite, bounded,
/// and no denormals reach the host. Samples past `mono` (a host block longer than announced)
/// are silent.
fn write_output(buffer: &mut Buffer, mono: &[f32], gains: &[f32]) {
    for (i, mut frame) in buffer.iter_samples().enumerate() {
        let s = mono.get(i).zip(gains.get(i)).map_or(0.0, |(s, g)| s * g);
        let s = if s.is_finite() && s.abs() > 1e-30 { s.clamp(-4.0, 4.0) } else { 0.0 };
        for out in frame.iter_mut() {
            *out = s;
        }
    }
}
