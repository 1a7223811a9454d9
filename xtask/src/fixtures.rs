//! `cargo xtask fixtures`: builds the material-set fixtures in tests/fixtures/materials/ from
//! Debian's cube2-data package (CC-BY-3.0, "Files: *" in its copyright file, Copyright Mozilla
//! Foundation): two tiling sets (colour, normal and height maps, scaled to 256x256 so every map
//! of a set has one size) and a 256x256 crop of a rock texture that does not tile. The package is
//! fetched with `apt-get download` into .work/data/ and never committed.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use image::imageops::FilterType;

use crate::{root, run};

const PACKAGE: &str = "cube2-data";
const GK: &str = "usr/share/games/cube2/packages/gk/fantasy";
const SIDE: u32 = 256;

/// (fixture name, cube2 material folder, its normal map and height map file endings).
const SETS: &[(&str, &str, &str, &str)] = &[
    ("stone_ground", "stone_ground_gk_v01", "_nm.png", "_hm.jpg"),
    ("stone_tiles", "stone_ground_tiles_gk_v01", "_nm.jpg", "_hm.jpg"),
];

/// The non-tiling photo: a crop of this colour map at this place.
const PHOTO: (&str, u32, u32, u32) = ("rock_formation_gk_v02", 700, 900, 256);

pub fn fixtures() -> Result<()> {
    let package = fetch()?;
    let out = root().join("tests/fixtures/materials");
    for (name, folder, normal, height) in SETS {
        let src = package.join(GK).join(folder);
        let dir = out.join(name);
        fs::create_dir_all(&dir)?;
        let load = |suffix: &str| -> Result<image::DynamicImage> {
            let path = src.join(format!("{folder}{suffix}"));
            image::open(&path).with_context(|| format!("reading {}", path.display()))
        };
        let scale = |img: image::DynamicImage| img.resize_exact(SIDE, SIDE, FilterType::Lanczos3);
        scale(load("_cc.jpg")?).to_rgb8().save(dir.join(format!("{name}_Color.png")))?;
        let mut n = scale(load(normal)?).to_rgb8();
        // Filtering shortens normals; store them unit length again.
        for p in n.pixels_mut() {
            let v = p.0.map(|c| c as f32 / 127.5 - 1.0);
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-6);
            p.0 = v.map(|c| ((c / len + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8);
        }
        n.save(dir.join(format!("{name}_Normal.png")))?;
        scale(load(height)?).to_luma8().save(dir.join(format!("{name}_Height.png")))?;
        eprintln!("{}: colour, normal, height", dir.display());
    }
    let (folder, x, y, side) = PHOTO;
    let path = package.join(GK).join(folder).join(format!("{folder}_cc.jpg"));
    let img = image::open(&path).with_context(|| format!("reading {}", path.display()))?;
    img.crop_imm(x, y, side, side).to_rgb8().save(out.join("rock_photo.png"))?;
    eprintln!("{}: a crop that does not tile", out.join("rock_photo.png").display());
    Ok(())
}

/// The unpacked package under .work/data/, downloaded once.
fn fetch() -> Result<PathBuf> {
    let data = root().join(".work/data");
    let dir = data.join(PACKAGE);
    if dir.join(GK).is_dir() {
        return Ok(dir);
    }
    fs::create_dir_all(&data)?;
    run(Command::new("apt-get").current_dir(&data).args(["download", PACKAGE]))
        .with_context(|| format!("downloading Debian's {PACKAGE} (apt-get download)"))?;
    let deb = fs::read_dir(&data)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PACKAGE) && n.ends_with(".deb")))
        .context("apt-get download left no .deb")?;
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir))?;
    Ok(dir)
}
