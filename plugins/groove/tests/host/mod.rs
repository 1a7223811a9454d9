//! A minimal CLAP host (clack-host) that drives the bundled plugin like a DAW: transport at
//! 120 BPM in 4/4, parameter events, note output, state. Shared by the host tests and the
//! `process()` benchmark.
#![allow(dead_code)]

pub mod display;

use std::collections::HashMap;
use std::ffi::CString;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl, PluginGui};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::render::{PluginRender, RenderMode};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{NoteOffEvent, NoteOnEvent, ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader, Match, Pckn};
use clack_host::prelude::*;
use clack_host::utils::BeatTime;
use latentforge::groove::GROUPS;

pub const RATE: f64 = 48_000.0;
pub const BLOCK: usize = 512;
pub const BPM: f64 = 120.0;
/// Samples per 16th step at 120 BPM and 48 kHz.
pub const STEP: f64 = RATE * 60.0 / BPM / 4.0;
pub const BAR: usize = (STEP * 16.0) as usize;

pub struct Host;

#[derive(Default)]
pub struct Shared {
    pub params: OnceLock<Option<PluginParams>>,
    pub state: OnceLock<Option<PluginState>>,
    pub latency: OnceLock<Option<PluginLatency>>,
    pub render: OnceLock<Option<PluginRender>>,
    pub audio_ports: OnceLock<Option<PluginAudioPorts>>,
    pub gui: OnceLock<Option<PluginGui>>,
    /// The plugin asked to be called on the main thread (its editor's window thread does).
    pub callback_requested: AtomicBool,
    /// The last size the editor asked its parent window for.
    pub resize_requested: Mutex<Option<(u32, u32)>>,
    /// The editor told the host it closed.
    pub gui_closed: AtomicBool,
}

impl<'a> SharedHandler<'a> for Shared {
    fn initializing(&self, instance: InitializingPluginHandle<'a>) {
        let _ = self.params.set(instance.get_extension());
        let _ = self.state.set(instance.get_extension());
        let _ = self.latency.set(instance.get_extension());
        let _ = self.render.set(instance.get_extension());
        let _ = self.audio_ports.set(instance.get_extension());
        let _ = self.gui.set(instance.get_extension());
    }
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::Release);
    }
}

impl HostGuiImpl for Shared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, new_size: GuiSize) -> Result<(), HostError> {
        *self.resize_requested.lock().unwrap() = Some((new_size.width, new_size.height));
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {
        self.gui_closed.store(true, Ordering::Release);
    }
}

pub struct MainThread;

impl<'a> MainThreadHandler<'a> for MainThread {
    fn initialized(&self, _instance: InitializedPluginHandle<'a>) {}
}

impl HostHandlers for Host {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>();
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// Absolute sample position since the transport started.
    pub at: usize,
    pub key: u8,
    pub channel: i16,
    pub on: bool,
}

/// The bundled `.clap`: `$var` when set (as `cargo xtask test` does), else where
/// `cargo xtask bundle` puts the release bundle.
pub fn bundled_clap(var: &str) -> std::path::PathBuf {
    std::env::var_os(var).map(std::path::PathBuf::from).unwrap_or_else(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        match var {
            "LATENT_GROOVE_ALLOC_CHECK_CLAP" => {
                root.join("target/alloc-check/bundled/clap/Latent Groove/Latent Groove.clap")
            }
            _ => root.join("target/bundled/clap/Latent Groove/Latent Groove.clap"),
        }
    })
}

/// Copies a folder tree (bundles into a private plugin folder).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A plugin instance driven like a DAW drives it, one block at a time. Its audio side
/// ([`Player`]) can move to another thread, as a DAW's audio thread, and come back.
pub struct Session {
    _entry: PluginEntry,
    pub instance: PluginInstance<Host>,
    pub ids: HashMap<String, ClapId>,
    pub player: Player,
}

impl Deref for Session {
    type Target = Player;
    fn deref(&self) -> &Player {
        &self.player
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Player {
        &mut self.player
    }
}

/// The audio side of a session: the started processor, the transport, and what came out.
pub struct Player {
    pub processor: Option<StartedPluginAudioProcessor<Host>>,
    /// Samples processed since the transport started (or since activation while stopped).
    pub pos: usize,
    /// Time the last `process()` call took.
    pub last_process: Duration,
    /// Frames per block (at most BLOCK).
    pub frames: usize,
    pub playing: bool,
    pending_params: Vec<ParamValueEvent>,
    /// Notes played into the plugin: (sample from the start, key, velocity), sent in the block
    /// they fall in (a MIDI track feeding the instrument).
    pub input: Vec<(usize, u8, f64)>,
    pub notes: Vec<Note>,
    /// The main output (the full mix), left channel.
    pub audio: Vec<f32>,
    /// Each auxiliary output (one per lane group), left channel.
    pub groups: [Vec<f32>; GROUPS],
}

impl Session {
    pub fn open(clap: &Path) -> Session {
        Self::open_mode(clap, false)
    }

