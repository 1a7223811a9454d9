//! The texture engine with the bundled models: tiled synthesis equals a whole-image run, seeds
//! are reproducible, sizes that are not whole latent cells still tile; the material network's
//! maps tile, and its tiled runs equal a whole-image run; the upscaler's 1024² -> 4096² output
//! tiles and equals a whole-image run, tile for tile.

use std::sync::{Arc, OnceLock};

use latentforge::infer::ModelStore;
use latentforge::texture::map::{Container, Map, MapKind, Samples};
use latentforge::texture::{
    seam_score, synth, MaterialModel, NormalSettings, PbrMaps, Style, Texture, TextureModel, TextureRequest,
};
use latentforge::upscale::{Edges, Method as UpscaleMethod, UpscaleModel};
use latentforge::{Device, Runtime, RuntimeOptions};

/// One runtime per process (ONNX Runtime allows one environment), and the bundled models.
fn runtime_and_store() -> (Arc<Runtime>, ModelStore) {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    let rt = RT.get_or_init(|| {
        Arc::new(
            Runtime::new(RuntimeOptions { device: Device::Cpu, intra_threads: Some(2), ..Default::default() })
                .expect("ONNX Runtime missing: run `cargo xtask setup` or use `cargo xtask test`"),
        )
    });
    let rt = rt.clone();
    let store = ModelStore::locate(Some(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))).unwrap();
    (rt, store)
}

fn model() -> &'static TextureModel {
    static M: OnceLock<TextureModel> = OnceLock::new();
    M.get_or_init(|| {
        let (rt, store) = runtime_and_store();
        TextureModel::load(&rt, &store).unwrap()
    })
}

fn material() -> &'static MaterialModel {
    static M: OnceLock<MaterialModel> = OnceLock::new();
    M.get_or_init(|| {
        let (rt, store) = runtime_and_store();
        MaterialModel::load(&rt, &store).unwrap()
    })
}

/// A generated rock texture, `size` pixels square (it tiles exactly).
fn rock(size: usize) -> Texture {
    let m = model();
    let req = TextureRequest::new(m.class("rock").unwrap(), size, size, 0.8).unwrap();
    let (rows, cols) = req.grid(m);
    synth::synthesize(m, &Style::seeded(m, 5, rows, cols), &req).unwrap()
}

/// The largest difference between two sets of maps, each map moved by (dx, dy) first.
fn maps_differ(a: &PbrMaps, b: &PbrMaps, (dx, dy): (usize, usize)) -> f32 {
    let mut worst = 0.0f32;
    for (ma, mb) in [(&a.height, &b.height), (&a.normal, &b.normal), (&a.roughness, &b.roughness)] {
        let (w, h) = (ma.width, ma.height);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let got = mb.rgb[(((y + dy) % h) * w + (x + dx) % w) * 3 + c];
                    worst = worst.max((ma.rgb[(y * w + x) * 3 + c] - got).abs());
                }
            }
        }
    }
    worst
}

/// On a small image the seam score is noisy (one row and one column of pairs), so this checks
/// the wrap-around row and column against every interior row and column instead: the seam must
/// look like any other neighbouring pair.
fn assert_no_seam(t: &Texture) {
    let (w, h) = (t.width as isize, t.height as isize);
    let diff = |a: (isize, isize), b: (isize, isize)| {
        (0..3).map(|c| (t.at(a.0, a.1, c) - t.at(b.0, b.1, c)).abs()).sum::<f32>()
    };
    let row = |y: isize| (0..w).map(|x| diff((x, y), (x, y + 1))).sum::<f32>() / w as f32;
    let col = |x: isize| (0..h).map(|y| diff((x, y), (x + 1, y))).sum::<f32>() / h as f32;
    let max_row = (0..h - 1).map(row).fold(0.0, f32::max);
    let max_col = (0..w - 1).map(col).fold(0.0, f32::max);
    assert!(
        row(h - 1) <= max_row && col(w - 1) <= max_col,
        "seam {} / {} vs interior max {max_row} / {max_col}",
        row(h - 1),
        col(w - 1)
    );
}

