//! `latentforge texture --exemplar` as a 3D artist runs it on a real PBR set (cube2-data's
//! paving, tests/fixtures/materials/): four 2048² variations whose every map tiles, normals of
//! unit length, every map through the one coordinate map, the same bytes at any thread count,
//! `texture remap`, and the bad inputs a user meets, each refused with the file named.

use std::fs;
use std::path::Path;
use std::process::Command;

use latentforge::io::limits::DecodeLimits;
use latentforge::texture::exemplar::{coords, CoordMap};
use latentforge::texture::map::{Container, Map, Samples};
use latentforge::texture::{seam_score, Texture};

mod common;
use common::{fixture, latentforge, p, text};

fn read(path: &Path) -> Map {
    Map::read(path, &DecodeLimits::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn picture(m: &Map) -> Texture {
    Texture { width: m.width, height: m.height, rgb: m.rgb(), encoding: latentforge::io::frame::Encoding::Srgb }
}

/// A 16-bit map whose every pixel holds its own coordinates, as a coordinate map stores them.
fn own_coordinates(w: usize, h: usize, path: &Path) {
    let samples = (0..w * h).flat_map(|i| [coords::encode(i % w, w), coords::encode(i / w, h), 0]).collect();
    Map {
        width: w,
        height: h,
        channels: 3,
        samples: Samples::U16(samples),
        container: Container::Png,
        exr_names: vec![],
    }
    .write(path)
    .unwrap();
}

#[test]
fn a_pbr_set_gives_tiling_variations_with_every_map_in_step() {
    let dir = tempfile::tempdir().unwrap();
    let set = fixture("materials/stone_tiles");
    let uv = dir.path().join("uv.png");
    own_coordinates(256, 256, &uv);
    let out = dir.path().join("out");
    let o = latentforge(&[
        "texture",
        "vary",
        p(&set),
        "--map",
        &format!("uv={}", p(&uv)),
        "--count",
        "4",
        "--size",
        "2048",
        "--save-coords",
        "--sheet",
        "--out-dir",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    for kind in ["color <-", "normal_gl <-", "height <-", "uv <-"] {
        assert!(said.contains(kind), "says which file became which map: {said}");
    }
    for seed in 1..=4 {
        let stem = out.join(format!("stone_tiles_s{seed}"));
        // Each output keeps its input's suffix (stone_tiles_Normal.png -> stone_tiles_s1_Normal.png).
        for kind in ["Color", "Normal", "Height"] {
            let m = read(Path::new(&format!("{}_{kind}.png", stem.display())));
            assert_eq!((m.width, m.height), (2048, 2048));
            let seam = seam_score(&picture(&m));
            assert!(seam <= 1.1, "s{seed} {kind}: seam {seam}");
        }
        // 8-bit normals: unit length up to the 8-bit step of each component.
        let n = read(Path::new(&format!("{}_Normal.png", stem.display())));
        assert!(matches!(n.samples, Samples::U8(_)), "8-bit in, 8-bit out");
        for px in (0..n.pixels()).step_by(97) {
            let v: Vec<f32> = (0..3).map(|c| n.value(px * 3 + c) * 2.0 - 1.0).collect();
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            assert!((len - 1.0).abs() < 1.5 * 3f32.sqrt() / 255.0, "normal length {len}");
        }
        // The map made of its own coordinates comes back as the saved coordinate map: every map
        // went through that one map.
        let saved =
            CoordMap::read(Path::new(&format!("{}_coords.png", stem.display())), &DecodeLimits::default()).unwrap();
        let through =
            CoordMap::read(Path::new(&format!("{}_uv.png", stem.display())), &DecodeLimits::default()).unwrap();
        assert!(saved == through, "s{seed}: the uv map did not come back as the coordinate map");
    }
    assert!(out.join("sheet.png").is_file());
    // Four seeds, four different variations.
    let a = fs::read(out.join("stone_tiles_s1_Color.png")).unwrap();
    assert_ne!(a, fs::read(out.join("stone_tiles_s2_Color.png")).unwrap());
}

#[test]
fn same_bytes_at_any_thread_count_and_remap_applies_a_saved_map() {
    let dir = tempfile::tempdir().unwrap();
    let set = fixture("materials/stone_ground");
    let run = |threads: &str, out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_latentforge"))
            .env("RAYON_NUM_THREADS", threads)
            .args(["texture", "vary", p(&set), "--seed", "3", "--count", "2", "--size", "600x400"])
            .args(["--save-coords", "--quiet", "--out-dir", p(out)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run("1", &one);
    run("2", &two);
    // A re-run after a node failure: what exists and decodes is skipped, nothing is rewritten.
    let o = latentforge(&[
        "texture",
        "vary",
        p(&set),
        "--seed",
        "3",
        "--count",
        "2",
        "--size",
        "600x400",
        "--save-coords",
        "--skip-existing",
        "--json",
        "--out-dir",
        p(&one),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).matches("\"skipped\":true").count(), 2, "{}", text(&o));
    let mut names: Vec<_> = fs::read_dir(&one).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    for name in &names {
        assert_eq!(fs::read(one.join(name)).unwrap(), fs::read(two.join(name)).unwrap(), "{name:?}");
    }
    // A map that arrives later (here: the height map again, as 16-bit and as float EXR) through
    // the saved coordinate map equals the variation's own height map.
    let height = read(&set.join("stone_ground_Height.png"));
    let h16 = dir.path().join("h16.png");
    height.converted(Container::Png, Some(16), false).write(&h16).unwrap();
    let hexr = dir.path().join("hexr.exr");
    height.converted(Container::Exr, None, false).write(&hexr).unwrap();
    let later = dir.path().join("later");
    let coords = one.join("stone_ground_s3_coords.png");
    let o = latentforge(&[
        "texture",
        "remap",
        p(&coords),
        "--map",
        &format!("height={}", p(&h16)),
        "--map",
        &format!("mask={}", p(&hexr)),
        "--out-dir",
        p(&later),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let ours = read(&one.join("stone_ground_s3_Height.png"));
    let h = read(&later.join("stone_ground_s3_height.png"));
    assert!(matches!(h.samples, Samples::U16(_)), "16-bit stays 16-bit");
    let m = read(&later.join("stone_ground_s3_mask.exr"));
    assert!(matches!(m.samples, Samples::F32(_)), "float EXR stays float");
    for i in 0..ours.pixels() {
        assert!((h.value(i) - ours.value(i)).abs() < 1e-6 && (m.value(i) - ours.value(i)).abs() < 1e-6, "pixel {i}");
    }
}

#[test]
fn a_photo_that_does_not_tile_becomes_a_tiling_texture() {
    let dir = tempfile::tempdir().unwrap();
    let photo = fixture("materials/rock_photo.png");
    let o = latentforge(&["texture", "vary", p(&photo), "--size", "512", "--json", "--out-dir", p(dir.path())]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let plan: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(plan["exemplar_tiles"], false, "detected: the photo's edges do not meet");
    // Lines after the plan are variations and, while one is being made, progress events.
    let item: serde_json::Value =
        serde_json::from_str(out.lines().find(|l| l.contains("\"item\"")).expect("a variation line")).unwrap();
    let seam = item["seam"]["color"].as_f64().unwrap();
    assert!(seam <= 1.1, "{seam}");
    let files = item["files"].as_array().unwrap();
    let named = |f: &serde_json::Value| f["file"].as_str().unwrap().ends_with("rock_photo_s1_color.png");
    assert!(files.iter().any(|f| f["kind"] == "color" && named(f)), "every file with its map kind: {item}");
    assert!(item["verbatim"].as_f64().unwrap() < 0.25, "not the photo shifted: {item}");
    assert!(seam_score(&picture(&read(&fixture("materials/rock_photo.png")))) > 1.5);
}

#[test]
fn bad_exemplars_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let grey = |w: usize, h: usize, path: &Path| {
        Map {
            width: w,
            height: h,
            channels: 1,
            samples: Samples::U8(vec![128; w * h]),
            container: Container::Png,
            exr_names: vec![],
        }
        .write(path)
        .unwrap()
    };
    grey(8, 8, &d.join("tiny.png"));
    grey(1, 1, &d.join("one.png"));
    fs::write(d.join("notes.png"), b"not an image").unwrap();
    // A PNG whose header claims 100000 x 100000 (IHDR patched, its CRC fixed).
    grey(16, 16, &d.join("huge.png"));
    let mut bytes = fs::read(d.join("huge.png")).unwrap();
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    fs::write(d.join("huge.png"), bytes).unwrap();
    let mixed = d.join("mixed");
    fs::create_dir(&mixed).unwrap();
    grey(64, 64, &mixed.join("m_Color.png"));
    grey(32, 32, &mixed.join("m_Roughness.png"));
    let cases = [
        ("tiny.png", "too small"),
        ("one.png", "too small"),
        ("notes.png", "notes.png"),
        ("huge.png", "100000x100000"),
        ("mixed", "one size"),
        ("missing.png", "no such file"),
    ];
    for (name, want) in cases {
        let o = latentforge(&["texture", "vary", p(&d.join(name)), "--out-dir", p(&d.join("out"))]);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(3), "{name}: {said}");
        assert!(said.contains(want) && said.contains(name.trim_end_matches(".png")), "{name}: {said}");
        assert!(!said.contains("panicked"), "{name}: {said}");
    }
    // A "normal map" that is a grey picture: a warning, resampled as data.
    let set = d.join("set");
    fs::create_dir(&set).unwrap();
    fs::copy(fixture("materials/stone_ground/stone_ground_Color.png"), set.join("s_Color.png")).unwrap();
    fs::copy(fixture("materials/stone_ground/stone_ground_Color.png"), set.join("s_Normal.png")).unwrap();
    let o = latentforge(&["texture", "vary", p(&set), "--size", "64", "--out-dir", p(&d.join("out2"))]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("s_Normal.png: named a normal map, but its mean Z"), "{}", text(&o));
}

/// CRC-32 (IEEE) of a PNG chunk's type and data.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn the_old_exemplar_spelling_still_works_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let set = fixture("materials/stone_ground");
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let o = latentforge(&["texture", "--exemplar", p(&set), "--size", "64", "--out-dir", p(&old)]);
    assert!(o.status.success(), "{}", text(&o));
    let note = String::from_utf8_lossy(&o.stderr);
    assert_eq!(note.lines().filter(|l| l.contains("is now `texture vary SET`")).count(), 1, "{note}");
    let o = latentforge(&["texture", "vary", p(&set), "--size", "64", "--out-dir", p(&new)]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("is now"), "no note for today's spelling");
    let mut names: Vec<_> = fs::read_dir(&new).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    for name in &names {
        assert_eq!(fs::read(old.join(name)).unwrap(), fs::read(new.join(name)).unwrap(), "{name:?}");
    }
}