    /// `offline`: the host renders faster than real time (CLAP render extension, set before
    /// activation, as a DAW does for a bounce).
    pub fn open_mode(clap: &Path, offline: bool) -> Session {
        assert!(
            clap.is_file(),
            "{} is missing: run `cargo xtask bundle` (or `cargo xtask test`, which bundles first)",
            clap.display()
        );
        let entry = unsafe { PluginEntry::load(clap) }.unwrap_or_else(|e| panic!("loading {}: {e:?}", clap.display()));
        let factory = entry.get_plugin_factory().expect("the bundle exposes a plugin factory");
        let id = CString::new("org.latentforge.latent-groove").unwrap();
        assert!(
            factory.plugin_descriptors().any(|d| d.id().is_some_and(|i| i == id.as_c_str())),
            "plugin id not in factory"
        );
        let info = HostInfo::new("latentforge-test-host", "Latentforge", "https://example.invalid", "0.1").unwrap();
        let mut instance = PluginInstance::<Host>::new(|_| Shared::default(), |_| MainThread, &entry, &id, &info)
            .expect("instantiating");
        if offline {
            let render = instance.access_shared_handler(|s| *s.render.get().unwrap()).expect("render extension");
            render.set(&instance.plugin_handle(), RenderMode::Offline).expect("offline render mode");
        }
        let config =
            PluginAudioConfiguration { sample_rate: RATE, min_frames_count: 1, max_frames_count: BLOCK as u32 };
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
        Session { _entry: entry, instance, ids, player: Player { processor, ..Player::empty() } }
    }

    /// Runs the main-thread callback the plugin asked for, if it did (its editor needs it).
    pub fn pump(&mut self) {
        if self.instance.access_shared_handler(|s| s.callback_requested.swap(false, Ordering::AcqRel)) {
            self.instance.call_on_main_thread_callback();
        }
    }

    /// The output ports the plugin declares: (name, channels), main first.
    pub fn output_ports(&mut self) -> Vec<(String, u32)> {
        let ports =
            self.instance.access_shared_handler(|s| *s.audio_ports.get().unwrap()).expect("audio-ports extension");
        let handle = self.instance.plugin_handle();
        let mut buf = AudioPortInfoBuffer::new();
        (0..ports.count(&handle, false))
            .map(|i| {
                let info = ports.get(&handle, i, false, &mut buf).expect("port info");
                (String::from_utf8_lossy(info.name).into_owned(), info.channel_count)
            })
            .collect()
    }

    pub fn set(&mut self, name: &str, value: f64) {
        let id =
            *self.ids.get(name).unwrap_or_else(|| panic!("no parameter named {name:?}; have {:?}", self.ids.keys()));
        self.pending_params.push(ParamValueEvent::new(0, id, Pckn::match_all(), value));
    }

    pub fn param(&mut self, name: &str) -> f64 {
        let id = self.ids[name];
        let params = self.instance.access_shared_handler(|s| *s.params.get().unwrap()).unwrap();
        params.get_value(&self.instance.plugin_handle(), id).unwrap()
    }

    /// How the plugin displays `value` of parameter `name`.
    pub fn text(&mut self, name: &str, value: f64) -> String {
        let id = self.ids[name];
        let params = self.instance.access_shared_handler(|s| *s.params.get().unwrap()).unwrap();
        let mut buf = [0u8; 256];
        let t = params.value_to_text(&self.instance.plugin_handle(), id, value, &mut buf).expect("value_to_text");
        String::from_utf8_lossy(t).trim_end_matches('\0').to_string()
    }

    pub fn save(&mut self) -> Vec<u8> {
        let state = self.instance.access_shared_handler(|s| *s.state.get().unwrap()).expect("state extension");
        let mut out = Vec::new();
        state.save(&self.instance.plugin_handle(), &mut out).expect("save");
        out
    }

    pub fn load(&mut self, bytes: &[u8]) {
        assert!(self.try_load(bytes), "the plugin refused the state");
    }

    /// Hands the plugin a saved state as a host does when a project opens; false if it refused.
    pub fn try_load(&mut self, bytes: &[u8]) -> bool {
        let state = self.instance.access_shared_handler(|s| *s.state.get().unwrap()).expect("state extension");
        state.load(&self.instance.plugin_handle(), &mut std::io::Cursor::new(bytes)).is_ok()
    }

