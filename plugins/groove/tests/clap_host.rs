//! Loads the bundled `.clap` with a real CLAP host (clack-host) and plays it: 120 BPM, 4/4,
//! 8 bars with the transport running, parameter changes, lane locks, state round trips.
//!
//! `cargo xtask test` builds the bundles first and points these tests at them:
//! `LATENT_GROOVE_CLAP` (release bundle) and `LATENT_GROOVE_ALLOC_CHECK_CLAP` (debug build with
//! nice-plug's `assert_process_allocs`: any allocation in `process()` aborts the test process).

use std::collections::HashMap;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader, Pckn};
use clack_host::prelude::*;
use clack_host::utils::BeatTime;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
const BPM: f64 = 120.0;
/// Samples per 16th step at 120 BPM and 48 kHz.
const STEP: f64 = RATE * 60.0 / BPM / 4.0;
const BAR: usize = (STEP * 16.0) as usize;
const GM_NOTES: [u8; 9] = [36, 38, 42, 46, 45, 48, 50, 49, 51];

struct Host;

#[derive(Default)]
struct Shared {
    params: OnceLock<Option<PluginParams>>,
    state: OnceLock<Option<PluginState>>,
    latency: OnceLock<Option<PluginLatency>>,
}

impl<'a> SharedHandler<'a> for Shared {
    fn initializing(&self, instance: InitializingPluginHandle<'a>) {
        let _ = self.params.set(instance.get_extension());
        let _ = self.state.set(instance.get_extension());
        let _ = self.latency.set(instance.get_extension());
    }
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct MainThread;

impl<'a> MainThreadHandler<'a> for MainThread {
    fn initialized(&self, _instance: InitializedPluginHandle<'a>) {}
}

impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread;
    type AudioProcessor<'a> = ();
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Note {
    /// Absolute sample position since the transport started.
    at: usize,
    key: u8,
    channel: i16,
    on: bool,
}

/// A plugin instance driven like a DAW drives it, one block at a time.
struct Session {
    _entry: PluginEntry,
    instance: PluginInstance<Host>,
    processor: Option<StartedPluginAudioProcessor<Host>>,
    ids: HashMap<String, ClapId>,
    /// Samples processed since the transport started (or since activation while stopped).
    pos: usize,
    playing: bool,
    pending_params: Vec<ParamValueEvent>,
    notes: Vec<Note>,
    audio: Vec<f32>,
}

impl Session {
    fn open(clap: &Path) -> Session {
        assert!(clap.is_file(), "{} is missing: run `cargo xtask bundle` (or `cargo xtask test`, which bundles first)", clap.display());
        let entry = unsafe { PluginEntry::load(clap) }.unwrap_or_else(|e| panic!("loading {}: {e:?}", clap.display()));
        let factory = entry.get_plugin_factory().expect("the bundle exposes a plugin factory");
        let id = CString::new("org.latentforge.latent-groove").unwrap();
        assert!(factory.plugin_descriptors().any(|d| d.id().is_some_and(|i| i == id.as_c_str())), "plugin id not in factory");
        let info = HostInfo::new("latentforge-test-host", "Latentforge", "https://example.invalid", "0.1").unwrap();
        let mut instance = PluginInstance::<Host>::new(|_| Shared::default(), |_| MainThread, &entry, &id, &info).expect("instantiating");
        let config = PluginAudioConfiguration { sample_rate: RATE, min_frames_count: 1, max_frames_count: BLOCK as u32 };
        let stopped = instance.activate(|_, _| (), config).expect("activating");
        let processor = Some(stopped.start_processing().expect("start processing"));

        let params = instance.access_shared_handler(|s| *s.params.get().unwrap()).expect("params extension");
        let handle = instance.plugin_handle();
        let mut ids = HashMap::new();
        let mut buf = ParamInfoBuffer::new();
        for i in 0..params.count(&handle) {
            let p = params.get_info(&handle, i, &mut buf).unwrap();
            ids.insert(String::from_utf8_lossy(p.name).into_owned(), p.id);
        }
        Session { _entry: entry, instance, processor, ids, pos: 0, playing: false, pending_params: Vec::new(), notes: Vec::new(), audio: Vec::new() }
    }

