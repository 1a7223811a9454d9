//! Temporal mode for frame sequences: a frame denoised on its own flickers, because its residual
//! error is independent of its neighbours'. Here each frame's single-frame result is blended with
//! the history carried through the previous frames of a bounded window, reprojected by Blender's
//! `Vector` pass. History is clamped to what the frame's own neighbourhood shows (`blend`): it
//! survives where an anti-aliased edge only jitters between frames, and gives way where a surface
//! changed (disocclusions, moving lights, reflections that do not follow the surface), so detail
//! is not smeared.
//!
//! An output depends only on the frames of its window (the frame and the `window - 1` before
//! it), never on an unbounded chain: a farm chunk or a `watch` service that sees the frames out of
//! order writes the same bytes as one run. Settings and measurements:
//! `models/train/denoise/temporal_eval.py` and the card of `denoise-hdr-alb-nrm`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::metrics::display_value;
use super::{read_source, DenoiseError, DenoiseOptions, DenoiseReport, Denoised, Denoiser, Source, StageTimes};
use crate::io::frame::{Encoding, Frame};
use crate::io::sequence::{frame_number, sibling_frame};
use blend::{blend_window, WindowFrame};

mod blend;

/// Frames an output depends on, itself included, unless `--window` says otherwise.
pub const DEFAULT_WINDOW: usize = 8;
/// Largest share of a Vector pass that may be NaN or point outside the frame before the frame
/// is denoised on its own.
const MAX_UNUSABLE_MOTION: f64 = 0.05;

/// How history is carried; the defaults were chosen on the tuning sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TemporalParams {
    /// Frames each output depends on, itself included (at least 1; 1 is single-frame).
    pub window: usize,
    /// Largest weight of the reprojected history; the rest is the frame's own result.
    pub history_weight: f32,
    /// History fades out where it differs from the frame (at the best position up to half a
    /// pixel away) by this many times the local noise, and is clamped to the range of the frame's
    /// 3x3 neighbourhood widened by as much...
    pub tolerance: f32,
    /// ... plus this much (display units, 0..1).
    pub tolerance_floor: f32,
    /// History fades out where the albedo (or, at half weight, the normal) it came from differs
    /// from every albedo of the pixel's neighbourhood now by this much.
    pub surface_tolerance: f32,
}

impl Default for TemporalParams {
    fn default() -> Self {
        TemporalParams {
            window: DEFAULT_WINDOW,
            history_weight: 0.8,
            tolerance: 1.5,
            tolerance_floor: 0.01,
            surface_tolerance: 0.1,
        }
    }
}

/// Why a frame cannot take history from the frame before it; the frame is denoised on its own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MotionIssue {
    #[error("has no Vector pass (in Blender: View Layer Properties > Passes > Data > Vector, with Motion Blur off)")]
    Missing,
    #[error("has a Vector pass whose size differs from the frame's")]
    WrongSize,
    #[error("has {percent:.1} % of its Vector pass NaN or pointing outside the frame")]
    Unusable { percent: f64 },
    #[error(
        "has a Vector pass that fits the previous frame better read as {found} than in Blender's \
         convention (towards the previous frame, y up): written by another tool?"
    )]
    Convention { found: &'static str },
}

/// Per pixel, where the pixel was in the previous frame, in pixels (x right, y down); NaN where
/// the Vector pass is unusable. Blender's `Vector.X`/`Vector.Y` point to the previous frame
/// with y up.
#[derive(Debug, Clone)]
pub struct Motion {
    dx: Vec<f32>,
    dy: Vec<f32>,
}

