//! Render frames on disk: reading colour plus albedo/normal passes from EXR (single- and
//! multilayer, half and float), PFM, Radiance HDR, PNG (8/16 bit) and TIFF, and writing results
//! atomically.
//!
//! Pixels are kept as interleaved RGB `f32`. HDR formats hold linear radiance; PNG and integer
//! TIFF hold display-encoded (sRGB) values in 0..1, which the denoiser linearises itself.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use exr::prelude as ex;
use exr::prelude::traits::*;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: not a valid {format} file ({reason}); re-export or re-render the frame")]
    Corrupt { path: PathBuf, format: &'static str, reason: String },
    #[error("{path}: unsupported file type; use .exr, .pfm, .hdr, .png, .tif or .tiff")]
    Unsupported { path: PathBuf },
    #[error("{path}: no colour channels found (channels: {channels}); expected R,G,B or a `Combined` layer")]
    NoColor { path: PathBuf, channels: String },
    #[error("{path}: {pass} pass is {got_w}x{got_h} but the colour is {want_w}x{want_h}; passes must match the beauty's size")]
    SizeMismatch { path: PathBuf, pass: String, got_w: usize, got_h: usize, want_w: usize, want_h: usize },
    #[error("{path}: {pass} has {count} NaN or infinite values (first at x={x}, y={y}); fix the render or clamp it before denoising")]
    NonFinite { path: PathBuf, pass: String, count: usize, x: usize, y: usize },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("{path}: refusing to overwrite an input file; choose another output name or --out-dir")]
    WouldOverwriteInput { path: PathBuf },
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
}

/// One named EXR channel, kept so an EXR written back carries every pass of the input.
#[derive(Debug, Clone)]
pub struct ExrChannel {
    pub name: String,
    pub half: bool,
    pub data: Vec<f32>,
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

