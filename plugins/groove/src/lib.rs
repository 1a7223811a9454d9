//! Latent Groove: drum MIDI and drum audio from latent knobs, in time with the host.
//!
//! Threads: the host's audio thread runs `process()`; one worker thread per instance loads ONNX
//! Runtime and the models and runs every inference. They talk only through lock-free SPSC queues
//! of plain values ([`Request`] in, [`Pattern`] and boxed [`Kit`]s out, old kits back to be freed),
//! so `process()` never allocates, locks or waits. Patterns switch at bar boundaries.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use latentforge::drums::{BlockStart, DrumModel, Kit, KitKnobs, Mix, Outputs, Player};
use latentforge::groove::schedule::{Block, Clock, PatternSchedule};
use latentforge::groove::{
    GrooveKnobs, GrooveModel, GrooveUse, Pattern, GM_NOTES, GROUPS, GROUP_NAMES, LANES, LANE_GROUPS, LANE_NAMES, MACROS,
};
use latentforge::infer::{Device, ModelStore, Runtime, RuntimeOptions, LIBRARY_FILE};
use latentforge::presets::{self, GroovePreset, GrooveSettings, MAX_SEED};
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

mod state;
pub use state::{SavedState, STATE_VERSION};

/// Preset slots the `preset` parameter offers (0 = none).
const PRESET_SLOTS: i32 = 32;
/// Longest block we prepare buffers for when the host does not say.
const MAX_EVENTS: usize = 512;
/// MIDI notes last a 32nd note.
const NOTE_BEATS: f64 = 0.125;

#[derive(Params)]
pub struct GrooveParams {
    #[nested(array, group = "Latent")]
    pub macros: [MacroParam; MACROS],
    #[id = "seed"]
    pub seed: IntParam,
    #[id = "new_variation"]
    pub new_variation: BoolParam,
    #[id = "temperature"]
    pub temperature: FloatParam,
    #[id = "density"]
    pub density: FloatParam,
    #[id = "humanize_timing"]
    pub humanize_timing: FloatParam,
    #[id = "humanize_velocity"]
    pub humanize_velocity: FloatParam,
    #[id = "swing"]
    pub swing: FloatParam,
    #[id = "lock_kick"]
    pub lock_kick: BoolParam,
    #[id = "lock_snare"]
    pub lock_snare: BoolParam,
    #[id = "lock_hats"]
    pub lock_hats: BoolParam,
    #[id = "lock_toms"]
    pub lock_toms: BoolParam,
    #[id = "lock_cymbals"]
    pub lock_cymbals: BoolParam,
    #[id = "kit_seed"]
    pub kit_seed: IntParam,
    #[id = "kit_timbre"]
    pub kit_timbre: FloatParam,
    #[nested(array, group = "Mix")]
    pub levels: [LaneLevel; LANES],
    #[id = "decay"]
    pub decay: FloatParam,
    #[id = "gain"]
    pub gain: FloatParam,
    #[id = "preset"]
    pub preset: IntParam,
    /// How many times "new variation" was pressed: with the knobs it selects the groove, so a
    /// project reopens with the same one. Written by the audio thread, lock-free.
    #[persist = "variation"]
    pub variation: Arc<AtomicU32>,
    /// Format version and the latent the worker last decoded (written by the worker only).
    #[persist = "groove-state"]
    pub state: RwLock<SavedState>,
}

#[derive(Params)]
pub struct MacroParam {
    #[id = "macro"]
    pub value: FloatParam,
}

/// One lane's level in the mix, on top of the kit's own balance (the real kits' loudness).
#[derive(Params)]
pub struct LaneLevel {
    #[id = "level"]
    pub value: FloatParam,
}

/// A level knob from -36 to +6 dB, shown and typed in dB.
fn gain_param(name: &str) -> FloatParam {
    FloatParam::new(
        name,
        util::db_to_gain(0.0),
        FloatRange::Skewed {
            min: util::db_to_gain(-36.0),
            max: util::db_to_gain(6.0),
            factor: FloatRange::gain_skew_factor(-36.0, 6.0),
        },
    )
    .with_smoother(SmoothingStyle::Logarithmic(20.0))
    .with_unit(" dB")
    .with_value_to_string(formatters::v2s_f32_gain_to_db(1))
    .with_string_to_value(formatters::s2v_f32_gain_to_db())
}

