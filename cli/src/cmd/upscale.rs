//! `latentforge upscale`: texture maps made 2x or 4x larger by the trained upscaler (or Lanczos
//! and bicubic), tile-safe: a tileable texture stays tileable. Each file keeps its channels, bit
//! depth and format; normal maps are renormalised, data maps upscaled as linear values.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use latentforge::infer::ModelStore;
use latentforge::io::limits::{DecodeLimits, OverLimit};
use latentforge::texture::map::{Container, Map, MapError, MapKind};
use latentforge::texture::{looks_like_normal_map, NormalConvention, Texture};
use latentforge::upscale::{upscaled_size, Edges, Method as UpscaleMethod, UpscaleModel, MAX_UPSCALED_SIDE};
use latentforge::InvalidValue;

use crate::args::{parse_scale, usage, LimitArgs};
use crate::events::Events;
use crate::output::{progress, Plan};
use crate::GlobalArgs;
use indicatif::ProgressBar;

pub const EXAMPLES: &str = "Examples:\n  \
    latentforge upscale rock_albedo.png --scale 4 -o rock_albedo_4k.png\n  \
    latentforge upscale Rock051_2K_*.png Rock051_2K_Displacement.exr --scale 2 --out-dir 4k/\n  \
    latentforge upscale photo.jpg --no-wrap --scale 2 -o photo_2x.png\n  \
    latentforge upscale wall_normal.png --kind normal-dx --method lanczos -o wall_normal_4x.png\n\n\
    A map's kind comes from its name (_Color, _NormalGL, _Roughness, _Height...; else colour) or\n\
    --kind. Colour is upscaled in sRGB, data maps as linear values, normals are renormalised. Edges\n\
    wrap (a tileable texture stays tileable, with no seam); --no-wrap mirrors them for images that\n\
    do not tile. Outputs keep each input's channels, bit depth and format (JPEG comes back as PNG)\n\
    and may be up to 16384 pixels per side. With --out-dir, each output is <name>_x<scale>.<ext>.";

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MethodArg {
    /// The trained upscaler (models/upscale): sharper detail, tile-safe.
    Network,
    /// Lanczos resampling (a = 3), with the same edge handling.
    Lanczos,
    /// Bicubic (Catmull-Rom) resampling, with the same edge handling.
    Bicubic,
}

#[derive(Args)]
pub struct UpscaleArgs {
    /// Maps to upscale (PNG, JPEG, TIFF or EXR).
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Output file (one input only).
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    output: Option<PathBuf>,
    /// Output folder (created if missing) for <name>_x<scale>.<ext>.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// 2 or 4.
    #[arg(long, default_value_t = 4, value_parser = parse_scale)]
    scale: usize,
    /// The images do not tile: mirror their edges instead of wrapping around.
    #[arg(long)]
    no_wrap: bool,
    #[arg(long, value_enum, default_value_t = MethodArg::Network)]
    method: MethodArg,
    /// What the maps hold: colour, normal (-gl, -dx), roughness, height, ao, metalness, opacity
    /// or any word for a data map (default: from each file's name, else colour).
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// Events on stdout, one JSON object per line (started, progress at least once a second,
    /// each file with its map kind, error naming the input, done) instead of text.
    #[arg(long)]
    json: bool,
}

/// The upscaler a run uses, loaded once.
pub enum Upscaler {
    Network(UpscaleModel),
    Lanczos,
    Bicubic,
}

impl Upscaler {
    pub fn load(method: MethodArg, g: &GlobalArgs) -> Result<Upscaler> {
        Ok(match method {
            MethodArg::Network => {
                let store = ModelStore::locate(g.models.as_deref())?;
                Upscaler::Network(
                    UpscaleModel::load(&*crate::runtime(g)?, &store)
                        .context("the upscaler did not load (`--method lanczos` needs no model)")?,
                )
            }
            MethodArg::Lanczos => Upscaler::Lanczos,
            MethodArg::Bicubic => Upscaler::Bicubic,
        })
    }

    pub fn method(&self) -> UpscaleMethod<'_> {
        match self {
            Upscaler::Network(m) => UpscaleMethod::Network(m),
            Upscaler::Lanczos => UpscaleMethod::Lanczos,
            Upscaler::Bicubic => UpscaleMethod::Bicubic,
        }
    }
}

/// `texture --upscale N`: every map a texture run writes, upscaled alike with edges wrapped (the
/// outputs tile), or passed through when the flag is absent.
pub struct MapUpscale(Option<(Upscaler, usize)>);

impl MapUpscale {
    /// Loads the upscaler when `factor` is given, after checking the outputs' size
    /// (`width` x `height` before upscaling) is allowed.
    pub fn load(factor: Option<usize>, (width, height): (usize, usize), g: &GlobalArgs) -> Result<MapUpscale> {
        let Some(f) = factor else { return Ok(MapUpscale(None)) };
        if let Err(e) = upscaled_size(width, height, f) {
            let allowed = format!("2 or 4, leaving each side at most {MAX_UPSCALED_SIDE} pixels ({e})");
            return Err(InvalidValue::new("upscale", f, allowed).into());
        }
        Ok(MapUpscale(Some((Upscaler::load(MethodArg::Network, g)?, f))))
    }

    pub fn factor(&self) -> usize {
        self.0.as_ref().map_or(1, |(_, f)| *f)
    }