    /// Rejects NaN and infinite values in every pass the denoiser reads.
    pub fn check_finite(&self, path: &Path) -> Result<(), FrameError> {
        let passes = [("colour", Some(&self.color)), ("albedo", self.albedo.as_ref()), ("normal", self.normal.as_ref())];
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

/// Reads a frame, with its albedo/normal passes when the file carries them.
pub fn read_frame(path: &Path) -> Result<Frame, FrameError> {
    let format = FileFormat::from_path(path).ok_or_else(|| FrameError::Unsupported { path: path.to_path_buf() })?;
    if !path.is_file() {
        return Err(FrameError::Read { path: path.to_path_buf(), reason: "no such file".into() });
    }
    let frame = match format {
        FileFormat::Exr => read_exr(path)?,
        FileFormat::Pfm => read_pfm(path)?,
        FileFormat::Hdr | FileFormat::Png | FileFormat::Tiff => read_with_image(path, format)?,
    };
    Ok(frame)
}

/// Reads an auxiliary pass (albedo or normal) from a side file: its colour channels are the pass.
pub fn read_side_pass(path: &Path, pass: &str, width: usize, height: usize) -> Result<Vec<f32>, FrameError> {
    let side = read_frame(path)?;
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

fn read_exr(path: &Path) -> Result<Frame, FrameError> {
    let image = ex::read()
        .no_deep_data()
        .largest_resolution_level()
        .all_channels()
        .all_layers()
        .all_attributes()
        .from_file(path)
        .map_err(|e| FrameError::Corrupt { path: path.to_path_buf(), format: "OpenEXR", reason: e.to_string() })?;

    // Flatten every layer into full channel names ("ViewLayer.Combined.R"), remembering sizes.
    let mut channels: Vec<(ExrChannel, (usize, usize))> = Vec::new();
    for layer in &image.layer_data {
        let prefix = layer.attributes.layer_name.as_ref().map(|n| format!("{n}.")).unwrap_or_default();
        for ch in &layer.channel_data.list {
            let half = matches!(ch.sample_data, ex::FlatSamples::F16(_));
            channels.push((
                ExrChannel { name: format!("{prefix}{}", ch.name), half, data: ch.sample_data.values_as_f32().collect() },
                (layer.size.0, layer.size.1),
            ));
        }
    }
    let names: Vec<&str> = channels.iter().map(|(c, _)| c.name.as_str()).collect();
    let Some(color_idx) = find_group(&names, &COLOR_LAYERS, ["R", "G", "B"]) else {
        return Err(FrameError::NoColor { path: path.to_path_buf(), channels: names.join(", ") });
    };
    let (width, height) = channels[color_idx[0]].1;
    let gather = |idx: [usize; 3], pass: &str| -> Result<Vec<f32>, FrameError> {
        for &i in &idx {
            let (w, h) = channels[i].1;
            if (w, h) != (width, height) {
                return Err(FrameError::SizeMismatch {
                    path: path.to_path_buf(),
                    pass: pass.into(),
                    got_w: w,
                    got_h: h,
                    want_w: width,
                    want_h: height,
                });
            }
        }
        Ok(interleave(&channels[idx[0]].0.data, &channels[idx[1]].0.data, &channels[idx[2]].0.data))
    };
    let color = gather(color_idx, "colour")?;
    let albedo = find_group(&names, &ALBEDO_LAYERS, ["R", "G", "B"]).map(|i| gather(i, "albedo")).transpose()?;
    let normal = find_group(&names, &NORMAL_LAYERS, ["X", "Y", "Z"])
        .or_else(|| find_group(&names, &NORMAL_LAYERS, ["R", "G", "B"]))
        .map(|i| gather(i, "normal"))
        .transpose()?;
    let color_prefix = channels[color_idx[0]].0.name.trim_end_matches('R').to_string();
    let alpha = names
        .iter()
        .position(|n| *n == format!("{color_prefix}A"))
        .filter(|&i| channels[i].1 == (width, height))
        .map(|i| channels[i].0.data.clone());
    let wide = channels[color_idx[0]].0.half;
    let color_names = color_idx.map(|i| channels[i].0.name.clone());
    Ok(Frame {
        width,
        height,
        color,
        alpha,
        albedo,
        normal,
        encoding: Encoding::Linear,
        format: FileFormat::Exr,
        wide,
        exr_channels: channels.into_iter().map(|(c, _)| c).collect(),
        exr_color_names: Some(color_names),
    })
}

/// Layer names, most specific first. "" is a plain R,G,B image.
const COLOR_LAYERS: [&str; 6] = ["Combined", "", "Image", "rgba", "beauty", "RGBA"];
const ALBEDO_LAYERS: [&str; 3] = ["Denoising Albedo", "albedo", "Albedo"];
const NORMAL_LAYERS: [&str; 4] = ["Denoising Normal", "normal", "Normal", "N"];

/// Finds three channels `<anything.>LAYER.C` for C in `comps`, for the first layer name that has
/// all three. Blender prefixes the view layer ("ViewLayer.Combined.R").
fn find_group(names: &[&str], layers: &[&str], comps: [&str; 3]) -> Option<[usize; 3]> {
    for layer in layers {
        let matches_comp = |name: &str, comp: &str| -> bool {
            let Some(stem) = name.strip_suffix(comp) else { return false };
            if layer.is_empty() {
                return stem.is_empty();
            }
            let Some(stem) = stem.strip_suffix('.') else { return false };
            stem == *layer || stem.ends_with(&format!(".{layer}"))
        };
        let find = |comp: &str| names.iter().position(|n| matches_comp(n, comp));
        if let (Some(r), Some(g), Some(b)) = (find(comps[0]), find(comps[1]), find(comps[2])) {
            return Some([r, g, b]);
        }
    }
    None
}

fn interleave(r: &[f32], g: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(r.len() * 3);
    for i in 0..r.len() {
        out.extend_from_slice(&[r[i], g[i], b[i]]);
    }
    out
}

fn read_pfm(path: &Path) -> Result<Frame, FrameError> {
    let corrupt = |reason: &str| FrameError::Corrupt { path: path.to_path_buf(), format: "PFM", reason: reason.into() };
    let file = fs::File::open(path).map_err(|e| FrameError::Read { path: path.to_path_buf(), reason: e.to_string() })?;
    let mut reader = BufReader::new(file);
    let mut header = Vec::new();
    // Three whitespace-separated header lines: "PF"/"Pf", "W H", scale (negative = little endian).
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|_| corrupt("unreadable header"))?;
        header.push(line.trim().to_string());
    }
    let channels = match header[0].as_str() {
        "PF" => 3,
        "Pf" => 1,
        _ => return Err(corrupt("missing PF/Pf magic")),
    };
    let dims: Vec<usize> = header[1].split_whitespace().filter_map(|v| v.parse().ok()).collect();
    let [width, height] = dims[..] else { return Err(corrupt("bad size line")) };
    let scale: f32 = header[2].parse().map_err(|_| corrupt("bad scale line"))?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|_| corrupt("unreadable pixels"))?;
    let count = width * height * channels;
    if width == 0 || height == 0 || bytes.len() < count * 4 {
        return Err(corrupt(&format!("expected {} bytes of pixels, found {}", count * 4, bytes.len())));
    }
    let mut color = vec![0.0f32; width * height * 3];
    for y in 0..height {
        // PFM stores rows bottom to top.
        let src_row = height - 1 - y;
        for x in 0..width {
            for c in 0..3 {
                let src_c = if channels == 3 { c } else { 0 };
                let at = ((src_row * width + x) * channels + src_c) * 4;
                let raw = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
                color[(y * width + x) * 3 + c] = if scale < 0.0 { f32::from_le_bytes(raw) } else { f32::from_be_bytes(raw) };
            }
        }
    }
    Ok(Frame::new_rgb(width, height, color, Encoding::Linear, FileFormat::Pfm))
}

