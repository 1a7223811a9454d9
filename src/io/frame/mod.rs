//! Render frames on disk: reading colour plus albedo/normal passes from EXR (single- and
//! multilayer, half and float), PFM, Radiance HDR, PNG (8/16 bit) and TIFF, and writing results
//! atomically. One file per format family: [`exr`], `pfm`, `raster` (through the `image` crate).
//!
//! Pixels are kept as interleaved RGB `f32`. HDR formats hold linear radiance; PNG and integer
//! TIFF hold display-encoded (sRGB) values in 0..1, which the denoiser linearises itself.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::io::atomic::write_atomic;
use crate::io::limits::{DecodeLimits, Malformed, OverLimit, ProbeError};
use crate::io::transfer::srgb_to_linear;

mod exr;
mod pfm;
mod raster;

pub use self::exr::{read_exr_layers, write_exr_channels, ExrChannel, ExrLayer};

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{path}: no such file")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid {format} file (re-export or re-render the frame)")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        #[source]
        source: Malformed,
    },
    #[error("{path}: unsupported file type; use .exr, .pfm, .hdr, .png, .tif or .tiff")]
    Unsupported { path: PathBuf },
    #[error("{path}: no colour channels found (channels: {channels}); expected R,G,B or a `Combined` layer")]
    NoColor { path: PathBuf, channels: String },
    #[error("{path}: {pass} pass is {got_w}x{got_h} but the colour is {want_w}x{want_h}; passes must match the beauty's size")]
    SizeMismatch { path: PathBuf, pass: String, got_w: usize, got_h: usize, want_w: usize, want_h: usize },
    #[error("{path}: {pass} has {count} NaN or infinite values (first at x={x}, y={y}); fix the render or clamp it before denoising")]
    NonFinite { path: PathBuf, pass: String, count: usize, x: usize, y: usize },
    #[error("{path}: cannot write")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: refusing to overwrite an input file; choose another output name or --out-dir")]
    WouldOverwriteInput { path: PathBuf },
    #[error("{dir}: cannot list the folder of frame pattern {pattern}")]
    ListFolder {
        dir: PathBuf,
        pattern: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{pattern}: no frames match this pattern")]
    NoFrames { pattern: PathBuf },
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
}

impl FrameError {
    /// A refused header probe as a frame error for `path` in `format`.
    fn probe(path: &Path, format: &'static str, e: ProbeError) -> FrameError {
        match e {
            ProbeError::Io(source) => FrameError::Read { path: path.to_path_buf(), source },
            ProbeError::Corrupt(source) => FrameError::corrupt(path, format, source),
            ProbeError::Over(e) => FrameError::OverLimit(e),
        }
    }

    /// `path` is not a valid `format` file, for `why`.
    fn corrupt(path: &Path, format: &'static str, why: impl Into<Malformed>) -> FrameError {
        FrameError::Corrupt { path: path.to_path_buf(), format, source: why.into() }
    }

    /// True for a file that will never read (over a limit, unsupported, not finite), as opposed
    /// to one that may still be being written: a service records it failed without retrying.
    pub fn is_permanent(&self) -> bool {
        matches!(self, FrameError::OverLimit(_) | FrameError::Unsupported { .. } | FrameError::NonFinite { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Exr,
    Pfm,
    Hdr,
    Png,
    Tiff,
}

impl FileFormat {
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "exr" => FileFormat::Exr,
            "pfm" => FileFormat::Pfm,
            "hdr" => FileFormat::Hdr,
            "png" => FileFormat::Png,
            "tif" | "tiff" => FileFormat::Tiff,
            _ => return None,
        })
    }
}

/// How the colour values are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Linear radiance, unbounded (EXR, PFM, HDR, float TIFF).
    Linear,
    /// Display-referred sRGB in 0..1 (PNG, 8/16-bit TIFF).
    Srgb,
    /// Not colour (height, normal, roughness maps): values are written as they are, never
    /// converted between sRGB and linear.
    Data,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    /// Interleaved RGB.
    pub color: Vec<f32>,
    pub alpha: Option<Vec<f32>>,
    /// Interleaved RGB, 0..1.
    pub albedo: Option<Vec<f32>>,
    /// Interleaved XYZ, -1..1.
    pub normal: Option<Vec<f32>>,
    pub encoding: Encoding,
    pub format: FileFormat,
    /// Sample type to write back: half-float EXR, 16-bit PNG/TIFF.
    pub wide: bool,
    /// All channels of an EXR input and the names of the three colour channels among them.
    pub exr_channels: Vec<ExrChannel>,
    pub exr_color_names: Option<[String; 3]>,
}

impl Frame {
    pub fn new_rgb(width: usize, height: usize, color: Vec<f32>, encoding: Encoding, format: FileFormat) -> Self {
        Frame {
            width,
            height,
            color,
            alpha: None,
            albedo: None,
            normal: None,
            encoding,
            format,
            wide: true,
            exr_channels: Vec::new(),
            exr_color_names: None,
        }
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// This frame's colour, albedo and normal repeated side by side to fill `width`×`height`
    /// (larger test and benchmark frames with real render noise and passes).
    pub fn repeated(&self, width: usize, height: usize) -> Frame {
        let tile = |src: &[f32]| -> Vec<f32> {
            let mut out = Vec::with_capacity(width * height * 3);
            for y in 0..height {
                for x in 0..width {
                    let i = ((y % self.height) * self.width + x % self.width) * 3;
                    out.extend_from_slice(&src[i..i + 3]);
                }
            }
            out
        };
        let mut f = Frame::new_rgb(width, height, tile(&self.color), self.encoding, self.format);
        f.albedo = self.albedo.as_deref().map(tile);
        f.normal = self.normal.as_deref().map(tile);
        f
    }

    /// Colour as linear values, for the float formats (EXR, PFM).
    fn linear_color(&self) -> Cow<'_, [f32]> {
        match self.encoding {
            Encoding::Linear | Encoding::Data => Cow::Borrowed(&self.color),
            Encoding::Srgb => Cow::Owned(self.color.iter().map(|&v| srgb_to_linear(v)).collect()),
        }
    }