impl Motion {
    /// The motion in a frame's `Vector` pass (any layer prefix, as Blender names it).
    pub fn from_frame(frame: &Frame) -> Result<Motion, MotionIssue> {
        let find = |axis: &str| {
            let want = format!("Vector.{axis}");
            frame.exr_channels.iter().find(|c| c.name == want || c.name.ends_with(&format!(".{want}")))
        };
        let (Some(x), Some(y)) = (find("X"), find("Y")) else { return Err(MotionIssue::Missing) };
        let n = frame.pixels();
        if x.data.len() != n || y.data.len() != n {
            return Err(MotionIssue::WrongSize);
        }
        let limit = frame.width.max(frame.height) as f32;
        let usable = |v: f32| v.is_finite() && v.abs() <= limit;
        let (mut dx, mut dy, mut bad) = (Vec::with_capacity(n), Vec::with_capacity(n), 0usize);
        for (&vx, &vy) in x.data.iter().zip(&y.data) {
            if usable(vx) && usable(vy) {
                dx.push(vx);
                dy.push(-vy);
            } else {
                dx.push(f32::NAN);
                dy.push(f32::NAN);
                bad += 1;
            }
        }
        if bad as f64 > MAX_UNUSABLE_MOTION * n as f64 {
            return Err(MotionIssue::Unusable { percent: 100.0 * bad as f64 / n as f64 });
        }
        Ok(Motion { dx, dy })
    }
}

/// `src` (interleaved RGB, `width`×`height`, the previous frame) sampled where each pixel was in
/// it, bilinearly; `None` where that lies outside the frame or the motion is unusable. `sign`
/// multiplies the motion's axes (to test other conventions).
pub(super) fn reproject(
    src: &[f32],
    width: usize,
    height: usize,
    motion: &Motion,
    sign: (f32, f32),
) -> Vec<Option<[f32; 3]>> {
    let (w, h) = (width as f32, height as f32);
    (0..width * height)
        .map(|i| {
            let sx = (i % width) as f32 + sign.0 * motion.dx[i];
            let sy = (i / width) as f32 + sign.1 * motion.dy[i];
            if !(sx >= -0.5 && sx <= w - 0.5 && sy >= -0.5 && sy <= h - 0.5) {
                return None; // also NaN
            }
            let (sx, sy) = (sx.clamp(0.0, w - 1.0), sy.clamp(0.0, h - 1.0));
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let px = |x: usize, y: usize, c: usize| src[(y * width + x) * 3 + c];
            Some(std::array::from_fn(|c| {
                (px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx) * (1.0 - fy)
                    + (px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx) * fy
            }))
        })
        .collect()
}

/// The other readings of a Vector pass a tool might write, tried against Blender's.
const CONVENTIONS: [((f32, f32), &str); 3] = [
    ((-1.0, -1.0), "motion towards the next frame"),
    ((1.0, -1.0), "y pointing down"),
    ((-1.0, 1.0), "motion towards the next frame with y pointing down"),
];

/// Checks that `motion` maps `previous` onto `current` (both denoised) better than any other
/// convention would; a frame that barely moves passes.
fn check_convention(
    previous: &[f32],
    current: &[f32],
    motion: &Motion,
    width: usize,
    height: usize,
    encoding: Encoding,
) -> Result<(), MotionIssue> {
    let moving: Vec<bool> = motion.dx.iter().zip(&motion.dy).map(|(x, y)| x.hypot(*y) >= 1.0).collect();
    let moving_count = moving.iter().filter(|&&m| m).count();
    if moving_count * 100 < width * height {
        return Ok(());
    }
    let disp = |v: f32| display_value(v, encoding);
    let error = |sign| {
        let warped = reproject(previous, width, height, motion, sign);
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (i, h) in warped.iter().enumerate() {
            if let (true, Some(h)) = (moving[i], h) {
                sum += (0..3).map(|c| (disp(h[c]) - disp(current[i * 3 + c])).abs() as f64).sum::<f64>();
                count += 1;
            }
        }
        // Mostly outside the frame: no evidence for this reading.
        if count * 2 < moving_count {
            f64::INFINITY
        } else {
            sum / count as f64
        }
    };
    let ours = error((1.0, 1.0));
    for (sign, found) in CONVENTIONS {
        if error(sign) < 0.8 * ours {
            return Err(MotionIssue::Convention { found });
        }
    }
    Ok(())
}

