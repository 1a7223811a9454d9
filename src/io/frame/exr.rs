//! OpenEXR frames: single- and multilayer, half and float, with Blender's passes found by name.
//! Every channel of an input is kept, so an EXR written back carries all passes of the input.

use std::io;
use std::path::Path;

use ::exr::prelude as ex;
use ::exr::prelude::traits::*;

use super::{Encoding, FileFormat, Frame, FrameError};
use crate::io::limits::{check_exr, contain_panics, DecodeLimits, Malformed, ProbeError};

/// One named EXR channel, kept so an EXR written back carries every pass of the input.
#[derive(Debug, Clone)]
pub struct ExrChannel {
    pub name: String,
    pub half: bool,
    pub data: Vec<f32>,
}

/// One layer of an EXR file: its name (none in a plain image), its size and its channels, named
/// without the layer's prefix.
#[derive(Debug, Clone)]
pub struct ExrLayer {
    pub name: Option<String>,
    pub width: usize,
    pub height: usize,
    pub channels: Vec<ExrChannel>,
}

/// Reads every layer of a flat EXR, its headers checked against `limits` first; a decoder panic
/// on a damaged file is a refusal. The one EXR reader of frames and texture maps.
pub fn read_exr_layers(path: &Path, limits: &DecodeLimits) -> Result<Vec<ExrLayer>, ProbeError> {
    check_exr(path, limits)?;
    let read = || {
        ex::read()
            .no_deep_data()
            .largest_resolution_level()
            .all_channels()
            .all_layers()
            .all_attributes()
            .from_file(path)
    };
    let image = contain_panics(read)?.map_err(Malformed::Exr)?;
    let layer = |layer: &ex::Layer<ex::AnyChannels<ex::FlatSamples>>| ExrLayer {
        name: layer.attributes.layer_name.as_ref().map(|n| n.to_string()),
        width: layer.size.0,
        height: layer.size.1,
        channels: layer
            .channel_data
            .list
            .iter()
            .map(|ch| ExrChannel {
                name: ch.name.to_string(),
                half: matches!(ch.sample_data, ex::FlatSamples::F16(_)),
                data: ch.sample_data.values_as_f32().collect(),
            })
            .collect(),
    };
    Ok(image.layer_data.iter().map(layer).collect())
}

pub(super) fn read_exr(path: &Path, limits: &DecodeLimits) -> Result<Frame, FrameError> {
    let layers = read_exr_layers(path, limits).map_err(|e| FrameError::probe(path, "OpenEXR", e))?;
    // Flatten every layer into full channel names ("ViewLayer.Combined.R"), remembering sizes.
    let mut channels: Vec<(ExrChannel, (usize, usize))> = Vec::new();
    for layer in layers {
        let prefix = layer.name.map(|n| format!("{n}.")).unwrap_or_default();
        for ch in layer.channels {
            channels.push((ExrChannel { name: format!("{prefix}{}", ch.name), ..ch }, (layer.width, layer.height)));
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

pub(super) fn write_exr(frame: &Frame, path: &Path) -> io::Result<()> {
    let n = frame.pixels();
    let color = frame.linear_color();
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
                .map(|(c, name)| ExrChannel {
                    name: name.to_string(),
                    half: frame.wide && frame.format == FileFormat::Exr,
                    data: plane(c),
                })
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
pub fn write_exr_channels(path: &Path, width: usize, height: usize, channels: &[ExrChannel]) -> io::Result<()> {
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
    ex::Image::from_layer(layer).write().to_file(path).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::super::{read_frame, write_frame_atomic};
    use super::*;
    use crate::io::limits::DecodeLimits;

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

        let mut f = read_frame(&path, &DecodeLimits::default()).unwrap();
        assert_eq!(&f.color[..3], &[1.0, 2.0, 3.0]);
        assert_eq!(&f.albedo.as_ref().unwrap()[..3], &[0.25, 0.5, 0.75]);
        assert_eq!(&f.normal.as_ref().unwrap()[..3], &[0.0, 1.0, 0.0]);
        assert!(f.wide, "half input is written back as half");

        f.color.iter_mut().for_each(|v| *v = 0.5);
        let out = dir.path().join("out.exr");
        write_frame_atomic(&f, &out).unwrap();
        let g = read_frame(&out, &DecodeLimits::default()).unwrap();
        assert_eq!(&g.color[..3], &[0.5, 0.5, 0.5]);
        assert!(g.exr_channels.iter().any(|c| c.name == "ViewLayer.Denoising Depth.Z"), "other passes survive");
    }

    #[test]
    fn exr_without_colour_names_its_channels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("depth.exr");
        write_exr_channels(&path, 2, 2, &[ExrChannel { name: "Z".into(), half: false, data: vec![1.0; 4] }]).unwrap();
        let err = read_frame(&path, &DecodeLimits::default()).unwrap_err().to_string();
        assert!(err.contains("depth.exr") && err.contains("no colour channels") && err.contains("Z"), "{err}");
    }
}
