//! Image maps of every kind, as files hold them: [`Map`] keeps a map's channels, sample type
//! (8/16-bit integer, half or float) and container (PNG, TIFF, EXR) from reading to writing;
//! [`MapKind`] says what a map holds. Variations ([`crate::texture::exemplar`]), the material
//! network's maps, `texture remap` and upscaling ([`crate::upscale`]) all read and write maps here.

use std::path::PathBuf;

use crate::io::limits::{Malformed, OverLimit};

mod image;
mod kind;

pub use image::{Container, Map, Samples};
pub use kind::MapKind;

/// A map file that cannot be read or written, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("{path}: no such file or folder")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable image")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: Malformed,
    },
    #[error("{path}: unsupported file type; use .png, .jpg, .tif, .tiff or .exr")]
    Unsupported { path: PathBuf },
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
    #[error("{path}: cannot write")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