#[test]
fn tiles_agree_with_a_whole_image_run() {
    let m = model();
    let class = m.class("rock").unwrap();
    // 40x40 cells: synthesised in tiles of 32 cells with wrap-around context.
    let style = Style::seeded(m, 3, 40, 40);
    let req = TextureRequest::new(class, 640, 640, 0.8).unwrap();
    let tiled = synth::synthesize(m, &style, &req).unwrap();
    // The same grid in one run: the network's circular padding closes the wrap by itself.
    let whole = m
        .run(&latentforge::texture::model::Inputs {
            latent: &style.latent,
            rows: 40,
            cols: 40,
            z_coarse: &style.z_coarse,
            z_fine: &style.z_fine,
            class,
            truncation: 0.8,
            noise: &style.noise,
        })
        .unwrap();
    let plane = 640 * 640;
    let mut worst = 0.0f32;
    for i in 0..plane {
        for c in 0..3 {
            let w = ((whole[c * plane + i] + 1.0) * 0.5).clamp(0.0, 1.0);
            worst = worst.max((w - tiled.rgb[i * 3 + c]).abs());
        }
    }
    assert!(worst < 1e-4, "tiled and whole differ by {worst}");
    assert!(seam_score(&tiled) < 1.1);
}

/// Exact tiling: moving the latent grid (and noise) around the torus by whole cells moves the
/// output by the same amount, pixel for pixel, so the wrap edge is like any other cell boundary.
#[test]
fn a_texture_tiles_exactly() {
    let m = model();
    let class = m.class("paving").unwrap();
    let (rows, cols, s) = (6, 5, m.spec().scale);
    let req = TextureRequest::new(class, cols * s, rows * s, 1.0).unwrap();
    let style = Style::seeded(m, 21, rows, cols);
    let (dr, dc) = (2, 3);
    let mut moved = style.clone();
    let c = m.spec().latent_channels;
    for ch in 0..c {
        for y in 0..rows {
            for x in 0..cols {
                moved.latent[(ch * rows + (y + dr) % rows) * cols + (x + dc) % cols] =
                    style.latent[(ch * rows + y) * cols + x];
            }
        }
    }
    let (h, w) = (rows * s, cols * s);
    for y in 0..h {
        for x in 0..w {
            moved.noise[((y + dr * s) % h) * w + (x + dc * s) % w] = style.noise[y * w + x];
        }
    }
    let a = synth::synthesize(m, &style, &req).unwrap();
    let b = synth::synthesize(m, &moved, &req).unwrap();
    let mut worst = 0.0f32;
    for y in 0..h {
        for x in 0..w {
            for ch in 0..3 {
                let want = a.rgb[(y * w + x) * 3 + ch];
                let got = b.rgb[(((y + dr * s) % h) * w + (x + dc * s) % w) * 3 + ch];
                worst = worst.max((want - got).abs());
            }
        }
    }
    assert!(worst < 1e-4, "moving the latents moved the texture up to {worst} off");
}

#[test]
fn seeds_reproduce_and_differ_and_odd_sizes_tile() {
    let m = model();
    let class = m.class("soil").unwrap();
    let req = TextureRequest::new(class, 100, 72, 1.0).unwrap();
    let (rows, cols) = req.grid(m);
    assert_eq!((rows, cols), (5, 7));
    let a = synth::synthesize(m, &Style::seeded(m, 11, rows, cols), &req).unwrap();
    let b = synth::synthesize(m, &Style::seeded(m, 11, rows, cols), &req).unwrap();
    let c = synth::synthesize(m, &Style::seeded(m, 12, rows, cols), &req).unwrap();
    assert_eq!((a.width, a.height), (100, 72));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_no_seam(&a);
    let err = req.with_size(8, 72).unwrap_err();
    assert_eq!((err.name, err.value.as_str(), err.allowed.as_str()), ("size", "8x72", "16 to 8192 pixels per side"));
    let err = TextureRequest::new(0, 64, 64, 1.5).unwrap_err();
    assert_eq!((err.name, err.value.as_str()), ("truncation", "1.5"));
    assert!(m.class("lava").unwrap_err().to_string().contains("available: grass, rock"));
}

/// Large images run in tiles cut from the torus with context: the same maps as one run.
#[test]
fn material_maps_in_tiles_equal_a_whole_image_run() {
    let colour = rock(512);
    let whole = material().maps(&colour, NormalSettings::default()).unwrap();
    let tiled = material().maps_in_tiles(&colour, NormalSettings::default(), 128).unwrap();
    let worst = maps_differ(&whole, &tiled, (0, 0));
    assert!(worst < 1e-4, "tiles differ from the whole image by {worst}");
    // An odd size (not a multiple of the stride) runs in tiles too, and its maps still wrap.
    let odd = colour.resized(250, 198);
    let m = material().maps(&odd, NormalSettings::default()).unwrap();
    assert_eq!((m.normal.width, m.normal.height), (250, 198));
    assert_no_seam(&m.normal);
    assert!(material().maps_in_tiles(&colour, NormalSettings::default(), 130).is_err());
}

