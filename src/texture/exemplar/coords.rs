//! The source-coordinate map: for every output pixel, where in the exemplar it comes from. It is
//! what the synthesis makes and what every map of a set is resampled through, and it is an output
//! of its own: saved as a 16-bit PNG (R = u, G = v) or a float EXR, it can be applied later to
//! maps that did not exist yet (`latentforge texture remap`).
//!
//! Coordinates are stored resolution-free, as u = (x + 0.5) / width in 16-bit fixed point, so a
//! saved map applies to a map of the exemplar's size exactly (x comes back as floor(u * width))
//! and to a map of another size by nearest neighbour.

use std::path::Path;

use rayon::prelude::*;

use super::ExemplarError;
use crate::io::limits::DecodeLimits;
use crate::texture::map::{Container, Map, Samples};

/// 16-bit fixed point: 0..=65535 stands for 0..1.
const ONE: u32 = 65535;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordMap {
    pub width: usize,
    pub height: usize,
    /// Per output pixel, row by row: (u, v) in 16-bit fixed point.
    pub uv: Vec<[u16; 2]>,
}

/// The fixed-point coordinate of pixel `x` of `n`: the pixel's centre.
pub fn encode(x: usize, n: usize) -> u16 {
    (((2 * x as u64 + 1) * ONE as u64 + n as u64) / (2 * n as u64)) as u16
}

/// The pixel of `n` that fixed-point coordinate `u` falls in.
pub fn decode(u: u16, n: usize) -> usize {
    ((u as u64 * n as u64) / ONE as u64).min(n as u64 - 1) as usize
}

impl CoordMap {
    /// A coordinate map from exemplar pixels (x, y) of an exemplar `source` = (width, height).
    pub fn from_pixels(width: usize, height: usize, source: (usize, usize), xy: &[[u32; 2]]) -> CoordMap {
        let uv = xy.iter().map(|&[x, y]| [encode(x as usize, source.0), encode(y as usize, source.1)]).collect();
        CoordMap { width, height, uv }
    }

    /// `map` resampled through these coordinates: output pixel p is `map`'s pixel at `self[p]`
    /// (scaled when the map's size differs from the exemplar's). Samples are copied, never
    /// converted, so the output has the map's exact values, bit depth and format.
    pub fn apply(&self, map: &Map) -> Map {
        let lut_x = self.lookup_table(map.width);
        let lut_y = self.lookup_table(map.height);
        let samples = match &map.samples {
            Samples::U8(v) => Samples::U8(gather(v, map, self, &lut_x, &lut_y)),
            Samples::U16(v) => Samples::U16(gather(v, map, self, &lut_x, &lut_y)),
            Samples::F16(v) => Samples::F16(gather(v, map, self, &lut_x, &lut_y)),
            Samples::F32(v) => Samples::F32(gather(v, map, self, &lut_x, &lut_y)),
        };
        Map { width: self.width, height: self.height, samples, ..map.clone() }
    }

    /// Every fixed-point coordinate's pixel in a map `n` pixels across.
    pub fn lookup_table(&self, n: usize) -> Vec<u32> {
        (0..=ONE).map(|u| decode(u as u16, n) as u32).collect()
    }

    /// Output pixel `i`'s source pixel in an exemplar of `source` size.
    pub fn pixel(&self, i: usize, source: (usize, usize)) -> (usize, usize) {
        let [u, v] = self.uv[i];
        (decode(u, source.0), decode(v, source.1))
    }

    /// Translated with wrap-around so that (x, y) becomes the top-left pixel: tiled, the same
    /// pattern, with its edges elsewhere.
    pub fn roll(&mut self, (x, y): (usize, usize)) {
        self.uv.rotate_left((y % self.height) * self.width);
        for row in self.uv.chunks_exact_mut(self.width) {
            row.rotate_left(x % self.width);
        }
    }

