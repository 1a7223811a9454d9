//! The worker thread: one per instance, it loads ONNX Runtime and the models from the bundle's
//! `Resources/` and runs every inference. The audio thread talks to it only through lock-free
//! SPSC queues of plain values ([`Request`] in, [`Pattern`]s and boxed [`Kit`]s out, old kits
//! back to be freed here).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use latentforge::drums::{DrumModel, Kit, KitKnobs};
use latentforge::error_chain;
use latentforge::groove::{
    clip_variation, patterns_from_onsets, refine, GrooveError, GrooveKnobs, GrooveModel, GrooveUse, Pattern, Take,
    REFINE_STEPS,
};
use latentforge::infer::{Device, ModelStore, Runtime, RuntimeOptions, LIBRARY_FILE};
use nice_plug::prelude::*;

use crate::follow::Clip;
use crate::history::Knobs;
use crate::params::GrooveParams;

/// What the audio thread asks the worker for. Plain `Copy` data.
#[derive(Debug, Clone, Copy, PartialEq)]
// A boxed clip would allocate on the audio thread; the queue's 64 slots take 100 KB instead.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Request {
    /// A groove from the knobs as they act (a preset applied) and as the parameters hold them.
    Pattern(GrooveKnobs, Knobs),
    Kit(KitKnobs, u32),
    /// Variation `take` (seed `seed`, `spread` standard deviations) of a played clip.
    Follow {
        clip: Clip,
        seed: u32,
        take: u32,
        spread: f32,
    },
}

/// The audio thread's ends of the queues to and from the worker.
pub(crate) struct WorkerLink {
    pub(crate) requests: rtrb::Producer<Request>,
    pub(crate) patterns: rtrb::Consumer<Pattern>,
    pub(crate) kits: rtrb::Consumer<Box<Kit>>,
    /// Old kits go back to the worker to be freed there, never on the audio thread.
    pub(crate) garbage: rtrb::Producer<Box<Kit>>,
    pub(crate) stop: Arc<AtomicBool>,
    /// [`LOADED`], [`GROOVE_OK`], [`DRUMS_OK`] once the worker has tried to load its models.
    pub(crate) status: Arc<AtomicU8>,
    pub(crate) thread: Option<JoinHandle<()>>,
}

pub(crate) const LOADED: u8 = 1;
pub(crate) const GROOVE_OK: u8 = 2;
pub(crate) const DRUMS_OK: u8 = 4;

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
                .map_err(|e| error_chain(&e))
        })
        .clone()
}

#[derive(Default)]
struct Models {
    groove: Option<GrooveModel>,
    drums: Option<DrumModel>,
    /// Where models load from, kept for the clip VAE.
    source: Option<(Arc<Runtime>, ModelStore)>,
    /// The clip VAE (encoder and decoder), for Follow: loaded when Follow is first used, so an
    /// instance that never follows does not hold it. `Some(None)`: it failed to load.
    clips: Option<Option<GrooveModel>>,
}

impl Models {
    fn clips(&mut self) -> Option<&GrooveModel> {
        let source = &self.source;
        self.clips
            .get_or_insert_with(|| {
                let (runtime, store) = source.as_ref()?;
                GrooveModel::load(runtime, store, GrooveUse::Clips)
                    .map_err(|e| nice_warn!("Latent Groove: clip model unusable, Follow is off: {}", error_chain(&e)))
                    .ok()
            })
            .as_ref()
    }
}

fn load_models() -> Models {
    let Some(resources) = resources_dir() else {
        nice_warn!("Latent Groove: no Resources folder beside the plugin binary; outputting silence. Re-run `cargo xtask bundle` and copy the whole bundle.");
        return Models::default();
    };
    let runtime = match runtime(&resources) {
        Ok(r) => r,
        Err(e) => {
            nice_warn!("Latent Groove: {e}; outputting silence");
            return Models::default();
        }
    };
    let store = match ModelStore::locate(Some(&resources.join("models"))) {
        Ok(s) => s,
        Err(e) => {
            nice_warn!("Latent Groove: {}; outputting silence", error_chain(&e));
            return Models::default();
        }
    };
    let groove = GrooveModel::load(&runtime, &store, GrooveUse::Seeds)
        .map_err(|e| nice_warn!("Latent Groove: groove model unusable, no patterns: {}", error_chain(&e)))
        .ok();
    let drums = DrumModel::load(&runtime, &store)
        .map_err(|e| nice_warn!("Latent Groove: drum model unusable, silent kit: {}", error_chain(&e)))
        .ok();
    Models { groove, drums, source: Some((runtime, store)), clips: None }
}