/// "closed_hat" -> "Closed hat".
fn lane_title(lane: &str) -> String {
    let words = lane.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn unit_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_smoother(SmoothingStyle::Linear(30.0))
        .with_value_to_string(formatters::v2s_f32_percentage(0))
        .with_string_to_value(formatters::s2v_f32_percentage())
        .with_unit("%")
}

impl GrooveParams {
    fn new(preset_names: Arc<Vec<String>>) -> Self {
        let lock = |name: &str| BoolParam::new(name, false);
        GrooveParams {
            macros: std::array::from_fn(|i| MacroParam {
                value: FloatParam::new(format!("Macro {}", i + 1), 0.0, FloatRange::Linear { min: -1.0, max: 1.0 })
                    .with_smoother(SmoothingStyle::Linear(50.0))
                    .with_step_size(0.01),
            }),
            seed: IntParam::new("Seed", 1, IntRange::Linear { min: 0, max: MAX_SEED as i32 }),
            new_variation: BoolParam::new("New variation", false),
            temperature: FloatParam::new("Temperature", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_smoother(SmoothingStyle::Linear(50.0))
                .with_step_size(0.01),
            density: unit_param("Density", 0.5),
            humanize_timing: unit_param("Humanize timing", 1.0),
            humanize_velocity: unit_param("Humanize velocity", 1.0),
            swing: unit_param("Swing", 0.0),
            lock_kick: lock("Lock kick"),
            lock_snare: lock("Lock snare"),
            lock_hats: lock("Lock hats"),
            lock_toms: lock("Lock toms"),
            lock_cymbals: lock("Lock cymbals"),
            kit_seed: IntParam::new("Kit", 1, IntRange::Linear { min: 0, max: MAX_SEED as i32 }),
            kit_timbre: unit_param("Kit timbre", 0.0),
            levels: std::array::from_fn(|l| LaneLevel {
                value: gain_param(&format!("{} level", lane_title(LANE_NAMES[l]))),
            }),
            decay: unit_param("Decay", 1.0),
            gain: gain_param("Output gain"),
            preset: IntParam::new("Preset", 0, IntRange::Linear { min: 0, max: PRESET_SLOTS })
                .with_value_to_string({
                    let names = preset_names.clone();
                    Arc::new(move |v| match v {
                        0 => "None".to_string(),
                        v => names.get(v as usize - 1).cloned().unwrap_or_else(|| format!("{v} (empty)")),
                    })
                })
                // A host shows the name and must accept it typed back (also any case, or the slot number).
                .with_string_to_value(Arc::new(move |text| {
                    let text = text.trim();
                    if text.eq_ignore_ascii_case("none") {
                        return Some(0);
                    }
                    if let Some(i) = preset_names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
                        return Some(i as i32 + 1);
                    }
                    text.trim_end_matches("(empty)").trim().parse().ok()
                })),
            state: RwLock::new(SavedState::default()),
            variation: Arc::new(AtomicU32::new(0)),
        }
    }

    /// The knob values as plain settings. Knobs that act when hits are read out (density, swing,
    /// humanize) are smoothed at block rate over `block` samples; the latent and kit knobs use
    /// their targets, since each new value costs an inference and the worker follows anyway.
    fn settings(&self, variation: u32, block: u32) -> GrooveSettings {
        GrooveSettings {
            seed: self.seed.value().max(0) as u32,
            variation,
            macros: std::array::from_fn(|i| self.macros[i].value.value()),
            temperature: self.temperature.value(),
            density: self.density.smoothed.next_step(block),
            swing: self.swing.smoothed.next_step(block),
            humanize_timing: self.humanize_timing.smoothed.next_step(block),
            humanize_velocity: self.humanize_velocity.smoothed.next_step(block),
            kit_seed: self.kit_seed.value().max(0) as u32,
            kit_timbre: self.kit_timbre.value(),
        }
    }

    /// The mixer knobs, as the sampler takes them.
    fn mix(&self) -> Mix {
        Mix { lane_gain: std::array::from_fn(|l| self.levels[l].value.value()), decay: self.decay.value() }
    }

    fn locks(&self) -> [bool; GROUPS] {
        [
            self.lock_kick.value(),
            self.lock_snare.value(),
            self.lock_hats.value(),
            self.lock_toms.value(),
            self.lock_cymbals.value(),
        ]
    }
}

/// What the audio thread asks the worker for. Plain `Copy` data.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Request {
    Pattern(GrooveKnobs),
    Kit(KitKnobs, u32),
}

