//! One map of a material set as its file holds it: 1-4 channels of 8/16-bit integers, half or
//! float samples, so a map resampled through a coordinate map is written back with the bit depth
//! and format it came in (an 8-bit colour map stays 8-bit, a float height EXR stays linear
//! float). Headers are checked against the decode limits before any pixel buffer exists.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use half::f16;
use rayon::prelude::*;

use super::{MapError, MapKind};
use crate::io::atomic::write_atomic;
use crate::io::frame::{read_exr_layers, write_exr_channels, Encoding, ExrChannel};
use crate::io::limits::{contain_panics, open_image, DecodeLimits, Malformed, ProbeError};
use crate::io::transfer::{linear_to_srgb, srgb_to_linear};
use crate::texture::Texture;

/// The samples of a map, interleaved by pixel.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F16(Vec<f16>),
    F32(Vec<f32>),
}

/// The file kind a map is written back as. JPEG inputs come back as PNG: a variation is not
/// compressed a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Png,
    Tiff,
    Exr,
}

impl Container {
    pub fn extension(self) -> &'static str {
        match self {
            Container::Png => "png",
            Container::Tiff => "tif",
            Container::Exr => "exr",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub width: usize,
    pub height: usize,
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    pub samples: Samples,
    pub container: Container,
    /// EXR channel names in sample order (empty for other files).
    pub exr_names: Vec<String>,
}

fn corrupt(path: &Path, why: impl Into<Malformed>) -> MapError {
    MapError::Corrupt { path: path.to_path_buf(), source: why.into() }
}

/// A refused header probe as an exemplar error for `path`.
fn probe_error(path: &Path, e: ProbeError) -> MapError {
    match e {
        ProbeError::Io(source) => MapError::Read { path: path.to_path_buf(), source },
        ProbeError::Corrupt(why) => corrupt(path, why),
        ProbeError::Over(e) => e.into(),
    }
}

impl Map {
    /// Reads PNG, JPEG, TIFF or EXR, checking the header's size against `limits` first.
    pub fn read(path: &Path, limits: &DecodeLimits) -> Result<Map, MapError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if !path.is_file() {
            return Err(MapError::Missing { path: path.to_path_buf() });
        }
        let map = match ext.as_str() {
            "exr" => read_exr(path, limits)?,
            "png" | "jpg" | "jpeg" | "tif" | "tiff" => read_raster(path, limits)?,
            _ => return Err(MapError::Unsupported { path: path.to_path_buf() }),
        };
        if map.width == 0 || map.height == 0 {
            return Err(corrupt(path, Malformed::header("the image is empty (0 pixels)")));
        }
        Ok(map)
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// Sample `i` as a float: integers scaled to 0..1, half and float as stored.
    pub fn value(&self, i: usize) -> f32 {
        match &self.samples {
            Samples::U8(v) => v[i] as f32 / 255.0,
            Samples::U16(v) => v[i] as f32 / 65535.0,
            Samples::F16(v) => v[i].to_f32(),
            Samples::F32(v) => v[i],
        }
    }

    /// Every pixel's first three channels (grey repeated) as floats: what metrics and sheets see.
    pub fn rgb(&self) -> Vec<f32> {
        let ch = self.channels;
        let mut out = Vec::with_capacity(self.pixels() * 3);
        for p in 0..self.pixels() {
            for c in 0..3 {
                let c = if ch < 3 { 0 } else { c };
                out.push(self.value(p * ch + c));
            }
        }
        out
    }

    /// The map as an sRGB picture (first three channels) for sheets, metrics and checks: a
    /// colour map in EXR holds linear values and is encoded; any other map is shown as it is.
    pub fn picture(&self, kind: &MapKind) -> Texture {
        let mut rgb = self.rgb();
        if kind.is_srgb() && self.container == Container::Exr {
            rgb.iter_mut().for_each(|v| *v = linear_to_srgb(*v).clamp(0.0, 1.0));
        }
        Texture { width: self.width, height: self.height, rgb, encoding: Encoding::Srgb }
    }

    /// Replaces every pixel's first three channels by `f` of them (as floats), stored back in
    /// this map's sample type: what renormalising a normal map needs.
    pub fn map_rgb(&mut self, f: impl Fn([f32; 3]) -> [f32; 3] + Sync) {
        let ch = self.channels;
        if ch < 3 {
            return;
        }
        fn apply<T: Copy + Send>(
            v: &mut [T],
            ch: usize,
            get: impl Fn(T) -> f32 + Sync,
            put: impl Fn(f32) -> T + Sync,
            f: &(impl Fn([f32; 3]) -> [f32; 3] + Sync),
        ) {
            v.par_chunks_mut(ch * 4096).for_each(|chunk| {
                for px in chunk.chunks_exact_mut(ch) {
                    let out = f([get(px[0]), get(px[1]), get(px[2])]);
                    for c in 0..3 {
                        px[c] = put(out[c]);
                    }
                }
            });
        }
        match &mut self.samples {
            Samples::U8(v) => apply(v, ch, |s| s as f32 / 255.0, |x| (x.clamp(0.0, 1.0) * 255.0).round() as u8, &f),
            Samples::U16(v) => {
                apply(v, ch, |s| s as f32 / 65535.0, |x| (x.clamp(0.0, 1.0) * 65535.0).round() as u16, &f)
            }
            Samples::F16(v) => apply(v, ch, f16::to_f32, f16::from_f32, &f),
            Samples::F32(v) => apply(v, ch, |s| s, |x| x, &f),
        }
    }

