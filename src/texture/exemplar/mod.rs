//! Variations of an artist's own material: a material set in ([`set`], its maps read with their
//! bit depth and format kept, [`map`]), one seeded synthesis of a source-coordinate map
//! ([`synthesis`], [`coords`]), and every map of the set resampled through that one map, so
//! colour, normal, roughness and height stay in step. Normal maps are renormalised in vector
//! space after resampling; every other map's samples are copied as they are.

use std::path::PathBuf;

use crate::io::limits::OverLimit;

pub mod coords;
pub mod map;
pub mod set;
pub mod synthesis;

pub use coords::CoordMap;
pub use map::{Container, Map, Samples};
pub use set::{MapKind, MaterialSet, SetMap};
pub use synthesis::{Analysis, Variation};

#[derive(Debug, thiserror::Error)]
pub enum ExemplarError {
    #[error("{path}: no such file or folder")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: not a readable image ({reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: unsupported file type; use .png, .jpg, .tif, .tiff or .exr")]
    Unsupported { path: PathBuf },
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
    #[error("{what}: no map found; name files like Rock_Color.png, Rock_NormalGL.png or pass --map KIND=FILE")]
    NoMaps { what: String },
    #[error("two {kind} maps: {first} and {second}; name the one to use with --map {kind}=FILE")]
    TwoMaps { kind: String, first: PathBuf, second: PathBuf },
    #[error("the maps of one set must have one size: {sizes}; resize them to one size first")]
    Sizes { sizes: String },
    #[error("{path}: {width}x{height} is too small to sample from: each side needs at least {min} pixels")]
    TooSmall { path: PathBuf, width: usize, height: usize, min: usize },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// `map` resampled through `coords` as a map of `kind`: a normal map is renormalised after
/// resampling (its XY in -1..1 from integer or 0..1-encoded samples, Z kept positive), so every
/// normal of the output is unit length before it is stored.
pub fn remap(kind: &MapKind, map: &Map, coords: &CoordMap) -> Map {
    let mut out = coords.apply(map);
    if let MapKind::Normal(_) = kind {
        renormalise(&mut out);
    }
    out
}

/// Normalises every normal of a map to unit length (a copy may still be off by the input's
/// quantisation). Integer and 0..1 float maps store n * 0.5 + 0.5; a float map with negative
/// values stores n itself.
pub fn renormalise(map: &mut Map) {
    let signed = match &map.samples {
        Samples::F16(_) | Samples::F32(_) => (0..map.pixels() * map.channels).any(|i| map.value(i) < 0.0),
        _ => false,
    };
    map.map_rgb(|rgb| {
        let n = if signed { rgb } else { rgb.map(|v| v * 2.0 - 1.0) };
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        let unit = if len > 1e-6 { n.map(|v| v / len) } else { [0.0, 0.0, 1.0] };
        if signed {
            unit
        } else {
            unit.map(|v| v * 0.5 + 0.5)
        }
    });
}