    fn set(&mut self, name: &str, value: f64) {
        let id = *self.ids.get(name).unwrap_or_else(|| panic!("no parameter named {name:?}; have {:?}", self.ids.keys()));
        self.pending_params.push(ParamValueEvent::new(0, id, Pckn::match_all(), value));
    }

    fn param(&mut self, name: &str) -> f64 {
        let id = self.ids[name];
        let params = self.instance.access_shared_handler(|s| *s.params.get().unwrap()).unwrap();
        params.get_value(&self.instance.plugin_handle(), id).unwrap()
    }

    fn block(&mut self) {
        let mut transport = TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags: TransportFlags::HAS_TEMPO | TransportFlags::HAS_BEATS_TIMELINE | TransportFlags::HAS_TIME_SIGNATURE,
            song_pos_beats: BeatTime::from_float(self.pos as f64 / (RATE * 60.0 / BPM)),
            song_pos_seconds: Default::default(),
            tempo: BPM,
            tempo_inc: 0.0,
            loop_start_beats: Default::default(),
            loop_end_beats: Default::default(),
            loop_start_seconds: Default::default(),
            loop_end_seconds: Default::default(),
            bar_start: BeatTime::from_float(((self.pos / BAR) * 4) as f64),
            bar_number: (self.pos / BAR) as i32,
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        };
        if self.playing {
            transport.flags |= TransportFlags::IS_PLAYING;
        }
        let mut in_events = EventBuffer::new();
        for p in self.pending_params.drain(..) {
            in_events.push(&p);
        }
        let mut out_events = EventBuffer::new();
        let mut left = [0.0f32; BLOCK];
        let mut right = [0.0f32; BLOCK];
        let mut in_ports = AudioPorts::with_capacity(0, 0);
        let mut out_ports = AudioPorts::with_capacity(2, 1);
        let input = in_ports.with_input_buffers(std::iter::empty::<AudioPortBuffer<std::iter::Empty<InputChannel<f32>>, std::iter::Empty<InputChannel<f64>>>>());
        let mut output = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only([&mut left[..], &mut right[..]].into_iter()),
        }]);
        let proc = self.processor.as_mut().unwrap();
        proc.process(&input, &mut output, &in_events.as_input(), &mut out_events.as_output(), None, Some(&transport)).expect("process");
        for e in out_events.iter() {
            if let Some(on) = e.as_event::<NoteOnEvent>() {
                let p = on.pckn();
                self.notes.push(Note { at: self.pos + on.header().time() as usize, key: p.key.into_specific().unwrap() as u8, channel: p.channel.into_specific().unwrap_or(0) as i16, on: true });
            } else if let Some(off) = e.as_event::<NoteOffEvent>() {
                let p = off.pckn();
                self.notes.push(Note { at: self.pos + off.header().time() as usize, key: p.key.into_specific().unwrap() as u8, channel: p.channel.into_specific().unwrap_or(0) as i16, on: false });
            }
        }
        assert_eq!(left, right, "mono kit on both channels");
        self.audio.extend_from_slice(&left);
        self.pos += BLOCK;
    }

    /// Runs with the transport stopped, in real time, until the worker has delivered a pattern
    /// and a kit (notes and sound appear while free-running).
    fn warm_up(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            self.block();
            let heard = self.audio.iter().any(|s| *s != 0.0);
            if heard && self.notes.iter().any(|n| n.on) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("no pattern or kit after 60 s of free-running: is the bundle missing its models or ONNX Runtime?");
    }

    /// Starts the transport at beat 0 and forgets what was heard while stopped.
    fn play_from_start(&mut self) {
        self.playing = true;
        self.pos = 0;
        self.notes.clear();
        self.audio.clear();
    }

    fn play_bars(&mut self, bars: usize) {
        let end = self.pos + bars * BAR;
        while self.pos < end {
            self.block();
        }
    }

    /// Lets the worker answer a parameter change, as the wall clock of a real session would.
    fn settle(&mut self) {
        // One block delivers the request; the worker decodes in milliseconds.
        self.block();
        std::thread::sleep(Duration::from_millis(300));
    }

    fn save(&mut self) -> Vec<u8> {
        let state = self.instance.access_shared_handler(|s| *s.state.get().unwrap()).expect("state extension");
        let mut out = Vec::new();
        state.save(&self.instance.plugin_handle(), &mut out).expect("save");
        out
    }

    fn load(&mut self, bytes: &[u8]) {
        let state = self.instance.access_shared_handler(|s| *s.state.get().unwrap()).expect("state extension");
        state.load(&self.instance.plugin_handle(), &mut std::io::Cursor::new(bytes)).expect("load");
    }

    fn ons(&self, from: usize, to: usize) -> Vec<(usize, u8)> {
        self.notes.iter().filter(|n| n.on && n.at >= from && n.at < to).map(|n| (n.at - from, n.key)).collect()
    }

    fn close(mut self) {
        let p = self.processor.take().unwrap().stop_processing();
        self.instance.deactivate(p);
    }
}