/// The audio thread's ends of the queues to and from the worker.
struct WorkerLink {
    requests: rtrb::Producer<Request>,
    patterns: rtrb::Consumer<Pattern>,
    kits: rtrb::Consumer<Box<Kit>>,
    /// Old kits go back to the worker to be freed there, never on the audio thread.
    garbage: rtrb::Producer<Box<Kit>>,
    stop: Arc<AtomicBool>,
    /// [`LOADED`], [`GROOVE_OK`], [`DRUMS_OK`] once the worker has tried to load its models.
    status: Arc<AtomicU8>,
    thread: Option<JoinHandle<()>>,
}

const LOADED: u8 = 1;
const GROOVE_OK: u8 = 2;
const DRUMS_OK: u8 = 4;

impl Drop for WorkerLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where the bundle keeps the models, ONNX Runtime and presets: `Resources/` beside the plugin
/// binary (CLAP folder) or one level up (VST3 `Contents/`), or `LATENT_GROOVE_RESOURCES`.
pub fn resources_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LATENT_GROOVE_RESOURCES") {
        return Some(PathBuf::from(dir));
    }
    let binary = own_binary_path()?;
    let dir = binary.parent()?;
    [dir.join("Resources"), dir.join("../Resources")].into_iter().find(|d| d.is_dir())
}

fn own_binary_path() -> Option<PathBuf> {
    // dladdr on a function of this library gives the path the host loaded it from.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = own_binary_path as *const libc::c_void;
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    let c = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    Some(PathBuf::from(c.to_str().ok()?))
}

/// One ONNX Runtime per process, shared by every instance.
fn runtime(resources: &Path) -> Result<Arc<Runtime>, String> {
    static RUNTIME: OnceLock<Result<Arc<Runtime>, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let library = resources.join("onnxruntime").join(LIBRARY_FILE);
            if !library.is_file() {
                return Err(format!(
                    "ONNX Runtime is missing from the bundle ({}); re-run `cargo xtask bundle`",
                    library.display()
                ));
            }
            Runtime::new(RuntimeOptions { library: Some(library), device: Device::Cpu, intra_threads: Some(1) })
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
}

struct Models {
    groove: Option<GrooveModel>,
    drums: Option<DrumModel>,
}

fn load_models() -> Models {
    let Some(resources) = resources_dir() else {
        nice_warn!("Latent Groove: no Resources folder beside the plugin binary; outputting silence. Re-run `cargo xtask bundle` and copy the whole bundle.");
        return Models { groove: None, drums: None };
    };
    let runtime = match runtime(&resources) {
        Ok(r) => r,
        Err(e) => {
            nice_warn!("Latent Groove: {e}; outputting silence");
            return Models { groove: None, drums: None };
        }
    };
    let store = match ModelStore::locate(Some(&resources.join("models"))) {
        Ok(s) => s,
        Err(e) => {
            nice_warn!("Latent Groove: {e}; outputting silence");
            return Models { groove: None, drums: None };
        }
    };
    let groove = GrooveModel::load(&runtime, &store, GrooveUse::Seeds)
        .map_err(|e| nice_warn!("Latent Groove: groove model unusable, no patterns: {e}"))
        .ok();
    let drums = DrumModel::load(&runtime, &store)
        .map_err(|e| nice_warn!("Latent Groove: drum model unusable, silent kit: {e}"))
        .ok();
    Models { groove, drums }
}