    /// Rejects NaN and infinite values in every pass the denoiser reads.
    pub fn check_finite(&self, path: &Path) -> Result<(), FrameError> {
        let passes =
            [("colour", Some(&self.color)), ("albedo", self.albedo.as_ref()), ("normal", self.normal.as_ref())];
        for (pass, data) in passes {
            let Some(data) = data else { continue };
            let mut bad = data.iter().enumerate().filter(|(_, v)| !v.is_finite());
            if let Some((first, _)) = bad.next() {
                let px = first / 3;
                return Err(FrameError::NonFinite {
                    path: path.to_path_buf(),
                    pass: pass.into(),
                    count: 1 + bad.count(),
                    x: px % self.width,
                    y: px / self.width,
                });
            }
        }
        Ok(())
    }
}

/// Reads a frame, with its albedo/normal passes when the file carries them; its header is
/// checked against `limits` before anything sized by it is allocated.
pub fn read_frame(path: &Path, limits: &DecodeLimits) -> Result<Frame, FrameError> {
    let format = FileFormat::from_path(path).ok_or_else(|| FrameError::Unsupported { path: path.to_path_buf() })?;
    if !path.is_file() {
        return Err(FrameError::Missing { path: path.to_path_buf() });
    }
    let frame = match format {
        FileFormat::Exr => exr::read_exr(path, limits)?,
        FileFormat::Pfm => pfm::read_pfm(path, limits)?,
        FileFormat::Hdr | FileFormat::Png | FileFormat::Tiff => raster::read_with_image(path, format, limits)?,
    };
    Ok(frame)
}

/// Reads an auxiliary pass (albedo or normal) from a side file: its colour channels are the pass.
pub fn read_side_pass(
    path: &Path,
    pass: &str,
    width: usize,
    height: usize,
    limits: &DecodeLimits,
) -> Result<Vec<f32>, FrameError> {
    let side = read_frame(path, limits)?;
    if side.width != width || side.height != height {
        return Err(FrameError::SizeMismatch {
            path: path.to_path_buf(),
            pass: pass.into(),
            got_w: side.width,
            got_h: side.height,
            want_w: width,
            want_h: height,
        });
    }
    // An 8-bit albedo PNG is display-encoded; the network wants linear reflectance.
    Ok(match (side.encoding, pass) {
        (Encoding::Srgb, "albedo") => side.color.iter().map(|&v| srgb_to_linear(v)).collect(),
        // 8-bit normal maps store n*0.5+0.5.
        (Encoding::Srgb, "normal") => side.color.iter().map(|&v| v * 2.0 - 1.0).collect(),
        _ => side.color,
    })
}

/// Writes `frame` to `path` in the format its extension names, through a temporary file in the
/// same folder renamed into place, so a crash never leaves a half-written output.
pub fn write_frame_atomic(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    let format = FileFormat::from_path(path).ok_or_else(|| FrameError::Unsupported { path: path.to_path_buf() })?;
    write_atomic(path, |tmp| match format {
        FileFormat::Exr => exr::write_exr(frame, tmp),
        FileFormat::Pfm => pfm::write_pfm(frame, tmp),
        _ => raster::write_with_image(frame, tmp, format),
    })
    .map_err(|source| FrameError::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn corrupt_and_truncated_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["bad.exr", "bad.png", "bad.pfm", "bad.hdr", "bad.tif"] {
            let path = dir.path().join(name);
            fs::write(&path, b"this is not an image at all").unwrap();
            let err = read_frame(&path, &DecodeLimits::default()).unwrap_err().to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
        let err = read_frame(&dir.path().join("a.jpg"), &DecodeLimits::default()).unwrap_err().to_string();
        assert!(err.contains("unsupported"), "{err}");
    }

    #[test]
    fn non_finite_values_are_located() {
        let mut f = Frame::new_rgb(4, 4, vec![0.1; 48], Encoding::Linear, FileFormat::Exr);
        f.color[3 * (4 * 2 + 1)] = f32::NAN;
        let err = f.check_finite(Path::new("x.exr")).unwrap_err().to_string();
        assert!(err.contains("x=1, y=2") && err.contains("colour"), "{err}");
    }

    #[test]
    fn repeated_frames_tile_colour_and_passes() {
        let mut f = Frame::new_rgb(2, 1, vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0], Encoding::Linear, FileFormat::Exr);
        f.albedo = Some(vec![0.1, 0.1, 0.1, 0.2, 0.2, 0.2]);
        let r = f.repeated(3, 2);
        assert_eq!((r.width, r.height), (3, 2));
        assert_eq!(r.color.iter().step_by(3).copied().collect::<Vec<_>>(), [1.0, 2.0, 1.0, 1.0, 2.0, 1.0]);
        assert_eq!(r.albedo.unwrap()[3], 0.2);
        assert!(r.normal.is_none());
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = Frame::new_rgb(2, 2, vec![0.3; 12], Encoding::Linear, FileFormat::Exr);
        write_frame_atomic(&f, &dir.path().join("o.exr")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("o.exr")]);
    }
}
