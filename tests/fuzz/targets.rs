//! The readers under fuzz, one target per file format: seeds cut from the committed fixtures
//! (and written by the engine's own writers, so each is a real file of its kind), the reader(s)
//! that format goes through, and where its header keeps the fields worth lying in.

use std::fs;
use std::path::{Path, PathBuf};

use ::exr::prelude as ex;
use ::exr::prelude::traits::*;
use latentforge::groove::{midi_file, patterns_from_midi, Cell, Feel, Pattern, LANES, PATTERN_STEPS};
use latentforge::infer::ModelEntry;
use latentforge::io::frame::{self, Encoding, FileFormat, Frame};
use latentforge::io::limits::DecodeLimits;
use latentforge::presets::{DenoisePreset, GroovePreset, Preset, TexturePreset};
use latentforge::texture::map::{Map, Samples};

use super::mutate::Field;

/// The harness's decode limits: small, so a header that claims more than its file holds shows
/// as an allocation over the cap rather than as minutes of zeroing.
pub const LIMITS: DecodeLimits = DecodeLimits { max_side: 2048, max_pixels: 512 * 512 };

/// Largest peak of live bytes one case may reach. Under [`LIMITS`] a frame holds at most
/// 16 x 262144 samples (16 MiB as f32) plus the decoder's copies.
pub const CAP: usize = 96 << 20;

pub struct Target {
    pub name: &'static str,
    /// Extension the case files carry (readers pick the format by it).
    pub ext: &'static str,
    pub seeds: fn(&Path) -> Vec<Vec<u8>>,
    /// Reads the case file; `Err` is a refused file, `Ok` one that read and was checked valid.
    pub read: fn(&Path) -> Result<(), String>,
    pub fields: fn(&[u8]) -> Vec<Field>,
    /// Makes a mutated case self-consistent where the format checksums itself (PNG's chunk
    /// CRCs), so the lie reaches the parser behind the checksum; run on half the cases.
    pub fixup: fn(&mut [u8]),
}