/// CLAP reports plain values through a normalised round trip: equal within 1e-4.
fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-4, "parameter is {got}, expected {want}");
}

fn bundle(var: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        match var {
            "LATENT_GROOVE_ALLOC_CHECK_CLAP" => root.join("target/alloc-check/bundled/clap/Latent Groove/Latent Groove.clap"),
            _ => root.join("target/bundled/clap/Latent Groove/Latent Groove.clap"),
        }
    });
    path
}

fn play_session(clap: &Path) {
    let mut s = Session::open(clap);
    assert_eq!(s.instance.access_shared_handler(|h| *h.latency.get().unwrap()).map(|l| l.get(&s.instance.plugin_handle())), Some(0), "latency is 0 samples");
    // On the grid: no micro-timing, no swing.
    s.set("Humanize timing", 0.0);
    s.set("Swing", 0.0);
    s.set("Seed", 5.0);
    s.warm_up();
    s.play_from_start();
    s.play_bars(2);

    // 1. Note events sit exactly on 16th-note grid positions, as GM drum notes on channel 10.
    let ons = s.ons(0, 2 * BAR);
    assert!(ons.len() >= 8, "a 2-bar groove has hits, got {}", ons.len());
    for n in s.notes.iter() {
        assert_eq!(n.channel, 9, "channel 10 (index 9)");
        assert!(GM_NOTES.contains(&n.key), "GM drum note, got {}", n.key);
    }
    for (at, key) in &ons {
        let step = (*at as f64 / STEP).round();
        assert!((*at as f64 - step * STEP).abs() <= 1.0, "note {key} at sample {at} is off the grid");
    }
    let offs = s.notes.iter().filter(|n| !n.on).count();
    assert!(offs + 10 >= ons.len(), "every note is released");

    // The pattern loops every 2 bars.
    s.play_bars(2);
    assert_eq!(s.ons(0, 2 * BAR), s.ons(2 * BAR, 4 * BAR), "a 2-bar loop repeats");
    let first = s.ons(0, 2 * BAR);

    // 2. A parameter change takes effect, at a bar line: a new seed changes the groove.
    s.set("Lock kick", 1.0);
    s.set("Seed", 77.0);
    s.settle();
    let changed_at = s.pos;
    s.play_bars(5);
    let next_bar = changed_at.div_ceil(BAR) * BAR;
    let after_from = (next_bar / (2 * BAR) + 1) * 2 * BAR;
    let second = s.ons(after_from, after_from + 2 * BAR);
    assert_ne!(first, second, "seed change gives a new groove");
    // Nothing changes before the next bar line.
    let loop_start = changed_at - changed_at % (2 * BAR);
    let before: Vec<_> = s.ons(changed_at, next_bar).into_iter().map(|(at, k)| (at + changed_at - loop_start, k)).collect();
    let expect: Vec<_> = first.iter().filter(|(at, _)| *at >= changed_at - loop_start && *at < next_bar - loop_start).cloned().collect();
    assert_eq!(before, expect, "the old groove plays until the bar line");

    // 3. The locked kick lane keeps its notes; other lanes changed.
    let lane = |v: &[(usize, u8)], key: u8| v.iter().filter(|n| n.1 == key).cloned().collect::<Vec<_>>();
    assert_eq!(lane(&first, 36), lane(&second, 36), "locked kick is kept");
    let others = |v: &[(usize, u8)]| v.iter().filter(|n| n.1 != 36).cloned().collect::<Vec<_>>();
    assert_ne!(others(&first), others(&second), "unlocked lanes change");

    // Density acts at once (no inference): more hits.
    s.set("Density", 1.0);
    s.settle();
    let dense_from = s.pos.div_ceil(2 * BAR) * 2 * BAR;
    s.play_bars(4);
    assert!(s.ons(dense_from, dense_from + 2 * BAR).len() > second.len(), "density 100% adds hits");

    // 4. Audio: finite, non-silent, no denormals.
    assert!(s.audio.iter().all(|v| v.is_finite() && (*v == 0.0 || v.abs() > 1e-30)));
    let rms = (s.audio.iter().map(|v| v * v).sum::<f32>() / s.audio.len() as f32).sqrt();
    assert!(rms > 1e-3, "the kit is audible (rms {rms})");

    // 5. State: save -> load -> save is byte-identical and restores the knobs.
    let a = s.save();
    s.set("Seed", 1234.0);
    s.settle();
    assert_close(s.param("Seed"), 1234.0);
    s.load(&a);
    assert_close(s.param("Seed"), 77.0);
    let b = s.save();
    assert_eq!(a, b, "save -> load -> save is byte-identical");
    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("groove-state") && text.contains("variation"), "state carries the variation and latent: {text}");

    // A state in release 0.1.0's format (committed fixture: the JSON nice-plug writes, behind
    // its 8-byte little-endian length) still loads, fields it lacks keeping their defaults.
    let json = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state-0.1.0.json")).unwrap();
    let mut old = (json.len() as u64).to_le_bytes().to_vec();
    old.extend_from_slice(&json);
    s.load(&old);
    assert_close(s.param("Seed"), 42.0);
    assert_close(s.param("Density"), 0.25);

    // Extreme parameter values: still finite output.
    for (name, v) in [("Temperature", 2.0), ("Density", 1.0), ("Swing", 1.0), ("Kit timbre", 1.0), ("Output gain", 1.9952623), ("Macro 1", 1.0), ("Macro 8", -1.0)] {
        s.set(name, v);
    }
    s.settle();
    s.play_bars(2);
    assert!(s.audio.iter().all(|v| v.is_finite() && v.abs() <= 4.0));
    s.close();
}

#[test]
fn release_bundle_plays_in_a_clap_host() {
    play_session(&bundle("LATENT_GROOVE_CLAP"));
}

#[test]
fn debug_bundle_never_allocates_in_process() {
    // nice-plug's assert_process_allocs aborts the whole test process on an allocation inside
    // process(), so passing this test means the audio thread stayed allocation-free.
    play_session(&bundle("LATENT_GROOVE_ALLOC_CHECK_CLAP"));
}

#[test]
fn bundle_without_resources_loads_and_stays_silent() {
    let src = bundle("LATENT_GROOVE_CLAP");
    assert!(src.is_file(), "{} is missing: run `cargo xtask bundle`", src.display());
    let dir = tempfile::tempdir().unwrap();
    let lonely = dir.path().join("Latent Groove.clap");
    std::fs::copy(&src, &lonely).unwrap();
    let mut s = Session::open(&lonely);
    s.playing = true;
    for _ in 0..(2 * BAR / BLOCK) {
        s.block();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(s.audio.iter().all(|v| *v == 0.0), "silence without models");
    assert!(s.notes.is_empty(), "no notes without the groove model");
    s.close();
}