fn read_with_image(path: &Path, format: FileFormat) -> Result<Frame, FrameError> {
    let name = match format {
        FileFormat::Hdr => "Radiance HDR",
        FileFormat::Png => "PNG",
        _ => "TIFF",
    };
    let img = image::ImageReader::open(path)
        .map_err(|e| FrameError::Read { path: path.to_path_buf(), reason: e.to_string() })?
        .with_guessed_format()
        .map_err(|e| FrameError::Read { path: path.to_path_buf(), reason: e.to_string() })?
        .decode()
        .map_err(|e| FrameError::Corrupt { path: path.to_path_buf(), format: name, reason: e.to_string() })?;
    use image::DynamicImage as D;
    let float = matches!(img, D::ImageRgb32F(_) | D::ImageRgba32F(_));
    let wide = !matches!(img, D::ImageLuma8(_) | D::ImageLumaA8(_) | D::ImageRgb8(_) | D::ImageRgba8(_));
    let has_alpha = img.color().has_alpha();
    let (width, height) = (img.width() as usize, img.height() as usize);
    let rgba = img.into_rgba32f();
    let mut color = Vec::with_capacity(width * height * 3);
    let mut alpha = Vec::with_capacity(width * height);
    for p in rgba.pixels() {
        color.extend_from_slice(&p.0[..3]);
        alpha.push(p.0[3]);
    }
    let encoding = if float { Encoding::Linear } else { Encoding::Srgb };
    let mut frame = Frame::new_rgb(width, height, color, encoding, format);
    frame.wide = wide;
    frame.alpha = has_alpha.then_some(alpha);
    Ok(frame)
}

/// Writes `frame` to `path` in the format its extension names, through a temporary file in the
/// same folder renamed into place, so a crash never leaves a half-written output.
pub fn write_frame_atomic(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    let format = FileFormat::from_path(path).ok_or_else(|| FrameError::Unsupported { path: path.to_path_buf() })?;
    crate::atomic_file::write_atomic(path, |tmp| match format {
        FileFormat::Exr => write_exr(frame, tmp),
        FileFormat::Pfm => write_pfm(frame, tmp),
        _ => write_with_image(frame, tmp, format),
    })
    .map_err(|reason| FrameError::Write { path: path.to_path_buf(), reason })
}

/// Colour as linear values, for the float formats (EXR, PFM).
fn linear_color(frame: &Frame) -> std::borrow::Cow<'_, [f32]> {
    match frame.encoding {
        Encoding::Linear => std::borrow::Cow::Borrowed(&frame.color),
        Encoding::Srgb => std::borrow::Cow::Owned(frame.color.iter().map(|&v| srgb_to_linear(v)).collect()),
    }
}

fn write_exr(frame: &Frame, path: &Path) -> Result<(), String> {
    let n = frame.pixels();
    let color = linear_color(frame);
    let plane = |c: usize| -> Vec<f32> { (0..n).map(|i| color[i * 3 + c]).collect() };
    // An EXR input comes back with all its passes; only the colour channels are replaced.
    let mut list: Vec<ExrChannel> = match (&frame.exr_color_names, frame.exr_channels.is_empty()) {
        (Some(names), false) => frame
            .exr_channels
            .iter()
            .map(|ch| match names.iter().position(|n| *n == ch.name) {
                Some(c) => ExrChannel { name: ch.name.clone(), half: ch.half, data: plane(c) },
                None => ch.clone(),
            })
            .collect(),
        _ => {
            let mut l: Vec<ExrChannel> = ["R", "G", "B"]
                .iter()
                .enumerate()
                .map(|(c, name)| ExrChannel { name: name.to_string(), half: frame.wide && frame.format == FileFormat::Exr, data: plane(c) })
                .collect();
            if let Some(a) = &frame.alpha {
                l.push(ExrChannel { name: "A".into(), half: l[0].half, data: a.clone() });
            }
            l
        }
    };
    list.retain(|c| c.data.len() == n);
    write_exr_channels(path, frame.width, frame.height, &list)
}