pub const TARGETS: [Target; 9] = [
    Target { name: "exr", ext: "exr", seeds: exr_seeds, read: read_image, fields: exr_fields, fixup: no_fixup },
    Target { name: "png", ext: "png", seeds: png_seeds, read: read_image, fields: png_fields, fixup: png_crcs },
    Target { name: "tiff", ext: "tif", seeds: tiff_seeds, read: read_image, fields: tiff_fields, fixup: no_fixup },
    Target { name: "jpeg", ext: "jpg", seeds: jpeg_seeds, read: read_map, fields: jpeg_fields, fixup: no_fixup },
    Target { name: "hdr", ext: "hdr", seeds: hdr_seeds, read: read_frame, fields: no_fields, fixup: no_fixup },
    Target { name: "pfm", ext: "pfm", seeds: pfm_seeds, read: read_frame, fields: no_fields, fixup: no_fixup },
    Target { name: "midi", ext: "mid", seeds: midi_seeds, read: read_midi, fields: midi_fields, fixup: no_fixup },
    Target { name: "preset", ext: "toml", seeds: preset_seeds, read: read_preset, fields: no_fields, fixup: no_fixup },
    Target {
        name: "manifest",
        ext: "toml",
        seeds: manifest_seeds,
        read: read_manifest,
        fields: no_fields,
        fixup: no_fixup,
    },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

// ---- readers ------------------------------------------------------------------------------

fn check_frame(f: &Frame) -> Result<(), String> {
    let n = f.width * f.height;
    let ok = n > 0
        && LIMITS.check(Path::new(""), f.width, f.height).is_ok()
        && f.color.len() == n * 3
        && f.alpha.as_ref().is_none_or(|a| a.len() == n)
        && f.albedo.as_ref().is_none_or(|a| a.len() == n * 3)
        && f.normal.as_ref().is_none_or(|a| a.len() == n * 3);
    if ok {
        Ok(())
    } else {
        panic!("read_frame returned an inconsistent frame: {}x{}, {} colour values", f.width, f.height, f.color.len())
    }
}

fn check_map(m: &Map) -> Result<(), String> {
    let len = match &m.samples {
        Samples::U8(v) => v.len(),
        Samples::U16(v) => v.len(),
        Samples::F16(v) => v.len(),
        Samples::F32(v) => v.len(),
    };
    assert!(
        m.width * m.height > 0 && len == m.width * m.height * m.channels && (1..=4).contains(&m.channels),
        "Map::read returned an inconsistent map: {}x{}x{}, {len} samples",
        m.width,
        m.height,
        m.channels
    );
    Ok(())
}

fn read_frame(path: &Path) -> Result<(), String> {
    frame::read_frame(path, &LIMITS).map_err(|e| e.to_string()).and_then(|f| check_frame(&f))
}

fn read_map(path: &Path) -> Result<(), String> {
    Map::read(path, &LIMITS).map_err(|e| e.to_string()).and_then(|m| check_map(&m))
}

/// Formats both the denoiser (frames) and the texture tools (exemplar maps) read.
fn read_image(path: &Path) -> Result<(), String> {
    let frame = read_frame(path);
    let map = read_map(path);
    frame.and(map)
}

fn read_midi(path: &Path) -> Result<(), String> {
    patterns_from_midi(path).map(|_| ()).map_err(|e| e.to_string())
}

fn read_preset(path: &Path) -> Result<(), String> {
    // One text, every preset kind (each reads it in full; `|` does not short-circuit).
    let read = DenoisePreset::load(path).is_ok() | GroovePreset::load(path).is_ok() | TexturePreset::load(path).is_ok();
    if read {
        Ok(())
    } else {
        Err("no preset kind accepts it".into())
    }
}

fn read_manifest(path: &Path) -> Result<(), String> {
    // A manifest is read as `model.toml` in its folder.
    let dir = path.with_extension("model");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::copy(path, dir.join(latentforge::infer::MANIFEST_FILE)).map_err(|e| e.to_string())?;
    let r = ModelEntry::load(&dir).map(|_| ()).map_err(|e| e.to_string());
    let _ = fs::remove_dir_all(&dir);
    r
}

// ---- seeds --------------------------------------------------------------------------------

/// The committed 8 spp render, cut to `w` x `h` from its top-left corner, with its passes.
fn crop(w: usize, h: usize) -> Frame {
    let src = frame::read_frame(&fixture("noisy_8spp.exr"), &DecodeLimits::default()).expect("fixture");
    let cut = |v: &[f32], c: usize| -> Vec<f32> {
        (0..h).flat_map(|y| v[y * src.width * c..(y * src.width + w) * c].to_vec()).collect()
    };
    let mut f = Frame::new_rgb(w, h, cut(&src.color, 3), Encoding::Linear, FileFormat::Exr);
    f.albedo = src.albedo.as_deref().map(|a| cut(a, 3));
    f.normal = src.normal.as_deref().map(|a| cut(a, 3));
    f
}

/// `frame` written as `name` by the engine's writer.
fn written(dir: &Path, frame: &Frame, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    frame::write_frame_atomic(frame, &path).expect("writing a seed");
    fs::read(path).unwrap()
}

fn exr_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let small = crop(24, 16);
    let plane = |c: usize| -> Vec<f32> { small.color.iter().skip(c).step_by(3).copied().collect() };
    let channels = |half: bool| -> ex::AnyChannels<ex::FlatSamples> {
        let list: ex::SmallVec<[ex::AnyChannel<ex::FlatSamples>; 4]> = ["R", "G", "B"]
            .iter()
            .enumerate()
            .map(|(c, n)| {
                let s = if half {
                    ex::FlatSamples::F16(plane(c).into_iter().map(ex::f16::from_f32).collect())
                } else {
                    ex::FlatSamples::F32(plane(c))
                };
                ex::AnyChannel::new(*n, s)
            })
            .collect();
        ex::AnyChannels::sort(list)
    };
    let encoding = |compression, tiles: Option<usize>| ex::Encoding {
        compression,
        blocks: tiles.map_or(ex::Blocks::ScanLines, |t| ex::Blocks::Tiles(ex::Vec2(t, t))),
        line_order: ex::LineOrder::Increasing,
    };
    let write = |name: &str, image: ex::Image<ex::Layers<ex::AnyChannels<ex::FlatSamples>>>| -> Vec<u8> {
        let path = dir.join(name);
        image.write().to_file(&path).expect("writing an EXR seed");
        fs::read(path).unwrap()
    };
    let attrs = || ex::ImageAttributes::new(ex::IntegerBounds::from_dimensions((24, 16)));
    let layer = |name: Option<&str>, half, enc| {
        let attrs = name.map_or_else(ex::LayerAttributes::default, ex::LayerAttributes::named);
        ex::Layer::new((24, 16), attrs, enc, channels(half))
    };
    vec![
        // Blender's own multilayer file, cut small: ZIP scanlines, half, passes by name.
        written(dir, &{ crop(32, 24) }, "multilayer.exr"),
        write(
            "tiled_rle.exr",
            ex::Image::from_layers(attrs(), vec![layer(None, false, encoding(ex::Compression::RLE, Some(8)))]),
        ),
        write(
            "two_parts.exr",
            ex::Image::from_layers(
                attrs(),
                vec![
                    layer(Some("beauty"), true, encoding(ex::Compression::Uncompressed, None)),
                    layer(Some("albedo"), false, encoding(ex::Compression::PIZ, None)),
                ],
            ),
        ),
    ]
}