/// Tileable in, tileable out: moving the colour map around the torus moves every map with it,
/// pixel for pixel, so the wrap edge is like any other; normals are unit vectors.
#[test]
fn material_maps_tile_exactly() {
    let colour = rock(256);
    let a = material().maps(&colour, NormalSettings::default()).unwrap();
    let (dx, dy) = (100, 36);
    let mut moved = colour.clone();
    moved.roll((colour.width - dx, colour.height - dy));
    let b = material().maps(&moved, NormalSettings::default()).unwrap();
    let worst = maps_differ(&a, &b, (dx, dy));
    assert!(worst < 1e-4, "moving the colour map moved the maps up to {worst} off");
    for map in [&a.height, &a.normal, &a.roughness] {
        assert_no_seam(map);
    }
    for n in a.normal.rgb.chunks(3) {
        let len = n.iter().map(|v| (v * 2.0 - 1.0).powi(2)).sum::<f32>().sqrt();
        assert!((len - 1.0).abs() < 1e-3 && n[2] > 0.5, "{n:?}");
    }
}

/// The case: a tileable 1024² texture upscaled 4x in 256-px tiles (16 network runs with
/// context) equals one whole-image run, and the 4096² output tiles (seam score at most 1.1).
/// Mirrored edges (--no-wrap) also give the same result in tiles as whole.
#[test]
fn upscaled_tiles_equal_a_whole_image_run_and_tile() {
    let (rt, store) = runtime_and_store();
    let model = UpscaleModel::load(&rt, &store).unwrap();
    let net = UpscaleMethod::Network(&model);
    // Its edges on its calmest column and row, as `texture` writes it.
    let mut colour = rock(1024);
    colour.roll(colour.calm_origin());
    // As data (float values as they are): the comparison sees the network's own numbers.
    let map = Map {
        width: 1024,
        height: 1024,
        channels: 3,
        samples: Samples::F32(colour.rgb.clone()),
        container: Container::Exr,
        exr_names: vec![],
    };
    let kind = MapKind::Other("albedo".into());
    let tiled = net.map_in_tiles(&map, &kind, 4, Edges::Wrap, 256).unwrap();
    let whole = net.map_in_tiles(&map, &kind, 4, Edges::Wrap, 1024).unwrap();
    assert_eq!((tiled.width, tiled.height), (4096, 4096));
    let (Samples::F32(a), Samples::F32(b)) = (&tiled.samples, &whole.samples) else { panic!("float in, float out") };
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "tiles differ from the whole image by {worst}");
    let out = Texture { width: 4096, height: 4096, rgb: a.clone(), encoding: colour.encoding };
    assert!(seam_score(&out) <= 1.1, "seam score {}", seam_score(&out));
    drop((tiled, whole));
    // Exactly tile-safe: moving the input around the torus moves the output with it.
    let small = Map { width: 256, height: 256, samples: Samples::F32(colour.resized(256, 256).rgb), ..map.clone() };
    let a = net.map(&small, &kind, 4, Edges::Wrap).unwrap();
    let mut moved = colour.resized(256, 256);
    moved.roll((256 - 5, 256 - 3));
    let b = net.map(&Map { samples: Samples::F32(moved.rgb), ..small }, &kind, 4, Edges::Wrap).unwrap();
    let mut worst = 0.0f32;
    for y in 0..1024 {
        for x in 0..1024 {
            for c in 0..3 {
                let moved_to = (((y + 12) % 1024) * 1024 + (x + 20) % 1024) * 3 + c;
                worst = worst.max((a.value((y * 1024 + x) * 3 + c) - b.value(moved_to)).abs());
            }
        }
    }
    assert!(worst < 1e-4, "moving the input moved the output up to {worst} off");
    // Mirrored edges, an odd size, 2x: tiles of 100 equal one run.
    let small = Map { width: 250, height: 198, samples: Samples::F32(colour.resized(250, 198).rgb), ..map };
    let a = net.map_in_tiles(&small, &kind, 2, Edges::Mirror, 100).unwrap();
    let b = net.map_in_tiles(&small, &kind, 2, Edges::Mirror, 256).unwrap();
    assert_eq!((a.width, a.height), (500, 396));
    let worst = (0..a.pixels() * 3).map(|i| (a.value(i) - b.value(i)).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "mirrored tiles differ by {worst}");
}