    /// Writes the map as a 16-bit PNG (R = u, G = v, B = 0) or, for `.exr`, float u and v.
    pub fn write(&self, path: &Path) -> Result<(), ExemplarError> {
        let exr = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("exr"));
        let map = if exr {
            Map {
                width: self.width,
                height: self.height,
                channels: 3,
                samples: Samples::F32(
                    self.uv.iter().flat_map(|&[u, v]| [u as f32 / ONE as f32, v as f32 / ONE as f32, 0.0]).collect(),
                ),
                container: Container::Exr,
                exr_names: ["R", "G", "B"].map(String::from).to_vec(),
            }
        } else {
            Map {
                width: self.width,
                height: self.height,
                channels: 3,
                samples: Samples::U16(self.uv.iter().flat_map(|&[u, v]| [u, v, 0]).collect()),
                container: Container::Png,
                exr_names: Vec::new(),
            }
        };
        Ok(map.write(path)?)
    }

    /// Reads a map written by [`CoordMap::write`] (16-bit PNG/TIFF or EXR); 8-bit files are
    /// refused, they cannot address more than 256 source pixels.
    pub fn read(path: &Path, limits: &DecodeLimits) -> Result<CoordMap, ExemplarError> {
        let map = Map::read(path, limits)?;
        let bad = |why: &str| ExemplarError::NotCoordMap { path: path.to_path_buf(), why: why.into() };
        if map.channels < 2 {
            return Err(bad("it has one channel; u and v need two"));
        }
        let ch = map.channels;
        let fixed = |i: usize| -> Result<u16, ExemplarError> {
            match &map.samples {
                Samples::U16(s) => Ok(s[i]),
                Samples::U8(_) => Err(bad("8-bit")),
                _ => {
                    let v = map.value(i);
                    if !(0.0..=1.0).contains(&v) {
                        return Err(bad(&format!("value {v} outside 0..1")));
                    }
                    Ok((v * ONE as f32).round() as u16)
                }
            }
        };
        let uv = (0..map.pixels())
            .map(|p| Ok::<_, ExemplarError>([fixed(p * ch)?, fixed(p * ch + 1)?]))
            .collect::<Result<_, _>>()?;
        Ok(CoordMap { width: map.width, height: map.height, uv })
    }
}

/// Output pixel p takes the `ch` samples of source pixel (lut_x[u], lut_y[v]) for p's (u, v).
fn gather<T: Copy + Send + Sync + Default>(src: &[T], map: &Map, coords: &CoordMap, lx: &[u32], ly: &[u32]) -> Vec<T> {
    let ch = map.channels;
    let mut out = vec![T::default(); coords.width * coords.height * ch];
    out.par_chunks_mut(coords.width * ch).enumerate().for_each(|(y, row)| {
        for (x, px) in row.chunks_exact_mut(ch).enumerate() {
            let [u, v] = coords.uv[y * coords.width + x];
            let s = (ly[v as usize] as usize * map.width + lx[u as usize] as usize) * ch;
            px.copy_from_slice(&src[s..s + ch]);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_survive_the_fixed_point_round_trip_at_every_size() {
        for n in [1, 2, 3, 255, 256, 1000, 4096, 8191, 16384] {
            for x in (0..n).step_by((n / 97).max(1)).chain([n - 1]) {
                assert_eq!(decode(encode(x, n), n), x, "{x} of {n}");
            }
        }
    }

    #[test]
    fn saved_maps_read_back_identically_as_png_and_exr() {
        let dir = tempfile::tempdir().unwrap();
        let xy: Vec<[u32; 2]> = (0..12).map(|i| [i * 37 % 300, i * 11 % 200]).collect();
        let c = CoordMap::from_pixels(4, 3, (300, 200), &xy);
        for name in ["c.png", "c.exr"] {
            let path = dir.path().join(name);
            c.write(&path).unwrap();
            assert_eq!(CoordMap::read(&path, &DecodeLimits::default()).unwrap(), c, "{name}");
        }
        let mut rolled = c.clone();
        rolled.roll((1, 2));
        assert_eq!(rolled.uv[0], c.uv[2 * 4 + 1]);
    }
}