/// A frame read and denoised on its own: what the windows of later frames reuse.
struct Single {
    noisy: Vec<f32>,
    denoised: Vec<f32>,
    /// The frame's albedo and normal passes (noise-free in Blender's Denoising Data), which tell
    /// a disocclusion from an edge that only jitters.
    surface: Option<(Vec<f32>, Vec<f32>)>,
    motion: Result<Motion, MotionIssue>,
    width: usize,
    height: usize,
    model: String,
    device: crate::infer::Device,
    tiles: usize,
}

/// A file's identity: a re-rendered frame is read again, and an output whose window held an
/// older version of it is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    pub path: PathBuf,
    size: u64,
    modified: Option<SystemTime>,
}

impl FileStamp {
    pub fn of(path: &Path) -> FileStamp {
        let meta = std::fs::metadata(path).ok();
        FileStamp {
            path: path.to_path_buf(),
            size: meta.as_ref().map_or(0, |m| m.len()),
            modified: meta.and_then(|m| m.modified().ok()),
        }
    }
}

/// The temporal window of `input`, oldest first: the files of its sequence (same name, other
/// frame numbers) from `size - 1` frames before it, starting at the first that exists; `None`
/// where a later one is missing. Only files on disk decide it, so every process that denoises
/// `input` (a farm chunk, a watch service) sees the same window once the frames are written.
pub fn window_of(input: &Path, size: usize) -> Vec<Option<PathBuf>> {
    let Some(n) = frame_number(input) else { return vec![Some(input.to_path_buf())] };
    let slots: Vec<Option<PathBuf>> = (n.saturating_sub(size.max(1) as u64 - 1)..n)
        .map(|k| sibling_frame(input, k).filter(|p| p.is_file()))
        .collect();
    let first = slots.iter().position(Option::is_some).unwrap_or(slots.len());
    slots[first..].iter().cloned().chain([Some(input.to_path_buf())]).collect()
}

/// A frame denoised in temporal mode, in memory.
#[derive(Debug, Clone)]
pub struct TemporalDenoised {
    pub color: Vec<f32>,
    pub model: String,
    pub device: crate::infer::Device,
    pub tiles: usize,
    /// The files the output depends on, oldest first, the frame itself last.
    pub used: Vec<FileStamp>,
    /// Why the window is shorter than asked (each also logged as a warning).
    pub warnings: Vec<String>,
}

/// What happened to one frame in temporal mode.
#[derive(Debug, Clone)]
pub struct TemporalReport {
    pub report: DenoiseReport,
    /// Frames the output depends on, itself included.
    pub frames_used: usize,
    pub warnings: Vec<String>,
}

/// Denoises frames of a sequence in temporal mode, keeping the single-frame results of the last
/// `window` frames it read, so a sequence in order costs one network run per frame.
pub struct TemporalDenoiser<'a> {
    denoiser: &'a Denoiser,
    opts: DenoiseOptions,
    params: TemporalParams,
    cache: Mutex<VecDeque<(FileStamp, Arc<Single>)>>,
}

impl<'a> TemporalDenoiser<'a> {
    pub fn new(denoiser: &'a Denoiser, opts: DenoiseOptions, params: TemporalParams) -> Self {
        TemporalDenoiser {
            denoiser,
            opts,
            params: TemporalParams { window: params.window.max(1), ..params },
            cache: Default::default(),
        }
    }

    pub fn params(&self) -> &TemporalParams {
        &self.params
    }