fn spawn_worker(saved: Arc<GrooveParams>) -> WorkerLink {
    let (requests, mut req_rx) = rtrb::RingBuffer::<Request>::new(64);
    let (mut pat_tx, patterns) = rtrb::RingBuffer::<Pattern>::new(8);
    let (mut kit_tx, kits) = rtrb::RingBuffer::<Box<Kit>>::new(4);
    let (garbage, mut garbage_rx) = rtrb::RingBuffer::<Box<Kit>>::new(16);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_worker = stop.clone();
    let status = Arc::new(AtomicU8::new(0));
    let status_worker = status.clone();
    let thread = std::thread::Builder::new()
        .name("latent-groove-worker".into())
        .spawn(move || {
            let models = load_models();
            let ok = LOADED
                | if models.groove.is_some() { GROOVE_OK } else { 0 }
                | if models.drums.is_some() { DRUMS_OK } else { 0 };
            status_worker.store(ok, Ordering::Release);
            while !stop_worker.load(Ordering::Acquire) {
                while garbage_rx.pop().is_ok() {}
                // Only the newest request of each kind matters: knob sweeps coalesce.
                let (mut pattern_req, mut kit_req) = (None, None);
                while let Ok(r) = req_rx.pop() {
                    match r {
                        Request::Pattern(k) => pattern_req = Some(k),
                        Request::Kit(k, rate) => kit_req = Some((k, rate)),
                    }
                }
                if let (Some(knobs), Some(model)) = (pattern_req, models.groove.as_ref()) {
                    let z = knobs.latent(model.spec());
                    match model.decode(std::slice::from_ref(&z), knobs.take()) {
                        Ok(p) => {
                            let _ = pat_tx.push(p[0]);
                            if let Ok(mut s) = saved.state.write() {
                                s.latent = z;
                            }
                        }
                        Err(e) => nice_warn!("Latent Groove: {e}"),
                    }
                }
                if let (Some((knobs, rate)), Some(model)) = (kit_req, models.drums.as_ref()) {
                    match model.kit(&knobs) {
                        Ok(kit) => match kit.resampled(rate) {
                            Ok(kit) => {
                                let _ = kit_tx.push(Box::new(kit));
                            }
                            Err(e) => nice_warn!("Latent Groove: {e}"),
                        },
                        Err(e) => nice_warn!("Latent Groove: {e}"),
                    }
                }
                if pattern_req.is_none() && kit_req.is_none() {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
        .expect("spawning the Latent Groove worker thread");
    WorkerLink { requests, patterns, kits, garbage, stop, status, thread: Some(thread) }
}

#[derive(Debug, Clone, Copy, Default)]
struct BlockEvent {
    timing: u32,
    on: bool,
    key: u8,
    velocity: f32,
}

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
}

impl Default for LatentGroove {
    fn default() -> Self {
        let mut presets = Vec::new();
        if let Some(dir) = resources_dir().map(|d| d.join("presets")) {
            let (ok, bad) = presets::load_dir::<GroovePreset>(&dir);
            for e in bad {
                nice_warn!("Latent Groove: skipping preset: {e}");
            }
            presets = ok;
        }
        presets.truncate(PRESET_SLOTS as usize);
        let names = Arc::new(presets.iter().map(|p| p.name.clone()).collect());
        LatentGroove {
            params: Arc::new(GrooveParams::new(names)),
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
        }
    }
}

impl LatentGroove {
    fn effective_settings(&self, block: u32) -> GrooveSettings {
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
    fn request_changes(&mut self, settings: &GrooveSettings) {
        let Some(worker) = self.worker.as_mut() else { return };
        let pk = settings.groove_knobs();
        if self.sent_pattern != Some(pk) && worker.requests.push(Request::Pattern(pk)).is_ok() {
            self.sent_pattern = Some(pk);
            self.awaiting_pattern = true;
        }
        let kk = settings.kit_knobs();
        if self.sent_kit != Some(kk) && worker.requests.push(Request::Kit(kk, self.sample_rate as u32)).is_ok() {
            self.sent_kit = Some(kk);
            self.awaiting_kit = true;
        }
    }

    fn receive(&mut self, now_beat: f64) {
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
    fn wait_for_worker(&mut self) {
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

    fn push_event(events: &mut [BlockEvent; MAX_EVENTS], count: &mut usize, e: BlockEvent) {
        if *count < MAX_EVENTS {
            events[*count] = e;
            *count += 1;
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
    const MIDI_INPUT: MidiConfig = MidiConfig::None;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
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
        self.awaiting_pattern = false;
        self.awaiting_kit = false;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let n = buffer.samples();
        // "New variation" acts on its rising edge, like a button.
        let button = self.params.new_variation.value();
        if button && !self.variation_button {
            let v = self.params.variation.load(Ordering::Relaxed).wrapping_add(1);
            self.params.variation.store(v, Ordering::Relaxed);
        }
        self.variation_button = button;
        let settings = self.effective_settings(n as u32);
        self.request_changes(&settings);
        if self.process_mode == ProcessMode::Offline {
            self.wait_for_worker();
        }

        let transport = context.transport();
        let host_beat = if transport.playing { transport.pos_beats() } else { None };
        let block = self.clock.next_block(transport.tempo, host_beat, n, self.sample_rate as f64);
        let Block { start_beat, end_beat, beats_per_sample, jumped, .. } = block;
        // A jump (loop, locate) releases hanging notes and lets a waiting pattern start now.
        if jumped {
            self.patterns.jump();
        }
        self.receive(start_beat);

        let mut count = 0;
        for off in self.note_offs.iter_mut() {
            if let Some((key, beat)) = *off {
                if beat < end_beat || jumped {
                    let timing =
                        (((beat - start_beat) / beats_per_sample).max(0.0) as u32).min(n.saturating_sub(1) as u32);
                    Self::push_event(
                        &mut self.events,
                        &mut count,
                        BlockEvent { timing, on: false, key, velocity: 0.0 },
                    );
                    *off = None;
                }
            }
        }

        let feel = settings.feel();
        let len = n.min(self.mono.len());
        let mono = &mut self.mono[..len];
        mono.fill(0.0);
        let mut groups = self.group_mono.each_mut().map(|g| {
            let g = &mut g[..len];
            g.fill(0.0);
            g
        });
        let patterns = &self.patterns;
        let events = &mut self.events;
        let note_offs = &mut self.note_offs;
        let pattern_for_bar = |bar: i64| patterns.pattern_for_bar(bar);
        self.player.sampler.set_mix(self.params.mix());
        self.player.render_block(
            BlockStart { beat: start_beat, bpm: block.tempo },
            &feel,
            pattern_for_bar,
            self.kit.as_deref(),
            Outputs { mix: mono, groups: Some(&mut groups) },
            |hit, offset| {
                let key = GM_NOTES[hit.lane];
                Self::push_event(
                    events,
                    &mut count,
                    BlockEvent { timing: offset as u32, on: true, key, velocity: hit.velocity },
                );
                if let Some(slot) = note_offs.iter_mut().find(|s| s.is_none()) {
                    *slot = Some((key, hit.beat + NOTE_BEATS));
                }
            },
        );

        // Hosts want events in time order; offs first at equal times. Insertion sort: no allocation.
        let events = &mut self.events[..count];
        for i in 1..events.len() {
            let mut j = i;
            while j > 0 && (events[j - 1].timing, events[j - 1].on) > (events[j].timing, events[j].on) {
                events.swap(j - 1, j);
                j -= 1;
            }
        }
        for e in events.iter() {
            let event = if e.on {
                NoteEvent::NoteOn {
                    timing: e.timing,
                    voice_id: VoiceID::Wildcard,
                    channel: Channel::Number(9),
                    key: Key::Number(e.key),
                    velocity: e.velocity,
                }
            } else {
                NoteEvent::NoteOff {
                    timing: e.timing,
                    voice_id: VoiceID::Wildcard,
                    channel: Channel::Number(9),
                    key: Key::Number(e.key),
                    velocity: 0.0,
                }
            };
            let _ = context.try_send_event(event);
        }

        self.patterns.finish_block(end_beat);

        let gains = &mut self.gains[..len];
        gains.iter_mut().for_each(|g| *g = self.params.gain.smoothed.next());
        write_output(buffer, &self.mono[..len], gains);
        for (out, group) in aux.outputs.iter_mut().zip(&self.group_mono) {
            write_output(out, &group[..len], gains);
        }
        ProcessStatus::Normal
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every parameter accepts the text a host shows for it, at its ends and between: typing
    /// the shown text back gives the same value (shown the same way).
    #[test]
    fn every_parameter_round_trips_its_display_text() {
        let params = GrooveParams::new(Arc::new(vec!["Boom Bap".into(), "Four on the Floor".into()]));
        let map = params.param_map();
        assert!(map.len() >= 20, "{} parameters", map.len());
        for (id, ptr, _) in &map {
            // SAFETY: the pointers point into `params`, which outlives this loop.
            let (name, steps) = unsafe { (ptr.name().to_string(), ptr.step_count()) };
            let points: Vec<f32> = match steps {
                Some(n) => (0..=n.min(40)).map(|k| k as f32 / n.min(40) as f32).collect(),
                None => vec![0.0, 0.1, 0.25, 0.5, 0.77, 1.0],
            };
            for n in points {
                for unit in [true, false] {
                    let shown = unsafe { ptr.normalized_value_to_string(n, unit) };
                    let back = unsafe { ptr.string_to_normalized_value(&shown) }
                        .unwrap_or_else(|| panic!("{name} ({id}) shows {shown:?} but does not accept it"));
                    let again = unsafe { ptr.normalized_value_to_string(back, unit) };
                    assert_eq!(shown, again, "{name} ({id}) at {n}: {shown:?} -> {back} -> {again:?}");
                }
            }
        }
        let preset = &params.preset;
        assert_eq!(preset.string_to_normalized_value("boom bap"), Some(preset.preview_normalized(1)));
        assert_eq!(preset.string_to_normalized_value("Four on the Floor"), Some(preset.preview_normalized(2)));
        assert_eq!(preset.string_to_normalized_value("None"), Some(0.0));
    }
}
