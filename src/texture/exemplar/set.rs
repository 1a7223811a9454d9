//! A material set: the maps of one material (colour, normal, roughness, height, AO, metalness,
//! opacity, or any other map named by hand), recognised by the names ambientCG, Poly Haven,
//! Quixel and Substance give their files, all of one size.

use std::path::{Path, PathBuf};

use super::ExemplarError;
use crate::io::limits::DecodeLimits;
use crate::texture::map::{Map, MapError, MapKind, Samples};

/// One map of a set and the file it came from.
#[derive(Debug, Clone)]
pub struct SetMap {
    pub kind: MapKind,
    pub path: PathBuf,
    pub map: Map,
}

#[derive(Debug, Clone)]
pub struct MaterialSet {
    /// The files' common name (`Rock051_2K` from `Rock051_2K_Color.png`, ...).
    pub name: String,
    pub maps: Vec<SetMap>,
    /// What the reader noticed and a user should hear: files ignored, a normal map that is not one.
    pub warnings: Vec<String>,
}

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "exr"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

impl MaterialSet {
    /// The set at `path` (an image, or a folder holding one material's maps) plus the maps named
    /// by hand, which take precedence over recognised files of the same kind.
    pub fn open(
        path: Option<&Path>,
        by_hand: &[(MapKind, PathBuf)],
        limits: &DecodeLimits,
    ) -> Result<MaterialSet, ExemplarError> {
        let mut warnings = Vec::new();
        let mut found: Vec<(MapKind, PathBuf)> = Vec::new();
        match path {
            Some(dir) if dir.is_dir() => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                    .map_err(|source| MapError::Read { path: dir.to_path_buf(), source })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && is_image(p))
                    .collect();
                files.sort();
                for file in files {
                    match MapKind::from_file_name(&file) {
                        Some(kind) => found.push((kind, file)),
                        None => warnings.push(format!(
                            "{}: ignored (no map name such as _Color, _Normal, _Roughness; name it with --map KIND=FILE)",
                            file.display()
                        )),
                    }
                }
            }
            Some(file) if file.is_file() => {
                found.push((MapKind::from_file_name(file).unwrap_or(MapKind::Color), file.to_path_buf()))
            }
            Some(missing) => return Err(MapError::Missing { path: missing.to_path_buf() }.into()),
            None => {}
        }
        // Maps named by hand replace recognised files of their kind; of two normal maps (ambientCG
        // ships GL and DX) the OpenGL one is kept.
        found.retain(|(kind, _)| !by_hand.iter().any(|(k, _)| same_slot(k, kind)));
        found.extend(by_hand.iter().cloned());
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let mut chosen: Vec<(MapKind, PathBuf)> = Vec::new();
        for (kind, file) in found {
            match chosen.iter().find(|(k, _)| same_slot(k, &kind)) {
                Some((k, kept)) if matches!(k, MapKind::Normal(_)) => warnings.push(format!(
                    "{}: ignored, the set's normal map is {} ({k})",
                    file.display(),
                    kept.display()
                )),
                Some((_, kept)) => {
                    return Err(ExemplarError::TwoMaps { kind: kind.word(), first: kept.clone(), second: file })
                }
                None => chosen.push((kind, file)),
            }
        }
        if chosen.is_empty() {
            let what = path.map_or("no --exemplar".to_string(), |p| p.display().to_string());
            return Err(ExemplarError::NoMaps { what });
        }
        let mut maps = Vec::with_capacity(chosen.len());
        for (kind, file) in chosen {
            let map = Map::read(&file, limits)?;
            maps.push(SetMap { kind, path: file, map });
        }
        let (w, h) = (maps[0].map.width, maps[0].map.height);
        if maps.iter().any(|m| (m.map.width, m.map.height) != (w, h)) {
            let sizes: Vec<String> =
                maps.iter().map(|m| format!("{} {}x{}", m.path.display(), m.map.width, m.map.height)).collect();
            return Err(ExemplarError::Sizes { sizes: sizes.join(", ") });
        }
        for m in maps.iter_mut() {
            if let MapKind::Normal(_) = m.kind {
                if let Some(warning) = check_normal_map(m) {
                    warnings.push(warning);
                    m.kind = MapKind::Other("normal_unchecked".into());
                }
            }
        }
        // Named after the exemplar's own files; maps added by hand (a mask) do not rename it.
        let own: Vec<&Path> =
            maps.iter().filter(|m| !by_hand.iter().any(|(_, f)| *f == m.path)).map(|m| m.path.as_path()).collect();
        let name =
            if own.is_empty() { set_name(maps.iter().map(|m| m.path.as_path())) } else { set_name(own.into_iter()) };
        Ok(MaterialSet { name, maps, warnings })
    }

    pub fn size(&self) -> (usize, usize) {
        (self.maps[0].map.width, self.maps[0].map.height)
    }

    /// What follows the set's name in `map`'s file name (`_Displacement` for
    /// `Rock051_2K_Displacement.png` in set `Rock051_2K`), so a variation keeps the names a
    /// pipeline expects; `_<kind>` for a file not named after the set (a map given by hand, a
    /// lone image).
    pub fn suffix(&self, map: &SetMap) -> String {
        let stem = map.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        match stem.strip_prefix(&self.name) {
            Some(rest) if !rest.is_empty() => rest.to_string(),
            _ => format!("_{}", map.kind.word()),
        }
    }

    pub fn get(&self, kind: &MapKind) -> Option<&SetMap> {
        self.maps.iter().find(|m| same_slot(&m.kind, kind))
    }
}