    fn single(&self, path: &Path, frame: Option<&Frame>) -> Result<Arc<Single>, DenoiseError> {
        let key = FileStamp::of(path);
        let cache = || self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, s)) = cache().iter().find(|(k, _)| *k == key) {
            return Ok(s.clone());
        }
        let read;
        let frame = match frame {
            Some(f) => f,
            None => {
                read = read_source(path, &self.opts)?.frame;
                &read
            }
        };
        let done = self.denoiser.denoise_frame(frame, &self.opts, path)?;
        let single = Arc::new(Single {
            noisy: frame.color.clone(),
            denoised: done.color,
            surface: frame.albedo.clone().zip(frame.normal.clone()),
            motion: Motion::from_frame(frame),
            width: frame.width,
            height: frame.height,
            model: done.model,
            device: done.device,
            tiles: done.tiles,
        });
        let mut cache = cache();
        cache.push_back((key, single.clone()));
        while cache.len() > self.params.window {
            cache.pop_front();
        }
        Ok(single)
    }

    /// Denoises `source`, read from `input`, the last frame of `window` (its sequence, oldest
    /// first; `None` where a frame is missing; see [`window_of`]). The window is cut, with a
    /// warning, at a missing or unreadable frame, a change of size, or a frame whose motion
    /// cannot be used.
    pub fn denoise_source(
        &self,
        window: &[Option<PathBuf>],
        source: &Source,
        input: &Path,
    ) -> Result<TemporalDenoised, DenoiseError> {
        let current = self.single(input, Some(&source.frame))?;
        let encoding = self.opts.encoding.unwrap_or(source.frame.encoding);
        let mut chain = vec![(input.to_path_buf(), current.clone())];
        let mut warnings = Vec::new();
        let earlier = &window[window.len().saturating_sub(self.params.window)..window.len().saturating_sub(1)];
        for slot in earlier.iter().rev() {
            let (later_path, later) = chain.last().expect("starts with the frame");
            let Some(path) = slot else {
                warnings.push(format!("{}: the frame before it is missing", later_path.display()));
                break;
            };
            let motion = match &later.motion {
                Ok(m) => m,
                Err(issue) => {
                    warnings.push(format!("{} {issue}", later_path.display()));
                    break;
                }
            };
            let previous = match self.single(path, None) {
                Ok(p) => p,
                Err(e) => {
                    warnings.push(format!("{e}"));
                    break;
                }
            };
            if (previous.width, previous.height) != (later.width, later.height) {
                warnings.push(format!(
                    "{} is {}x{} and {} {}x{}",
                    path.display(),
                    previous.width,
                    previous.height,
                    later_path.display(),
                    later.width,
                    later.height
                ));
                break;
            }
            let (w, h) = (later.width, later.height);
            if let Err(issue) = check_convention(&previous.denoised, &later.denoised, motion, w, h, encoding) {
                warnings.push(format!("{} {issue}", later_path.display()));
                break;
            }
            chain.push((path.clone(), previous));
        }
        for w in &warnings {
            tracing::warn!("{w}; its window starts after that (denoised with {} frames)", chain.len());
        }
        chain.reverse();
        let frames: Vec<WindowFrame> = chain
            .iter()
            .map(|(_, s)| WindowFrame {
                noisy: &s.noisy,
                denoised: &s.denoised,
                surface: s.surface.as_ref().map(|(a, n)| (a.as_slice(), n.as_slice())),
                motion: s.motion.as_ref().ok(),
            })
            .collect();
        Ok(TemporalDenoised {
            color: blend_window(&frames, current.width, current.height, encoding, &self.params),
            model: current.model.clone(),
            device: current.device,
            tiles: current.tiles,
            used: chain.iter().map(|(p, _)| FileStamp::of(p)).collect(),
            warnings,
        })
    }

    /// Reads the last frame of `window`, denoises it (see [`Self::denoise_source`]) and writes
    /// `output` atomically.
    pub fn denoise_file(&self, window: &[Option<PathBuf>], output: &Path) -> Result<TemporalReport, DenoiseError> {
        let start = Instant::now();
        let input = window.last().and_then(Option::as_ref).expect("the window ends with the frame itself");
        let source = read_source(input, &self.opts)?;
        source.check_output(output)?;
        let read = start.elapsed().as_secs_f64() * 1000.0;
        let done = self.denoise_source(window, &source, input)?;
        let (frames_used, warnings) = (done.used.len(), done.warnings);
        // The window's frames (read, denoised, aligned, blended) are not split into stages.
        let single = Denoised {
            color: done.color,
            model: done.model,
            device: done.device,
            tiles: done.tiles,
            times: StageTimes::default(),
        };
        let report = DenoiseReport::write(source, single, input, output, read, start)?;
        Ok(TemporalReport { report, frames_used, warnings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::{ExrChannel, FileFormat};

    fn still(width: usize, height: usize, value: impl Fn(usize, usize) -> f32) -> Vec<f32> {
        (0..width * height).flat_map(|i| [value(i % width, i / width); 3]).collect()
    }

    fn with_vectors(width: usize, height: usize, x: f32, y: f32) -> Frame {
        let mut f = Frame::new_rgb(width, height, vec![0.5; width * height * 3], Encoding::Linear, FileFormat::Exr);
        for (axis, v) in [("X", x), ("Y", y)] {
            f.exr_channels.push(ExrChannel {
                name: format!("ViewLayer.Vector.{axis}"),
                half: false,
                data: vec![v; width * height],
            });
        }
        f
    }

    #[test]
    fn blender_vectors_point_to_the_previous_frame_with_y_up() {
        // A pixel whose content was 2 px to the left and 1 px lower (y down) in the frame before.
        let m = Motion::from_frame(&with_vectors(8, 8, -2.0, -1.0)).unwrap();
        let ramp = still(8, 8, |x, y| (x + 10 * y) as f32);
        let warped = reproject(&ramp, 8, 8, &m, (1.0, 1.0));
        assert_eq!(warped[3 * 8 + 4].unwrap()[0], (2 + 10 * 4) as f32);
        assert!(warped[8].is_none(), "x = 0 came from outside the frame");
    }

    #[test]
    fn unusable_or_missing_vectors_are_named() {
        let mut f = with_vectors(10, 10, 1.0, 0.0);
        f.exr_channels[0].data[..6].fill(f32::NAN);
        assert_eq!(Motion::from_frame(&f).unwrap_err(), MotionIssue::Unusable { percent: 6.0 });
        f.exr_channels[0].data[..6].fill(1e9);
        assert!(matches!(Motion::from_frame(&f), Err(MotionIssue::Unusable { .. })));
        f.exr_channels[0].data[..6].fill(1.0);
        f.exr_channels[0].data[7] = f32::NAN;
        let m = Motion::from_frame(&f).expect("1 % unusable is tolerated");
        assert!(m.dx[7].is_nan() && m.dy[7].is_nan());
        let bare = Frame::new_rgb(4, 4, vec![0.0; 48], Encoding::Linear, FileFormat::Exr);
        assert_eq!(Motion::from_frame(&bare).unwrap_err(), MotionIssue::Missing);
    }

    #[test]
    fn a_pan_is_recognised_and_its_opposite_refused() {
        let (w, h) = (48, 32);
        let texture = |x: usize, y: usize| ((x * 7 + y * 13) % 11) as f32 / 10.0;
        let previous = still(w, h, texture);
        // Content moved 3 px right: each pixel was 3 px to the left before (Vector.X = -3).
        let current = still(w, h, |x, y| texture(x.saturating_sub(3), y));
        let right = Motion::from_frame(&with_vectors(w, h, -3.0, 0.0)).unwrap();
        assert_eq!(check_convention(&previous, &current, &right, w, h, Encoding::Srgb), Ok(()));
        let wrong = Motion::from_frame(&with_vectors(w, h, 3.0, 0.0)).unwrap();
        assert!(matches!(
            check_convention(&previous, &current, &wrong, w, h, Encoding::Srgb),
            Err(MotionIssue::Convention { .. })
        ));
    }

    #[test]
    fn a_window_starts_at_the_first_frame_on_disk_and_marks_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let frame = |n: u64| dir.path().join(format!("shot_{n:04}.exr"));
        for n in [1, 2, 4, 5] {
            std::fs::write(frame(n), b"x").unwrap();
        }
        assert_eq!(window_of(&frame(5), 8), vec![Some(frame(1)), Some(frame(2)), None, Some(frame(4)), Some(frame(5))]);
        assert_eq!(window_of(&frame(5), 2), vec![Some(frame(4)), Some(frame(5))]);
        assert_eq!(window_of(&frame(2), 8), vec![Some(frame(1)), Some(frame(2))]);
        assert_eq!(window_of(&frame(1), 8), vec![Some(frame(1))]);
        let still = dir.path().join("still.exr");
        assert_eq!(window_of(&still, 8), vec![Some(still.clone())]);
    }
}