fn srgb(f: &Frame, wide: bool, alpha: bool) -> Frame {
    let mut g = Frame::new_rgb(f.width, f.height, f.color.clone(), Encoding::Linear, FileFormat::Png);
    g.wide = wide;
    g.alpha = alpha.then(|| vec![0.5; f.width * f.height]);
    g
}

fn png_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let f = crop(24, 16);
    let stone =
        image::open(fixture("materials/stone_tiles/stone_tiles_Color.png")).expect("fixture").crop_imm(0, 0, 32, 32);
    let path = dir.join("stone.png");
    stone.save(&path).unwrap();
    let grey = dir.join("grey16.png");
    stone.to_luma16().save(&grey).unwrap();
    vec![
        written(dir, &srgb(&f, false, false), "rgb8.png"),
        written(dir, &srgb(&f, true, true), "rgba16.png"),
        fs::read(path).unwrap(),
        fs::read(grey).unwrap(),
    ]
}

fn tiff_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let f = crop(24, 16);
    let mut tiff_srgb = srgb(&f, false, false);
    tiff_srgb.encoding = Encoding::Srgb;
    let mut wide = tiff_srgb.clone();
    wide.wide = true;
    vec![written(dir, &tiff_srgb, "rgb8.tif"), written(dir, &wide, "rgb16.tif"), written(dir, &f, "float.tif")]
}

fn jpeg_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let img = image::open(fixture("materials/variations_sheet.jpg")).expect("fixture").crop_imm(0, 0, 48, 32);
    let path = dir.join("sheet.jpg");
    img.to_rgb8().save(&path).unwrap();
    let grey = dir.join("grey.jpg");
    img.to_luma8().save(&grey).unwrap();
    vec![fs::read(path).unwrap(), fs::read(grey).unwrap()]
}

fn hdr_seeds(dir: &Path) -> Vec<Vec<u8>> {
    vec![written(dir, &crop(24, 16), "a.hdr"), written(dir, &crop(9, 5), "b.hdr")]
}

fn pfm_seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut grey = b"Pf\n4 2\n-1.0\n".to_vec();
    grey.extend((0..8).flat_map(|i| (i as f32 / 8.0).to_le_bytes()));
    vec![written(dir, &crop(24, 16), "a.pfm"), grey]
}

fn midi_seeds(_dir: &Path) -> Vec<Vec<u8>> {
    // A 2-bar groove (kick, snare, hats with velocities and offsets) as `groove` writes it.
    let mut p = Pattern::default();
    for step in 0..PATTERN_STEPS {
        let hit = |v: f32, o: f32| Cell { prob: 1.0, velocity: v, offset: o };
        if step % 8 == 0 {
            p.cells[step][0] = hit(0.9, 0.0);
        }
        if step % 8 == 4 {
            p.cells[step][1] = hit(0.8, 0.1);
        }
        if step % 2 == 0 {
            p.cells[step][LANES - 7] = hit(0.5, -0.05);
        }
    }
    vec![midi_file(&[p], &Feel::default(), 120.0), midi_file(&[p, p], &Feel::default(), 93.0)]
}