    /// `m` upscaled, or `m` itself (not a copy) without --upscale.
    pub fn map<'a>(&self, m: &'a Map, kind: &MapKind) -> Result<Cow<'a, Map>> {
        match &self.0 {
            Some((u, f)) => Ok(Cow::Owned(u.method().map(m, kind, *f, Edges::Wrap)?)),
            None => Ok(Cow::Borrowed(m)),
        }
    }

    /// `t` upscaled, or `t` itself (not a copy) without --upscale.
    pub fn texture<'a>(&self, t: &'a Texture, kind: &MapKind) -> Result<Cow<'a, Texture>> {
        match &self.0 {
            Some((u, f)) => Ok(Cow::Owned(u.method().texture(t, kind, *f, Edges::Wrap)?)),
            None => Ok(Cow::Borrowed(t)),
        }
    }
}

/// Reads a map to upscale by `scale`: a header whose size would upscale past 16384 pixels per
/// side is refused before its pixels are decoded.
pub fn read_for_upscale(path: &Path, scale: usize, limits: &DecodeLimits) -> Result<Map> {
    let side = MAX_UPSCALED_SIDE / scale;
    let capped = DecodeLimits { max_side: limits.max_side.min(side), max_pixels: limits.max_pixels.min(side * side) };
    match Map::read(path, &capped) {
        Err(MapError::OverLimit(OverLimit::Pixels { width, height, .. }))
            if width.max(height) > side && width.max(height) <= limits.max_side =>
        {
            let e = upscaled_size(width, height, scale).expect_err("over the side limit");
            bail!("{}: {e}", path.display())
        }
        read => Ok(read?),
    }
}

pub fn run(g: &GlobalArgs, args: UpscaleArgs) -> Result<u8> {
    let forced = args
        .kind
        .as_deref()
        .map(|k| MapKind::from_flag(k, NormalConvention::OpenGl).map_err(|e| anyhow::anyhow!("--kind {e}")))
        .transpose()?;
    let outputs: Vec<PathBuf> = match (&args.output, &args.out_dir) {
        (Some(o), None) if args.images.len() == 1 => vec![o.clone()],
        (Some(_), None) => {
            return usage(format!("-o names one output; for {} inputs use --out-dir DIR", args.images.len()))
        }
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create the output folder", dir.display()))?;
            args.images.iter().map(|i| dir.join(output_name(i, args.scale))).collect()
        }
        _ => return usage("say where the output goes: -o FILE (one input) or --out-dir DIR"),
    };
    let mut plan = Plan::default();
    for (image, out) in args.images.iter().zip(&outputs) {
        container_of(out)?;
        plan.add(out.clone(), args.force, Some(image))?;
    }
    let upscaler = Upscaler::load(args.method, g)?;
    let events = Events::start(args.json, "upscale", &args.images);
    let bar = progress(g.quiet || args.json, args.images.len(), "maps");
    for (image, out) in args.images.iter().zip(&outputs) {
        events.working_on(image.to_string_lossy());
        let kind = forced.clone().or_else(|| MapKind::from_file_name(image)).unwrap_or(MapKind::Color);
        match upscale_one(&args, &upscaler, (image, out), &kind, &bar) {
            Ok(up) if !g.quiet && !args.json => bar.suspend(|| {
                println!("{} -> {} ({}x{}, {})", image.display(), out.display(), up.width, up.height, kind.word())
            }),
            Ok(_) => {}
            Err(e) => {
                events.failed(image, &e);
                return Err(e);
            }
        }
        events.file(image, out, &kind.word());
        events.finished(image.to_string_lossy());
        bar.inc(1);
    }
    bar.finish_and_clear();
    events.done();
    Ok(0)
}

/// Upscales `image` as a `kind` map into `out`; returns what it wrote.
fn upscale_one(
    args: &UpscaleArgs,
    upscaler: &Upscaler,
    (image, out): (&Path, &Path),
    kind: &MapKind,
    bar: &ProgressBar,
) -> Result<Map> {
    let edges = if args.no_wrap { Edges::Mirror } else { Edges::Wrap };
    let map = read_for_upscale(image, args.scale, &args.limits.limits(None))?;
    if *kind == MapKind::Color && map.channels >= 3 && looks_like_normal_map(&map.picture(kind)) {
        bar.suspend(|| {
            eprintln!(
                "warning: {} looks like a normal map but is upscaled as colour: pass --kind normal (or name it _Normal)",
                image.display()
            )
        });
    }
    let up = upscaler.method().map(&map, kind, args.scale, edges)?;
    // The output file's extension says its format; the input's bit depth is kept.
    let want = container_of(out)?;
    let up = if up.container == want { up } else { up.converted(want, None, kind.is_srgb()) };
    up.write(out)?;
    Ok(up)
}

/// `<stem>_x<scale>.<ext>`, ext the input's own (JPEG comes back as PNG).
fn output_name(image: &Path, scale: usize) -> String {
    let stem = image.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
    let ext = match ext_of(image).as_str() {
        "exr" => "exr",
        "tif" | "tiff" => "tif",
        _ => "png",
    };
    format!("{stem}_x{scale}.{ext}")
}

fn ext_of(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

fn container_of(path: &Path) -> Result<Container> {
    Ok(match ext_of(path).as_str() {
        "exr" => Container::Exr,
        "tif" | "tiff" => Container::Tiff,
        "png" => Container::Png,
        _ => return usage(format!("{}: outputs are written as .png, .tif or .exr", path.display())),
    })
}