pub(crate) fn spawn_worker(saved: Arc<GrooveParams>) -> WorkerLink {
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
            let mut models = load_models();
            let ok = LOADED
                | if models.groove.is_some() { GROOVE_OK } else { 0 }
                | if models.drums.is_some() { DRUMS_OK } else { 0 };
            status_worker.store(ok, Ordering::Release);
            while !stop_worker.load(Ordering::Acquire) {
                while garbage_rx.pop().is_ok() {}
                // Only the newest request of each kind matters: knob sweeps coalesce.
                let (mut pattern_req, mut kit_req, mut follow_req) = (None, None, None);
                while let Ok(r) = req_rx.pop() {
                    match r {
                        Request::Pattern(k, raw) => pattern_req = Some((k, raw)),
                        Request::Kit(k, rate) => kit_req = Some((k, rate)),
                        Request::Follow { clip, seed, take, spread } => follow_req = Some((clip, seed, take, spread)),
                    }
                }
                if let Some((clip, seed, take, spread)) = follow_req {
                    match models.clips().map(|model| follow(model, &clip, seed, take, spread)) {
                        Some(Ok(p)) => {
                            let _ = pat_tx.push(p);
                        }
                        Some(Err(e)) => nice_warn!("Latent Groove: Follow: {}", error_chain(&e)),
                        None => {}
                    }
                }
                if let (Some((knobs, raw)), Some(model)) = (pattern_req, models.groove.as_ref()) {
                    let z = knobs.latent(model.spec());
                    match model.decode(std::slice::from_ref(&z), knobs.take()) {
                        Ok(p) => {
                            let _ = pat_tx.push(p[0]);
                            if let Ok(mut s) = saved.state.write() {
                                s.latent = z;
                            }
                            saved.history.lock().unwrap_or_else(|e| e.into_inner()).record(raw, &p[0], Instant::now());
                        }
                        Err(e) => nice_warn!("Latent Groove: {}", error_chain(&e)),
                    }
                }
                if let (Some((knobs, rate)), Some(model)) = (kit_req, models.drums.as_ref()) {
                    match model.kit(&knobs) {
                        Ok(kit) => match kit.resampled(rate) {
                            Ok(kit) => {
                                let _ = kit_tx.push(Box::new(kit));
                            }
                            Err(e) => nice_warn!("Latent Groove: {}", error_chain(&e)),
                        },
                        Err(e) => nice_warn!("Latent Groove: {}", error_chain(&e)),
                    }
                }
                let export = saved.exports.take_job();
                if let Some(job) = &export {
                    saved.exports.finish(crate::export::run(job, models.groove.as_ref(), models.drums.as_ref()));
                }
                if pattern_req.is_none() && kit_req.is_none() && follow_req.is_none() && export.is_none() {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
        .expect("spawning the Latent Groove worker thread");
    WorkerLink { requests, patterns, kits, garbage, stop, status, thread: Some(thread) }
}

/// A variation of a played clip, as `latentforge groove --from` makes one: the clip encoded,
/// its latent refined to give the clip back, then moved `spread` standard deviations; decoded
/// with the hits the model finds most likely.
fn follow(model: &GrooveModel, clip: &Clip, seed: u32, take: u32, spread: f32) -> Result<Pattern, GrooveError> {
    let onsets: Vec<(f64, usize, f32)> = clip.hits().iter().map(|&(s, l, v)| (s as f64, l as usize, v)).collect();
    let patterns = patterns_from_onsets(&onsets, 1);
    let means: Vec<Vec<f32>> = model.encode(&patterns)?.into_iter().map(|(mu, _)| mu).collect();
    let means = refine(model, &patterns, &means, REFINE_STEPS)?;
    let latents = clip_variation(&means, seed as u64, take, 1, spread);
    Ok(model.decode(&latents, Take::MostLikely)?[0])
}
