//! Latent Groove: drum MIDI and drum audio from latent knobs, in time with the host.
//!
//! Threads: the host's audio thread runs `process()`; one worker thread per instance loads ONNX
//! Runtime and the models and runs every inference. They talk only through lock-free SPSC queues
//! of plain values (requests in, patterns and boxed kits out, old kits back to be freed),
//! so `process()` never allocates, locks or waits. Patterns switch at bar boundaries.
//!
//! One file per part: [`params`] (what the host sees), [`worker`] (models and inference off the
//! audio thread), [`audio`] (the steps of `process()`), [`state`] (checking a saved state).

use std::num::NonZeroU32;
use std::sync::Arc;

use latentforge::drums::{Kit, KitKnobs, Player};
use latentforge::groove::schedule::{Clock, PatternSchedule};
use latentforge::groove::{GrooveKnobs, GROUPS, GROUP_NAMES};
use latentforge::presets::{self, GroovePreset};
use nice_plug::prelude::*;

mod audio;
pub mod editor;
mod edits;
mod export;
mod follow;
mod history;
mod params;
mod snapshot;
mod state;
mod worker;

use audio::{BlockEvent, MAX_EVENTS};
use edits::EditLayer;
use follow::{Clip, Recorder};
use latentforge::groove::Pattern;
pub use params::GrooveParams;
use params::PRESET_SLOTS;
use snapshot::GridSnapshot;
pub use state::{SavedState, STATE_VERSION};
pub use worker::resources_dir;
use worker::{spawn_worker, WorkerLink};

pub struct LatentGroove {
    params: Arc<GrooveParams>,
    presets: Arc<Vec<GroovePreset>>,
    worker: Option<WorkerLink>,
    sample_rate: f32,
    player: Player,
    /// The block's full mix and each lane group's share of it (mono), and the output gain per
    /// sample: preallocated in `activate()`.
    mono: Vec<f32>,
    group_mono: [Vec<f32>; GROUPS],
    gains: Vec<f32>,
    clock: Clock,
    patterns: PatternSchedule,
    kit: Option<Box<Kit>>,
    /// A kit that could not be handed back yet (garbage queue full); retried next block.
    kit_to_free: Option<Box<Kit>>,
    sent_pattern: Option<GrooveKnobs>,
    sent_kit: Option<KitKnobs>,
    /// Requests sent whose answer has not arrived yet.
    awaiting_pattern: bool,
    awaiting_kit: bool,
    process_mode: ProcessMode,
    variation_button: bool,
    note_offs: [Option<(u8, f64)>; 64],
    events: [BlockEvent; MAX_EVENTS],
    /// Drum notes played into the plugin, for Follow.
    recorder: Recorder,
    /// The last Follow request sent (clip, seed, take, spread), so an unchanged one is not resent.
    sent_follow: Option<(Clip, u32, u32, f32)>,
    /// The editor's edit layer, newest first (see [`edits`]).
    edits: triple_buffer::Output<EditLayer>,
    /// What plays: the playing and the waiting take under the edit layer.
    played: Pattern,
    played_waiting: Option<(Pattern, i64)>,
    /// What the editor draws, published every block; the reading end goes to the editor.
    grid: triple_buffer::Input<GridSnapshot>,
    grid_reader: Option<triple_buffer::Output<GridSnapshot>>,
    blocks: u64,
    transport_playing: bool,
}