    /// This map in another container: integer samples become float in EXR (sRGB colour made
    /// linear when `srgb`), float samples become 16-bit in PNG/TIFF (clamped to 0..1, linear
    /// colour made sRGB). `bits` forces 8 or 16 bits in PNG/TIFF.
    pub fn converted(&self, container: Container, bits: Option<u8>, srgb: bool) -> Map {
        let float_now = matches!(self.samples, Samples::F16(_) | Samples::F32(_));
        let n = self.pixels() * self.channels;
        let colour = |i: usize| srgb && (self.channels < 3 || i % self.channels < 3);
        let samples = match container {
            Container::Exr if float_now => self.samples.clone(),
            Container::Exr => Samples::F32(
                (0..n).map(|i| if colour(i) { srgb_to_linear(self.value(i)) } else { self.value(i) }).collect(),
            ),
            _ => {
                let unit = |i: usize| {
                    let v = self.value(i);
                    (if float_now && colour(i) { linear_to_srgb(v) } else { v }).clamp(0.0, 1.0)
                };
                let want = bits.unwrap_or(match self.samples {
                    Samples::U8(_) => 8,
                    _ => 16,
                });
                match (&self.samples, want) {
                    (Samples::U8(_), 8) | (Samples::U16(_), 16) => self.samples.clone(),
                    (_, 8) => Samples::U8((0..n).map(|i| (unit(i) * 255.0).round() as u8).collect()),
                    _ => Samples::U16((0..n).map(|i| (unit(i) * 65535.0).round() as u16).collect()),
                }
            }
        };
        let exr_names = if container == Container::Exr && self.exr_names.len() != self.channels {
            default_exr_names(self.channels)
        } else {
            self.exr_names.clone()
        };
        Map { samples, container, exr_names, ..self.clone() }
    }

    /// Writes the map atomically as its container says; `path`'s extension must match it.
    pub fn write(&self, path: &Path) -> Result<(), MapError> {
        let err = |source: io::Error| MapError::Write { path: path.to_path_buf(), source };
        match (self.container, &self.samples) {
            (Container::Exr, _) => {
                let ch = self.channels;
                let names = if self.exr_names.len() == ch { self.exr_names.clone() } else { default_exr_names(ch) };
                let planes: Vec<ExrChannel> = (0..ch)
                    .map(|c| ExrChannel {
                        name: names[c].clone(),
                        half: matches!(self.samples, Samples::F16(_)),
                        data: (0..self.pixels()).map(|p| self.value(p * ch + c)).collect(),
                    })
                    .collect();
                write_atomic(path, |tmp| write_exr_channels(tmp, self.width, self.height, &planes)).map_err(err)
            }
            (_, Samples::F16(_)) => self.converted(self.container, Some(16), false).write(path),
            _ => write_atomic(path, |tmp| self.write_raster(tmp)).map_err(err),
        }
    }