/// Two kinds that fill the same place in a set (both normal maps, whatever their convention).
fn same_slot(a: &MapKind, b: &MapKind) -> bool {
    matches!((a, b), (MapKind::Normal(_), MapKind::Normal(_))) || a == b
}

/// A tangent-space normal map points mostly along +Z: its mean Z is near 1 (0.8 or more on real
/// maps). One far from it is a height or colour map misnamed, and renormalising it would destroy it.
fn check_normal_map(m: &SetMap) -> Option<String> {
    let map = &m.map;
    if map.channels < 3 {
        return Some(format!("{}: named a normal map but has one channel; resampled as data", m.path.display()));
    }
    let integer = matches!(map.samples, Samples::U8(_) | Samples::U16(_));
    let step = (map.pixels() / 65536).max(1);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for p in (0..map.pixels()).step_by(step) {
        let z = map.value(p * map.channels + 2);
        sum += if integer { z * 2.0 - 1.0 } else { z } as f64;
        n += 1;
    }
    let mean_z = sum / n.max(1) as f64;
    (mean_z < 0.5).then(|| {
        format!(
            "{}: named a normal map, but its mean Z is {mean_z:.2} (a tangent-space normal map's is near 1); resampled as data, not renormalised",
            m.path.display()
        )
    })
}

/// The common start of the files' names without a trailing separator, else the first file's stem.
fn set_name<'a>(paths: impl Iterator<Item = &'a Path>) -> String {
    let stems: Vec<String> = paths.filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from)).collect();
    let first = stems.first().cloned().unwrap_or_else(|| "exemplar".into());
    let mut common = first.clone();
    for s in &stems[1..] {
        let n = common.chars().zip(s.chars()).take_while(|(a, b)| a == b).count();
        common = common.chars().take(n).collect();
    }
    if stems.len() == 1 {
        // One file: drop its kind token (`rock_Color` -> `rock`).
        if let Some(i) = first.rfind(['_', '-']).filter(|_| MapKind::from_file_name(Path::new(&first)).is_some()) {
            common = first[..i].to_string();
        }
    }
    let name = common.trim_end_matches(['_', '-', ' ', '.']).to_string();
    if name.is_empty() {
        first
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texture::map::Container;

    #[test]
    fn the_set_name_is_the_files_common_start() {
        let paths = [Path::new("a/Rock051_2K_Color.png"), Path::new("a/Rock051_2K_NormalGL.png")];
        assert_eq!(set_name(paths.into_iter()), "Rock051_2K");
        assert_eq!(set_name([Path::new("bricks_Color.png")].into_iter()), "bricks");
        assert_eq!(set_name([Path::new("photo.jpg")].into_iter()), "photo");
    }

    #[test]
    fn variations_keep_each_files_own_suffix() {
        let map = |path: &str, kind: MapKind| SetMap {
            kind,
            path: PathBuf::from(path),
            map: Map {
                width: 1,
                height: 1,
                channels: 1,
                samples: Samples::U8(vec![0]),
                container: Container::Png,
                exr_names: vec![],
            },
        };
        let set = MaterialSet { name: "Rock051_2K".into(), maps: vec![], warnings: vec![] };
        assert_eq!(set.suffix(&map("a/Rock051_2K_Displacement.png", MapKind::Height)), "_Displacement");
        assert_eq!(set.suffix(&map("a/Rock051_2K_NormalGL.exr", MapKind::Color)), "_NormalGL");
        // Not named after the set (a map given by hand) or the set's only file: the kind's word.
        assert_eq!(set.suffix(&map("b/mask.png", MapKind::Other("mask".into()))), "_mask");
        assert_eq!(set.suffix(&map("a/Rock051_2K.png", MapKind::Color)), "_color");
    }
}