impl Default for LatentGroove {
    fn default() -> Self {
        let mut presets = Vec::new();
        if let Some(dir) = resources_dir().map(|d| d.join("presets")) {
            let (ok, bad) = presets::load_dir::<GroovePreset>(&dir);
            for e in bad {
                nice_warn!("Latent Groove: skipping preset: {}", latentforge::error_chain(&e));
            }
            presets = ok;
        }
        presets.truncate(PRESET_SLOTS as usize);
        let names = Arc::new(presets.iter().map(|p| p.name.clone()).collect());
        let params = Arc::new(GrooveParams::new(names));
        let edits =
            params.edits_reader.lock().ok().and_then(|mut r| r.take()).expect("a new GrooveParams has its reader");
        let (grid, grid_reader) = triple_buffer::triple_buffer(&GridSnapshot::default());
        LatentGroove {
            params,
            presets: Arc::new(presets),
            worker: None,
            sample_rate: 48_000.0,
            player: Player::new(48_000.0),
            mono: Vec::new(),
            group_mono: Default::default(),
            gains: Vec::new(),
            clock: Clock::default(),
            patterns: PatternSchedule::default(),
            kit: None,
            kit_to_free: None,
            sent_pattern: None,
            sent_kit: None,
            awaiting_pattern: false,
            awaiting_kit: false,
            process_mode: ProcessMode::Realtime,
            variation_button: false,
            note_offs: [None; 64],
            events: [BlockEvent::default(); MAX_EVENTS],
            recorder: Recorder::default(),
            sent_follow: None,
            edits,
            played: Pattern::default(),
            played_waiting: None,
            grid,
            grid_reader: Some(grid_reader),
            blocks: 0,
            transport_playing: false,
        }
    }
}

impl Plugin for LatentGroove {
    const NAME: &'static str = "Latent Groove";
    const VENDOR: &'static str = "Latentforge";
    const URL: &'static str = "https://example.invalid/latentforge";
    const EMAIL: &'static str = "latentforge@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        // One stereo output per lane group beside the full mix, for mixing in the host.
        aux_output_ports: &[new_nonzero_u32(2); GROUPS],
        names: PortNames { aux_outputs: &GROUP_NAMES, ..PortNames::const_default() },
        ..AudioIOLayout::const_default()
    }];
    const MIDI_INPUT: MidiConfig = MidiConfig::Basic;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = editor::Editor;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(self.params.clone(), self.grid_reader.take()?)
    }

    fn filter_state(state: &mut PluginState) {
        if let Some(problems) = state::sanitize(state) {
            nice_warn!("Latent Groove: the saved state had {problems}");
        }
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.sample_rate = config.sample_rate;
        self.process_mode = config.process_mode;
        self.player = Player::new(config.sample_rate);
        let max = config.max_buffer_size as usize;
        self.mono = vec![0.0; max];
        self.group_mono = std::array::from_fn(|_| vec![0.0; max]);
        self.gains = vec![0.0; max];
        if self.worker.is_none() {
            self.worker = Some(spawn_worker(self.params.clone()));
        }
        // A kit for another sample rate must be regenerated.
        self.sent_kit = None;
        // The plugin only generates: nothing is delayed.
        context.set_latency_samples(0);
        true
    }

    fn reset(&mut self) {
        self.player.sampler.reset();
        self.note_offs = [None; 64];
        self.clock.reset();
    }

    fn deactivate(&mut self) {
        // Stopping the worker joins a thread: fine here, never on the audio thread.
        self.worker = None;
        self.sent_pattern = None;
        self.sent_kit = None;
        self.sent_follow = None;
        self.awaiting_pattern = false;
        self.awaiting_kit = false;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let samples = buffer.samples();
        self.press_variation_button();
        let settings = self.effective_settings(samples as u32);
        self.request_changes(&settings);
        if self.process_mode == ProcessMode::Offline {
            self.wait_for_worker();
        }
        let block = self.advance_clock(context.transport(), samples);
        self.take_input(context, &block);
        self.request_follow(&block);
        self.receive(block.start_beat);
        self.apply_edits();
        let count = self.release_due_notes(&block, samples);
        let count = self.render(&block, &settings, samples, count);
        self.send_events(count, context);
        self.patterns.finish_block(block.end_beat);
        self.write_outputs(buffer, aux, samples);
        self.publish(&block, &settings);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for LatentGroove {
    const CLAP_ID: &'static str = "org.latentforge.latent-groove";
    const CLAP_DESCRIPTION: Option<&'static str> = Some("Drum MIDI and drum audio from latent knobs");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::Instrument, ClapFeature::DrumMachine, ClapFeature::Stereo];
}

impl Vst3Plugin for LatentGroove {
    const VST3_CLASS_ID: [u8; 16] = *b"LatentfrgGroove1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Instrument, Vst3SubCategory::Drum];
}

nice_export_clap!(LatentGroove);
nice_export_vst3!(LatentGroove);