    fn write_raster(&self, path: &Path) -> io::Result<()> {
        use image::{DynamicImage as D, ImageBuffer as B};
        let (w, h) = (self.width as u32, self.height as u32);
        let bad = || io::Error::other("pixel buffer does not match the map size");
        let img: D = match (&self.samples, self.channels) {
            (Samples::U8(v), 1) => D::ImageLuma8(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U8(v), 2) => D::ImageLumaA8(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U8(v), 3) => D::ImageRgb8(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U8(v), _) => D::ImageRgba8(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U16(v), 1) => D::ImageLuma16(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U16(v), 2) => D::ImageLumaA16(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U16(v), 3) => D::ImageRgb16(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::U16(v), _) => D::ImageRgba16(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::F32(v), 4) => D::ImageRgba32F(B::from_raw(w, h, v.clone()).ok_or_else(bad)?),
            (Samples::F32(v), _) => {
                let rgb: Vec<f32> = (0..self.pixels())
                    .flat_map(|p| (0..3).map(move |c| v[p * self.channels + c.min(self.channels - 1)]))
                    .collect();
                D::ImageRgb32F(B::from_raw(w, h, rgb).ok_or_else(bad)?)
            }
            (Samples::F16(_), _) => return Err(io::Error::other("half samples are written as EXR")),
        };
        let format = if self.container == Container::Tiff { image::ImageFormat::Tiff } else { image::ImageFormat::Png };
        let mut file = io::BufWriter::new(fs::File::create(path)?);
        img.write_to(&mut file, format).map_err(io::Error::other)?;
        file.flush()
    }
}

fn default_exr_names(channels: usize) -> Vec<String> {
    let names: &[&str] = match channels {
        1 => &["Y"],
        2 => &["Y", "A"],
        3 => &["R", "G", "B"],
        _ => &["R", "G", "B", "A"],
    };
    names.iter().map(|s| s.to_string()).collect()
}

fn read_raster(path: &Path, limits: &DecodeLimits) -> Result<Map, MapError> {
    let reader = open_image(path, limits).map_err(|e| probe_error(path, e))?;
    let container = match reader.format() {
        Some(image::ImageFormat::Tiff) => Container::Tiff,
        _ => Container::Png,
    };
    let img = contain_panics(|| reader.decode()).map_err(|e| probe_error(path, e))?.map_err(|e| corrupt(path, e))?;
    let (w, h) = (img.width(), img.height());
    use image::DynamicImage as D;
    let channels = img.color().channel_count() as usize;
    let samples = match img {
        D::ImageLuma8(b) => Samples::U8(b.into_raw()),
        D::ImageLumaA8(b) => Samples::U8(b.into_raw()),
        D::ImageRgb8(b) => Samples::U8(b.into_raw()),
        D::ImageRgba8(b) => Samples::U8(b.into_raw()),
        D::ImageLuma16(b) => Samples::U16(b.into_raw()),
        D::ImageLumaA16(b) => Samples::U16(b.into_raw()),
        D::ImageRgb16(b) => Samples::U16(b.into_raw()),
        D::ImageRgba16(b) => Samples::U16(b.into_raw()),
        D::ImageRgb32F(b) => Samples::F32(b.into_raw()),
        D::ImageRgba32F(b) => Samples::F32(b.into_raw()),
        other => Samples::F32(other.into_rgba32f().into_raw()),
    };
    let channels = match &samples {
        Samples::F32(v) if v.len() == w as usize * h as usize * 4 => 4,
        _ => channels,
    };
    Ok(Map { width: w as usize, height: h as usize, channels, samples, container, exr_names: Vec::new() })
}

/// The channels an EXR map is read as: R,G,B(,A) when present (with any layer prefix), else
/// the one channel of a grey map (Y, Z, or whatever the single channel is called).
fn read_exr(path: &Path, limits: &DecodeLimits) -> Result<Map, MapError> {
    let layers = read_exr_layers(path, limits).map_err(|e| probe_error(path, e))?;
    let Some(layer) = layers.into_iter().next() else {
        return Err(corrupt(path, Malformed::header("no layers")));
    };
    let list = &layer.channels;
    let name = |i: usize| list[i].name.clone();
    let find = |c: &str| (0..list.len()).find(|&i| name(i) == c || name(i).ends_with(&format!(".{c}")));
    let order: Vec<usize> = match (find("R"), find("G"), find("B")) {
        (Some(r), Some(g), Some(b)) => [Some(r), Some(g), Some(b), find("A")].into_iter().flatten().collect(),
        _ if list.len() == 1 => vec![0],
        _ => {
            let names: Vec<String> = (0..list.len()).map(name).collect();
            let found = format!("expected R,G,B or one channel, found {}", names.join(", "));
            return Err(corrupt(path, Malformed::header(found)));
        }
    };
    let half = order.iter().all(|&i| list[i].half);
    let planes: Vec<&[f32]> = order.iter().map(|&i| list[i].data.as_slice()).collect();
    let (w, h, ch) = (layer.width, layer.height, planes.len());
    let interleaved = (0..w * h).flat_map(|p| planes.iter().map(move |pl| pl[p]));
    let samples =
        if half { Samples::F16(interleaved.map(f16::from_f32).collect()) } else { Samples::F32(interleaved.collect()) };
    Ok(Map {
        width: w,
        height: h,
        channels: ch,
        samples,
        container: Container::Exr,
        exr_names: order.iter().map(|&i| name(i)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(channels: usize, samples: Samples, container: Container) -> Map {
        Map { width: 5, height: 3, channels, samples, container, exr_names: Vec::new() }
    }

    #[test]
    fn every_sample_type_survives_a_write_and_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let n = 15;
        let maps = [
            ("a.png", ramp(3, Samples::U8((0..n * 3).map(|i| (i * 5) as u8).collect()), Container::Png)),
            ("b.png", ramp(1, Samples::U16((0..n).map(|i| (i * 4000) as u16).collect()), Container::Png)),
            ("c.tif", ramp(4, Samples::U16((0..n * 4).map(|i| (i * 900) as u16).collect()), Container::Tiff)),
            (
                "d.exr",
                ramp(1, Samples::F16((0..n).map(|i| f16::from_f32(i as f32 * 0.37 - 2.0)).collect()), Container::Exr),
            ),
            ("e.exr", ramp(3, Samples::F32((0..n * 3).map(|i| i as f32 * 1.5e-3 - 0.1).collect()), Container::Exr)),
        ];
        for (name, map) in maps {
            let path = dir.path().join(name);
            map.write(&path).unwrap();
            let back = Map::read(&path, &DecodeLimits::default()).unwrap();
            assert_eq!((back.channels, &back.samples), (map.channels, &map.samples), "{name}");
        }
    }
}
