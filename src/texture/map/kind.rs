//! [`MapKind`]: what a map holds (colour, normal, roughness, height, AO, metalness, opacity, or a
//! map named by hand), read from file names as ambientCG, Poly Haven, Quixel and Substance write
//! them or from a `--map KIND=FILE` flag, and how each kind is stored (sRGB colour or linear data).

use std::fmt;
use std::path::Path;

use crate::texture::NormalConvention;

/// What a map of a set holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapKind {
    Color,
    Normal(NormalConvention),
    Roughness,
    Height,
    AmbientOcclusion,
    Metalness,
    Opacity,
    /// A map named by hand (`--map mask=FILE`): data, resampled like the others.
    Other(String),
}

/// Makes the kind a file-name token stands for.
type KindOf = fn() -> MapKind;

/// File-name tokens per kind, longest first within a kind so `_nor_gl` wins over `_nor`.
const NAME_TOKENS: &[(&str, KindOf)] = &[
    ("basecolor", || MapKind::Color),
    ("basecolour", || MapKind::Color),
    ("albedo", || MapKind::Color),
    ("diffuse", || MapKind::Color),
    ("colour", || MapKind::Color),
    ("color", || MapKind::Color),
    ("diff", || MapKind::Color),
    ("col", || MapKind::Color),
    ("normalgl", || MapKind::Normal(NormalConvention::OpenGl)),
    ("normaldx", || MapKind::Normal(NormalConvention::DirectX)),
    ("nor_gl", || MapKind::Normal(NormalConvention::OpenGl)),
    ("nor_dx", || MapKind::Normal(NormalConvention::DirectX)),
    ("normal", || MapKind::Normal(NormalConvention::OpenGl)),
    ("norm", || MapKind::Normal(NormalConvention::OpenGl)),
    ("nrm", || MapKind::Normal(NormalConvention::OpenGl)),
    ("nor", || MapKind::Normal(NormalConvention::OpenGl)),
    ("roughness", || MapKind::Roughness),
    ("rough", || MapKind::Roughness),
    ("displacement", || MapKind::Height),
    ("height", || MapKind::Height),
    ("disp", || MapKind::Height),
    ("ambientocclusion", || MapKind::AmbientOcclusion),
    ("ao", || MapKind::AmbientOcclusion),
    ("metalness", || MapKind::Metalness),
    ("metallic", || MapKind::Metalness),
    ("opacity", || MapKind::Opacity),
];

impl MapKind {
    /// The kind a file name says, case-insensitively: a token such as `_Color` or `_nor_gl`
    /// between separators (`Rock051_2K_Color.png`, `rock_face_nor_gl_1k.exr`).
    pub fn from_file_name(path: &Path) -> Option<MapKind> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase().replace(['-', ' ', '.'], "_");
        let bounded = |token: &str| {
            let needle = format!("_{token}");
            stem.match_indices(&needle).any(|(i, _)| {
                let rest = &stem[i + needle.len()..];
                rest.is_empty() || rest.starts_with('_')
            })
        };
        NAME_TOKENS.iter().find(|(token, _)| bounded(token)).map(|(_, kind)| kind())
    }

    /// The kind a `--map KIND=FILE` names: color, normal, normal-gl, normal-dx, roughness,
    /// height, ao, metalness, opacity, or any other word for a data map of one's own.
    pub fn from_flag(name: &str, convention: NormalConvention) -> Result<MapKind, String> {
        let n = name.to_ascii_lowercase();
        Ok(match n.as_str() {
            "color" | "colour" | "albedo" | "basecolor" | "diffuse" => MapKind::Color,
            "normal" => MapKind::Normal(convention),
            "normal-gl" | "normalgl" => MapKind::Normal(NormalConvention::OpenGl),
            "normal-dx" | "normaldx" => MapKind::Normal(NormalConvention::DirectX),
            "roughness" | "rough" => MapKind::Roughness,
            "height" | "displacement" | "disp" => MapKind::Height,
            "ao" | "ambientocclusion" | "occlusion" => MapKind::AmbientOcclusion,
            "metalness" | "metallic" => MapKind::Metalness,
            "opacity" | "alpha" => MapKind::Opacity,
            "" => return Err("empty map kind: use KIND=FILE, e.g. roughness=rock_rough.png".into()),
            other if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
                MapKind::Other(other.to_string())
            }
            other => return Err(format!("`{other}`: a map kind is a word of letters, digits, - and _")),
        })
    }

    /// The word in output file names: `<set>_s<seed>_<word>.<ext>`.
    pub fn word(&self) -> String {
        match self {
            MapKind::Color => "color".into(),
            MapKind::Normal(NormalConvention::OpenGl) => "normal_gl".into(),
            MapKind::Normal(NormalConvention::DirectX) => "normal_dx".into(),
            MapKind::Roughness => "roughness".into(),
            MapKind::Height => "height".into(),
            MapKind::AmbientOcclusion => "ao".into(),
            MapKind::Metalness => "metalness".into(),
            MapKind::Opacity => "opacity".into(),
            MapKind::Other(name) => name.clone(),
        }
    }

    /// Colour is display-encoded (sRGB); every other map is data, never converted.
    pub fn is_srgb(&self) -> bool {
        *self == MapKind::Color
    }
}

impl fmt::Display for MapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_recognised() {
        let cases = [
            ("Rock051_2K_Color.png", MapKind::Color),
            ("Rock051_2K_NormalDX.png", MapKind::Normal(NormalConvention::DirectX)),
            ("Rock051_2K_NormalGL.png", MapKind::Normal(NormalConvention::OpenGl)),
            ("rock_face_03_nor_gl_1k.exr", MapKind::Normal(NormalConvention::OpenGl)),
            ("rock_face_03_nor_dx_1k.exr", MapKind::Normal(NormalConvention::DirectX)),
            ("rock_face_03_diff_1k.jpg", MapKind::Color),
            ("rock_face_03_rough_1k.png", MapKind::Roughness),
            ("rock_face_03_disp_1k.png", MapKind::Height),
            ("Bricks_Displacement.tiff", MapKind::Height),
            ("Bricks_AmbientOcclusion.jpg", MapKind::AmbientOcclusion),
            ("Bricks_AO.jpg", MapKind::AmbientOcclusion),
            ("metal_Metalness.png", MapKind::Metalness),
            ("Leaf_Opacity.png", MapKind::Opacity),
            ("wall_BaseColor.png", MapKind::Color),
            ("wall_nrm.png", MapKind::Normal(NormalConvention::OpenGl)),
        ];
        for (name, kind) in cases {
            assert_eq!(MapKind::from_file_name(Path::new(name)), Some(kind), "{name}");
        }
        for name in ["colorful.png", "notes.png", "rock.png", "decor_2k.png"] {
            assert_eq!(MapKind::from_file_name(Path::new(name)), None, "{name}");
        }
    }
}