/// Writes channels with full names into one EXR part, ZIP-compressed like Blender's output.
pub fn write_exr_channels(path: &Path, width: usize, height: usize, channels: &[ExrChannel]) -> Result<(), String> {
    let list: ex::SmallVec<[ex::AnyChannel<ex::FlatSamples>; 4]> = channels
        .iter()
        .map(|c| {
            let samples = if c.half {
                ex::FlatSamples::F16(c.data.iter().map(|&v| ex::f16::from_f32(v)).collect())
            } else {
                ex::FlatSamples::F32(c.data.clone())
            };
            ex::AnyChannel::new(c.name.as_str(), samples)
        })
        .collect();
    let layer = ex::Layer::new(
        (width, height),
        ex::LayerAttributes::default(),
        ex::Encoding::SMALL_LOSSLESS,
        ex::AnyChannels::sort(list),
    );
    ex::Image::from_layer(layer).write().to_file(path).map_err(|e| e.to_string())
}

fn write_pfm(frame: &Frame, path: &Path) -> Result<(), String> {
    let mut out = Vec::with_capacity(frame.pixels() * 12 + 32);
    write!(out, "PF\n{} {}\n-1.0\n", frame.width, frame.height).map_err(|e| e.to_string())?;
    let color = linear_color(frame);
    for y in (0..frame.height).rev() {
        for v in &color[y * frame.width * 3..(y + 1) * frame.width * 3] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fs::write(path, out).map_err(|e| e.to_string())
}

fn write_with_image(frame: &Frame, path: &Path, format: FileFormat) -> Result<(), String> {
    let (w, h) = (frame.width as u32, frame.height as u32);
    let alpha = frame.alpha.as_ref();
    // PNG and integer TIFF hold display-encoded values; float formats hold linear ones.
    let target_srgb = format == FileFormat::Png || (format == FileFormat::Tiff && frame.encoding == Encoding::Srgb);
    let encode = |v: f32| match (frame.encoding, target_srgb) {
        (Encoding::Linear, true) => linear_to_srgb(v),
        (Encoding::Srgb, false) => srgb_to_linear(v),
        _ => v,
    };
    let px = |i: usize, c: usize| -> f32 { if c < 3 { encode(frame.color[i * 3 + c]) } else { alpha.map_or(1.0, |a| a[i]) } };
    let channels = if alpha.is_some() { 4 } else { 3 };
    let n = frame.pixels();
    let (img, fmt): (image::DynamicImage, image::ImageFormat) = match format {
        FileFormat::Hdr => {
            let data: Vec<f32> = (0..n).flat_map(|i| (0..3).map(move |c| px(i, c))).collect();
            (image::Rgb32FImage::from_raw(w, h, data).ok_or("bad size")?.into(), image::ImageFormat::Hdr)
        }
        FileFormat::Tiff if frame.encoding == Encoding::Linear => {
            let data: Vec<f32> = (0..n).flat_map(|i| (0..3).map(move |c| px(i, c))).collect();
            (image::Rgb32FImage::from_raw(w, h, data).ok_or("bad size")?.into(), image::ImageFormat::Tiff)
        }
        _ => {
            let fmt = if format == FileFormat::Png { image::ImageFormat::Png } else { image::ImageFormat::Tiff };
            let clamp = |v: f32| v.clamp(0.0, 1.0);
            if frame.wide {
                let data: Vec<u16> =
                    (0..n).flat_map(|i| (0..channels).map(move |c| (clamp(px(i, c)) * 65535.0).round() as u16)).collect();
                let img: image::DynamicImage = if channels == 4 {
                    image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(w, h, data).ok_or("bad size")?.into()
                } else {
                    image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(w, h, data).ok_or("bad size")?.into()
                };
                (img, fmt)
            } else {
                let data: Vec<u8> =
                    (0..n).flat_map(|i| (0..channels).map(move |c| (clamp(px(i, c)) * 255.0).round() as u8)).collect();
                let img: image::DynamicImage = if channels == 4 {
                    image::RgbaImage::from_raw(w, h, data).ok_or("bad size")?.into()
                } else {
                    image::RgbImage::from_raw(w, h, data).ok_or("bad size")?.into()
                };
                (img, fmt)
            }
        }
    };
    let mut file = std::io::BufWriter::new(fs::File::create(path).map_err(|e| e.to_string())?);
    img.write_to(&mut file, fmt).map_err(|e| e.to_string())?;
    file.flush().map_err(|e| e.to_string())
}

pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
}