    /// Delivers parameter changes that ask the worker for a new groove (seed, locks, macros) and
    /// waits for its answer: the worker queues the groove for the audio thread, then stores its
    /// latent and records it in the variation history, both in the saved state. No transport
    /// moves meanwhile, so the groove lands at the bar line after the current position.
    pub fn await_groove(&mut self) {
        let before = self.worker_fields();
        self.block();
        let start = Instant::now();
        while self.worker_fields() == before {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the worker did not answer a groove request within 60 s (its warnings go to NICE_LOG)"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The saved fields only the worker writes: the groove's latent and the variation history.
    fn worker_fields(&mut self) -> (String, String) {
        let bytes = self.save();
        let state: serde_json::Value = serde_json::from_slice(&bytes[8..]).expect("the state is JSON");
        let field = |key: &str| state["fields"][key].as_str().unwrap_or_default().to_string();
        (field("groove-state"), field("history"))
    }

    pub fn close(mut self) {
        let p = self.player.processor.take().unwrap().stop_processing();
        self.instance.deactivate(p);
    }
}

impl Player {
    /// A player without a processor (a placeholder while the real one is on another thread).
    pub fn empty() -> Player {
        Player {
            processor: None,
            pos: 0,
            last_process: Duration::ZERO,
            frames: BLOCK,
            playing: false,
            pending_params: Vec::new(),
            input: Vec::new(),
            notes: Vec::new(),
            audio: Vec::new(),
            groups: Default::default(),
        }
    }

    pub fn block(&mut self) {
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
        let n = self.frames.min(BLOCK);
        for &(at, key, velocity) in self.input.iter().filter(|i| (self.pos..self.pos + n).contains(&i.0)) {
            let pckn = Pckn::new(0u16, 9u16, key as u16, Match::All);
            in_events.push(&NoteOnEvent::new((at - self.pos) as u32, pckn, velocity));
        }
        let mut out_events = EventBuffer::new();
        // A stereo buffer pair per output port: the mix, then one per lane group.
        let mut bufs = [[0.0f32; BLOCK]; 2 * (1 + GROUPS)];
        let mut in_ports = AudioPorts::with_capacity(0, 0);
        let mut out_ports = AudioPorts::with_capacity(2 * (1 + GROUPS), 1 + GROUPS);
        let input = in_ports.with_input_buffers(std::iter::empty::<
            AudioPortBuffer<std::iter::Empty<InputChannel<f32>>, std::iter::Empty<InputChannel<f64>>>,
        >());
        let mut output = out_ports.with_output_buffers(bufs.chunks_mut(2).map(|pair| {
            let (left, right) = pair.split_at_mut(1);
            AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only([&mut left[0][..n], &mut right[0][..n]].into_iter()),
            }
        }));
        let proc = self.processor.as_mut().unwrap();
        let start = Instant::now();
        proc.process(&input, &mut output, &in_events.as_input(), &mut out_events.as_output(), None, Some(&transport))
            .expect("process");
        self.last_process = start.elapsed();
        for e in out_events.iter() {
            if let Some(on) = e.as_event::<NoteOnEvent>() {
                let p = on.pckn();
                self.notes.push(Note {
                    at: self.pos + on.header().time() as usize,
                    key: p.key.into_specific().unwrap() as u8,
                    channel: p.channel.into_specific().unwrap_or(0) as i16,
                    on: true,
                });
            } else if let Some(off) = e.as_event::<NoteOffEvent>() {
                let p = off.pckn();
                self.notes.push(Note {
                    at: self.pos + off.header().time() as usize,
                    key: p.key.into_specific().unwrap() as u8,
                    channel: p.channel.into_specific().unwrap_or(0) as i16,
                    on: false,
                });
            }
        }
        for (port, pair) in bufs.chunks(2).enumerate() {
            assert_eq!(pair[0][..n], pair[1][..n], "mono kit on both channels of output {port}");
        }
        self.audio.extend_from_slice(&bufs[0][..n]);
        for (g, samples) in self.groups.iter_mut().enumerate() {
            samples.extend_from_slice(&bufs[2 * (g + 1)][..n]);
        }
        self.pos += n;
    }

    /// Runs with the transport stopped, in real time, until the worker has delivered a pattern
    /// and a kit (notes and sound appear while free-running).
    pub fn warm_up(&mut self) {
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
    pub fn play_from_start(&mut self) {
        self.playing = true;
        self.pos = 0;
        self.notes.clear();
        self.audio.clear();
        self.groups.iter_mut().for_each(Vec::clear);
    }

    pub fn play_bars(&mut self, bars: usize) {
        let end = self.pos + bars * BAR;
        while self.pos < end {
            self.block();
        }
    }

    /// Delivers parameter changes that the audio thread applies itself (levels, decay, density)
    /// or whose result is only checked to be sound: one block.
    pub fn settle(&mut self) {
        self.block();
    }

    pub fn ons(&self, from: usize, to: usize) -> Vec<(usize, u8)> {
        self.notes.iter().filter(|n| n.on && n.at >= from && n.at < to).map(|n| (n.at - from, n.key)).collect()
    }
}