fn text_files(dirs: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in dirs {
        let mut paths: Vec<PathBuf> = fs::read_dir(root().join(d)).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        out.extend(paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")).map(|p| fs::read(p).unwrap()));
    }
    out
}

fn preset_seeds(_dir: &Path) -> Vec<Vec<u8>> {
    text_files(&["presets/denoise", "presets/groove", "presets/textures"])
}

fn manifest_seeds(_dir: &Path) -> Vec<Vec<u8>> {
    ["models/texture", "models/groove-decoder", "models/denoise-hdr", "models/drums"]
        .iter()
        .map(|d| fs::read(root().join(d).join("model.toml")).unwrap())
        .collect()
}

// ---- checksums ---------------------------------------------------------------------------

fn no_fixup(_: &mut [u8]) {}

/// Recomputes the CRC of every chunk whose length still fits the file.
fn png_crcs(b: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= b.len() {
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|e| e + 4 <= b.len()) else { return };
        let crc = crc32fast::hash(&b[at + 4..end]);
        b[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

// ---- header fields ------------------------------------------------------------------------

fn no_fields(_: &[u8]) -> Vec<Field> {
    Vec::new()
}

fn be(offset: usize, width: usize) -> Field {
    Field { offset, width, big_endian: true }
}

fn le(offset: usize, width: usize) -> Field {
    Field { offset, width, big_endian: false }
}

/// Chunk lengths, and IHDR's width and height.
fn png_fields(b: &[u8]) -> Vec<Field> {
    let mut out = vec![be(16, 4), be(20, 4)];
    let mut at = 8;
    while at + 8 <= b.len() {
        out.push(be(at, 4));
        let len = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        at = at.saturating_add(12).saturating_add(len);
    }
    out
}

/// Every attribute's size and the first four 32-bit values of its contents (data and display
/// windows, channel lists, tile sizes, chunk counts), then offset-table entries and the first
/// chunk's header.
fn exr_fields(b: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut at = 8;
    let cstr = |from: usize| b[from.min(b.len())..].iter().position(|&c| c == 0).map(|n| from + n + 1);
    // Headers: attributes until an empty name; a multi-part file has more headers, then an empty one.
    for _ in 0..8 {
        while at < b.len() && b[at] != 0 {
            let Some(after_name) = cstr(at) else { return out };
            let Some(after_type) = cstr(after_name) else { return out };
            if after_type + 4 > b.len() {
                return out;
            }
            out.push(le(after_type, 4));
            let size = i32::from_le_bytes(b[after_type..after_type + 4].try_into().unwrap()).max(0) as usize;
            let value = after_type + 4;
            out.extend((0..size.min(16) / 4).map(|i| le(value + 4 * i, 4)));
            at = value.saturating_add(size);
        }
        at += 1;
        if at >= b.len() || b[at] == 0 {
            break;
        }
    }
    out.extend((0..16).map(|i| le(at + 8 * i, 8)).filter(|f| f.offset + 8 <= b.len()));
    out
}

/// Byte order, the first IFD's offset, its entry count, and every entry's type, count and value.
fn tiff_fields(b: &[u8]) -> Vec<Field> {
    if b.len() < 8 {
        return Vec::new();
    }
    let big = &b[..2] == b"MM";
    let f = |offset, width| Field { offset, width, big_endian: big };
    let mut out = vec![f(4, 4)];
    let read = |at: usize, width: usize| -> usize {
        let s = &b[at..at + width];
        let mut v = 0usize;
        for i in 0..width {
            v |= (s[if big { width - 1 - i } else { i }] as usize) << (8 * i);
        }
        v
    };
    let ifd = read(4, 4);
    if ifd + 2 > b.len() {
        return out;
    }
    out.push(f(ifd, 2));
    for e in 0..read(ifd, 2) {
        let entry = ifd + 2 + 12 * e;
        if entry + 12 > b.len() {
            break;
        }
        out.extend([f(entry + 2, 2), f(entry + 4, 4), f(entry + 8, 4)]);
    }
    out
}

/// Segment lengths, and the frame header's sample precision, height, width and component count.
fn jpeg_fields(b: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= b.len() && b[at] == 0xFF {
        let marker = b[at + 1];
        out.push(be(at + 2, 2));
        if (0xC0..=0xC2).contains(&marker) && at + 10 <= b.len() {
            out.extend([be(at + 4, 1), be(at + 5, 2), be(at + 7, 2), be(at + 9, 1)]);
        }
        if marker == 0xDA {
            break;
        }
        at += 2 + u16::from_be_bytes([b[at + 2], b[at + 3]]) as usize;
    }
    out
}

/// MThd's length, format, track count and division; every MTrk's length.
fn midi_fields(b: &[u8]) -> Vec<Field> {
    let mut out = vec![be(4, 4), be(8, 2), be(10, 2), be(12, 2)];
    let mut at = 14;
    while at + 8 <= b.len() {
        out.push(be(at + 4, 4));
        at = at.saturating_add(8).saturating_add(u32::from_be_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize);
    }
    out
}