pub fn linear_to_srgb(v: f32) -> f32 {
    let v = v.max(0.0);
    if v <= 0.0031308 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
}

/// True when `output` is the same file as one of `inputs` (compared after resolving links).
pub fn is_same_file(output: &Path, input: &Path) -> bool {
    match (fs::canonicalize(output), fs::canonicalize(input)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: usize, h: usize) -> Vec<f32> {
        (0..w * h * 3).map(|i| (i % 97) as f32 / 40.0).collect()
    }

    #[test]
    fn pfm_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pfm");
        let f = Frame::new_rgb(5, 3, ramp(5, 3), Encoding::Linear, FileFormat::Pfm);
        write_frame_atomic(&f, &path).unwrap();
        let g = read_frame(&path).unwrap();
        assert_eq!((g.width, g.height), (5, 3));
        assert_eq!(g.color, f.color);
    }

    #[test]
    fn blender_multilayer_exr_passes_are_found_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (w, h) = (4, 2);
        let plane = |v: f32| vec![v; w * h];
        let mut chans = Vec::new();
        for (c, v) in [("R", 1.0), ("G", 2.0), ("B", 3.0), ("A", 1.0)] {
            chans.push(ExrChannel { name: format!("ViewLayer.Combined.{c}"), half: true, data: plane(v) });
        }
        for (c, v) in [("R", 0.25), ("G", 0.5), ("B", 0.75)] {
            chans.push(ExrChannel { name: format!("ViewLayer.Denoising Albedo.{c}"), half: true, data: plane(v) });
        }
        for (c, v) in [("X", 0.0), ("Y", 1.0), ("Z", 0.0)] {
            chans.push(ExrChannel { name: format!("ViewLayer.Denoising Normal.{c}"), half: true, data: plane(v) });
        }
        chans.push(ExrChannel { name: "ViewLayer.Denoising Depth.Z".into(), half: true, data: plane(7.0) });
        let path = dir.path().join("shot.exr");
        write_exr_channels(&path, w, h, &chans).unwrap();

        let mut f = read_frame(&path).unwrap();
        assert_eq!(&f.color[..3], &[1.0, 2.0, 3.0]);
        assert_eq!(&f.albedo.as_ref().unwrap()[..3], &[0.25, 0.5, 0.75]);
        assert_eq!(&f.normal.as_ref().unwrap()[..3], &[0.0, 1.0, 0.0]);
        assert!(f.wide, "half input is written back as half");

        f.color.iter_mut().for_each(|v| *v = 0.5);
        let out = dir.path().join("out.exr");
        write_frame_atomic(&f, &out).unwrap();
        let g = read_frame(&out).unwrap();
        assert_eq!(&g.color[..3], &[0.5, 0.5, 0.5]);
        assert!(g.exr_channels.iter().any(|c| c.name == "ViewLayer.Denoising Depth.Z"), "other passes survive");
    }

    #[test]
    fn exr_without_colour_names_its_channels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("depth.exr");
        write_exr_channels(&path, 2, 2, &[ExrChannel { name: "Z".into(), half: false, data: vec![1.0; 4] }]).unwrap();
        let err = read_frame(&path).unwrap_err().to_string();
        assert!(err.contains("depth.exr") && err.contains("no colour channels") && err.contains("Z"), "{err}");
    }

    #[test]
    fn png_is_srgb_and_16_bit_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut f = Frame::new_rgb(3, 2, vec![0.5; 18], Encoding::Srgb, FileFormat::Png);
        f.wide = true;
        write_frame_atomic(&f, &path).unwrap();
        let g = read_frame(&path).unwrap();
        assert_eq!(g.encoding, Encoding::Srgb);
        assert!(g.wide);
        assert!((g.color[0] - 0.5).abs() < 1e-4);
    }

    #[test]
    fn corrupt_and_truncated_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["bad.exr", "bad.png", "bad.pfm", "bad.hdr", "bad.tif"] {
            let path = dir.path().join(name);
            fs::write(&path, b"this is not an image at all").unwrap();
            let err = read_frame(&path).unwrap_err().to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
        let err = read_frame(&dir.path().join("a.jpg")).unwrap_err().to_string();
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
    fn srgb_conversions_invert() {
        for v in [0.0, 0.002, 0.2, 0.8, 1.0] {
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-5);
        }
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
