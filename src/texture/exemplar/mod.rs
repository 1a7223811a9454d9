//! Variations of an artist's own material: a material set in ([`set`], its maps read with their
//! bit depth and format kept by [`crate::texture::map`]), one seeded synthesis of a source-coordinate map
//! ([`synthesis`], [`coords`]), and every map of the set resampled through that one map, so
//! colour, normal, roughness and height stay in step. Normal maps are renormalised in vector
//! space after resampling; every other map's samples are copied as they are.

use std::path::PathBuf;

use crate::texture::map::{renormalise, Map, MapError, MapKind};

pub mod coords;
pub mod set;
pub mod synthesis;

pub use coords::CoordMap;
pub use set::{MaterialSet, SetMap};
pub use synthesis::{Analysis, Variation};

#[derive(Debug, thiserror::Error)]
pub enum ExemplarError {
    /// A file of the set (or a coordinate map) that cannot be read.
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("{what}: no map found; name files like Rock_Color.png, Rock_NormalGL.png or pass --map KIND=FILE")]
    NoMaps { what: String },
    #[error("two {kind} maps: {first} and {second}; name the one to use with --map {kind}=FILE")]
    TwoMaps { kind: String, first: PathBuf, second: PathBuf },
    #[error("the maps of one set must have one size: {sizes}; resize them to one size first")]
    Sizes { sizes: String },
    #[error("{path}: not a coordinate map ({why}); write one with `latentforge texture vary --save-coords`")]
    NotCoordMap { path: PathBuf, why: String },
    #[error("{path}: {width}x{height} is too small to sample from: each side needs at least {min} pixels")]
    TooSmall { path: PathBuf, width: usize, height: usize, min: usize },
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
