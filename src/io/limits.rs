//! Decode limits: what a file may claim before the engine allocates for it. Files come from other
//! people's machines, shares and DAW projects, so every reader checks a header against these
//! limits before any buffer sized by it exists, and reads text and MIDI files through a byte cap.
//! An over-limit file is an error naming the file, the claim and what raises the limit.
//!
//! The probes here ([`open_image`], [`check_exr`], [`read_bounded`]) are the one place the
//! readers of frames, texture maps, presets, manifests and MIDI clips go through.

use std::fs;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Largest width or height a decoded image may claim (a 16K render, an 8K texture fit).
pub const MAX_SIDE: usize = 16384;
/// Largest pixel count a decoded image may claim (16384 x 16384).
pub const MAX_PIXELS: usize = MAX_SIDE * MAX_SIDE;
/// Most channels one EXR may hold over all its parts (a Blender multilayer file with every pass
/// and Cryptomatte has about a hundred).
pub const MAX_CHANNELS: usize = 1024;
/// Most parts (layers written as separate headers) one EXR may hold.
pub const MAX_PARTS: usize = 256;
/// Samples (pixels x channels, all parts) an EXR may hold, per pixel of the pixel limit.
pub const SAMPLES_PER_PIXEL: usize = 16;
/// Largest preset, model manifest or other TOML file read.
pub const MAX_TEXT_BYTES: u64 = 1 << 20;
/// Largest MIDI clip read (a long multitrack song is a few hundred KB).
pub const MAX_MIDI_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_side: usize,
    pub max_pixels: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_side: MAX_SIDE, max_pixels: MAX_PIXELS }
    }
}

#[derive(Debug)]
pub enum OverLimit {
    Pixels { path: PathBuf, width: usize, height: usize, limits: DecodeLimits },
    Count { path: PathBuf, what: &'static str, claimed: usize, limit: usize },
    Bytes { path: PathBuf, what: &'static str, size: u64, limit: u64 },
}

impl OverLimit {
    /// The file refused.
    pub fn path(&self) -> &Path {
        match self {
            OverLimit::Pixels { path, .. } | OverLimit::Count { path, .. } | OverLimit::Bytes { path, .. } => path,
        }
    }

    /// What was claimed and which limit it broke, without the file name (for errors that put
    /// the name first themselves).
    pub fn detail(&self) -> String {
        match self {
            OverLimit::Pixels { width, height, limits, .. } => format!(
                "header claims {width}x{height} ({} pixels), over the {} limit (--max-pixels raises it)",
                short_count(*width as u128 * *height as u128),
                limit_text(*width, *height, limits)
            ),
            OverLimit::Count { what, claimed, limit, .. } => {
                format!("header claims {claimed} {what}, over the limit of {limit}; remove passes or parts it does not need")
            }
            OverLimit::Bytes { what, size, limit, .. } => {
                format!("{size} bytes or more, over the {limit} byte limit for {what}; is it the right file?")
            }
        }
    }
}

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.detail())
    }
}

impl std::error::Error for OverLimit {}

/// "10 G", "268 M", "4096": a pixel count as people say it.
fn short_count(n: u128) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{} G", n / 1_000_000_000),
        n if n >= 1_000_000 => format!("{} M", n / 1_000_000),
        n => n.to_string(),
    }
}

/// The limit the claim broke: the pixel count, or else a side.
fn limit_text(width: usize, height: usize, l: &DecodeLimits) -> String {
    if width as u128 * height as u128 > l.max_pixels as u128 {
        format!("{} pixel", short_count(l.max_pixels as u128))
    } else {
        format!("{} pixels per side", l.max_side)
    }
}

/// Why a header probe refused a file.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The header itself does not parse, or describes something the engine does not read.
    #[error(transparent)]
    Corrupt(#[from] Malformed),
    #[error(transparent)]
    Over(#[from] OverLimit),
}

/// Why a file's bytes are not what its name says: the decoder's own error, kept as it is, or
/// what one of our header checks found.
#[derive(Debug, thiserror::Error)]
pub enum Malformed {
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Exr(#[from] exr::error::Error),
    #[error(transparent)]
    Midi(#[from] midly::Error),
    #[error("not UTF-8 text")]
    NotUtf8(#[source] std::string::FromUtf8Error),
    /// A third-party decoder panicked on the file (its message, as far as it said one).
    #[error("the decoder failed on it: {0}")]
    DecoderPanic(String),
    /// What a header check of ours found (a size, a count, a missing mark).
    #[error("{0}")]
    Header(String),
}

impl Malformed {
    /// A header check's finding.
    pub fn header(what: impl Into<String>) -> Malformed {
        Malformed::Header(what.into())
    }
}

impl DecodeLimits {
    /// Limits with `max_pixels` as given and the side limit raised with it (a `--max-pixels`
    /// above 268 M admits panoramas: a side may reach max_pixels / 16384).
    pub fn with_max_pixels(max_pixels: usize) -> Self {
        DecodeLimits { max_pixels, max_side: MAX_SIDE.max(max_pixels / MAX_SIDE) }
    }

    /// Checks the size a header claims; zero sides are the caller's to reject as corrupt.
    pub fn check(&self, path: &Path, width: usize, height: usize) -> Result<(), OverLimit> {
        let pixels = width as u128 * height as u128;
        if width > self.max_side || height > self.max_side || pixels > self.max_pixels as u128 {
            return Err(OverLimit::Pixels { path: path.to_path_buf(), width, height, limits: *self });
        }
        Ok(())
    }

    /// Bytes a decoder may allocate for one image of `bytes_per_pixel`, for decoders that take
    /// an allocation cap (the `image` crate).
    pub fn max_alloc(&self, bytes_per_pixel: usize) -> u64 {
        (self.max_pixels as u64).saturating_mul(bytes_per_pixel as u64).saturating_add(1 << 20)
    }
}

/// Opens an image for the `image` crate with its size checked first: the header is read for
/// the dimensions, checked, and the decoder gets allocation limits to match.
pub fn open_image(path: &Path, limits: &DecodeLimits) -> Result<image::ImageReader<BufReader<fs::File>>, ProbeError> {
    // Up to RGBA f32 per pixel, the widest the engine decodes. The header is read under the
    // allocation cap alone, so an over-size claim reaches our check (and its message) below.
    let open = |sides: bool| -> Result<image::ImageReader<BufReader<fs::File>>, ProbeError> {
        let mut reader = image::ImageReader::open(path)?.with_guessed_format()?;
        let mut cap = image::Limits::default();
        cap.max_alloc = Some(limits.max_alloc(16));
        if sides {
            cap.max_image_width = Some(limits.max_side.min(u32::MAX as usize) as u32);
            cap.max_image_height = Some(limits.max_side.min(u32::MAX as usize) as u32);
        }
        reader.limits(cap);
        Ok(reader)
    };
    let probe = open(false)?;
    if probe.format() == Some(image::ImageFormat::Tiff) {
        check_tiff(path)?;
    }
    let (w, h) = probe.into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => Malformed::header(format!("{e} (--max-pixels raises the limit)")),
        e => Malformed::Image(e),
    })?;
    if w == 0 || h == 0 {
        return Err(Malformed::header(format!("its header claims {w}x{h} pixels")).into());
    }
    limits.check(path, w as usize, h as usize)?;
    open(true)
}

/// Most values one TIFF tag may hold (strip offsets of a 16K image in 1-row strips are 16384;
/// the `tiff` crate keeps each value in 32 bytes, before the `image` crate's limits apply).
pub const MAX_TIFF_TAG_VALUES: u64 = 1 << 22;

/// Walks a TIFF's directories (classic and BigTIFF) and refuses a tag whose value count claims
/// more data than the file holds: the `tiff` decoder allocates for the count as it opens.
pub fn check_tiff(path: &Path) -> Result<(), ProbeError> {
    use std::io::{Seek, SeekFrom};
    let corrupt = |what: String| ProbeError::Corrupt(Malformed::Header(what));
    let mut file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 16];
    let got = file.read(&mut head)?;
    if got < 8 {
        return Err(corrupt("shorter than a TIFF header".into()));
    }
    let big_endian = match &head[..2] {
        b"MM" => true,
        b"II" => false,
        _ => return Err(corrupt("not a TIFF byte-order mark".into())),
    };
    let num = |b: &[u8]| -> u64 {
        let mut v = 0u64;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64) << (8 * if big_endian { b.len() - 1 - i } else { i });
        }
        v
    };
    let bigtiff = num(&head[2..4]) == 43;
    let (count_len, entry_len, offset_len) = if bigtiff { (8, 20, 8) } else { (2, 12, 4) };
    let mut ifd = if bigtiff { num(&head[8..16]) } else { num(&head[4..8]) };
    // Directories are chained; a loop or a long chain in a damaged file stops here.
    for _ in 0..64 {
        if ifd == 0 {
            return Ok(());
        }
        if ifd >= len {
            return Err(corrupt(format!("a directory offset {ifd} beyond the file's {len} bytes")));
        }
        file.seek(SeekFrom::Start(ifd))?;
        let mut count = [0u8; 8];
        file.read_exact(&mut count[..count_len]).map_err(|_| corrupt("a truncated directory".into()))?;
        let entries = num(&count[..count_len]);
        if entries.saturating_mul(entry_len as u64) > len {
            return Err(corrupt(format!("a directory of {entries} entries, more than the file holds")));
        }
        let mut table = vec![0u8; entries as usize * entry_len + offset_len];
        file.read_exact(&mut table).map_err(|_| corrupt("a truncated directory".into()))?;
        for e in table[..entries as usize * entry_len].chunks_exact(entry_len) {
            let (tag, kind) = (num(&e[0..2]), num(&e[2..4]));
            let values = num(&e[4..4 + offset_len]);
            let size: u64 = match kind {
                1 | 2 | 6 | 7 => 1,
                3 | 8 => 2,
                4 | 9 | 11 | 13 => 4,
                5 | 10 | 12 | 16 | 17 | 18 => 8,
                _ => 1,
            };
            if values > MAX_TIFF_TAG_VALUES || values.saturating_mul(size) > len {
                return Err(corrupt(format!(
                    "tag {tag} claims {values} values, more than the file's {len} bytes hold"
                )));
            }
        }
        ifd = num(&table[entries as usize * entry_len..]);
    }
    Err(corrupt("more than 64 directories (a loop in a damaged file?)".into()))
}

/// Reads an EXR's headers (every part) and checks what they claim: size per part, parts,
/// channels and samples in all; deep data is refused, the engine reads flat images only.
pub fn check_exr(path: &Path, limits: &DecodeLimits) -> Result<exr::meta::MetaData, ProbeError> {
    let file = fs::File::open(path)?;
    let meta = exr::meta::MetaData::read_from_unbuffered(file, false).map_err(Malformed::Exr)?;
    let count = |what, claimed, limit| OverLimit::Count { path: path.to_path_buf(), what, claimed, limit };
    if meta.headers.len() > MAX_PARTS {
        return Err(count("parts", meta.headers.len(), MAX_PARTS).into());
    }
    let (mut channels, mut samples) = (0usize, 0u128);
    for header in meta.headers.iter() {
        if header.deep || meta.requirements.has_deep_data {
            return Err(Malformed::header("deep data (per-pixel sample lists); flatten it to a plain EXR").into());
        }
        let (w, h) = (header.layer_size.0, header.layer_size.1);
        limits.check(path, w, h)?;
        channels += header.channels.list.len();
        samples += w as u128 * h as u128 * header.channels.list.len() as u128;
    }
    if channels > MAX_CHANNELS {
        return Err(count("channels", channels, MAX_CHANNELS).into());
    }
    let max_samples = limits.max_pixels as u128 * SAMPLES_PER_PIXEL as u128;
    if samples > max_samples {
        let (claimed, limit) = (samples.min(usize::MAX as u128) as usize, max_samples as usize);
        return Err(count("samples (pixels x channels)", claimed, limit).into());
    }
    Ok(meta)
}

/// Runs a third-party decoder, turning a panic on a damaged file into a refusal: the `exr` crate
/// indexes its buffers by chunk headers it has not fully checked, and a reader must never take
/// a service down.
pub fn contain_panics<T>(decode: impl FnOnce() -> T) -> Result<T, ProbeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        ProbeError::Corrupt(Malformed::DecoderPanic(text))
    })
}

/// Reads at most `limit` bytes of `path`; a longer file (or one that keeps growing, or a
/// device) is refused without reading the rest.
pub fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ProbeError> {
    let mut bytes = Vec::new();
    fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(OverLimit::Bytes { path: path.to_path_buf(), what, size: bytes.len() as u64, limit }.into());
    }
    Ok(bytes)
}

/// [`read_bounded`] for UTF-8 text (presets, manifests).
pub fn read_text_bounded(path: &Path, limit: u64, what: &'static str) -> Result<String, ProbeError> {
    String::from_utf8(read_bounded(path, limit, what)?).map_err(|e| Malformed::NotUtf8(e).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_limit_names_the_file_the_claim_and_the_flag() {
        let l = DecodeLimits::default();
        assert!(l.check(Path::new("a.exr"), 16384, 16384).is_ok());
        let e = l.check(Path::new("frame.exr"), 100_000, 100_000).unwrap_err().to_string();
        assert_eq!(
            e,
            "frame.exr: header claims 100000x100000 (10 G pixels), over the 268 M pixel limit (--max-pixels raises it)"
        );
        let e = l.check(Path::new("a.png"), 20000, 10).unwrap_err().to_string();
        assert!(e.contains("over the 16384 pixels per side limit"), "{e}");
        let raised = DecodeLimits::with_max_pixels(32768 * 20000);
        assert!(raised.check(Path::new("a.exr"), 32768, 20000).is_ok());
    }

    /// A small EXR, its version flags and header rewritten to say it holds deep scanlines.
    fn deep_exr(dir: &Path) -> PathBuf {
        use crate::io::frame::{write_exr_channels, ExrChannel};
        let path = dir.join("deep.exr");
        let ch = |n: &str| ExrChannel { name: n.into(), half: true, data: vec![0.5; 16] };
        write_exr_channels(&path, 4, 4, &[ch("R"), ch("G"), ch("B")]).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[5] |= 0x08; // the "non-image" (deep) flag
        let mut attrs = Vec::new();
        for (name, kind, value) in [
            ("type", "string", b"deepscanline".to_vec()),
            ("version", "int", 1i32.to_le_bytes().to_vec()),
            ("maxSamplesPerPixel", "int", 4i32.to_le_bytes().to_vec()),
        ] {
            attrs.extend_from_slice(format!("{name}\0{kind}\0").as_bytes());
            attrs.extend_from_slice(&(value.len() as i32).to_le_bytes());
            attrs.extend_from_slice(&value);
        }
        bytes.splice(8..8, attrs);
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn deep_exr_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_exr(&deep_exr(dir.path()), &DecodeLimits::default()).unwrap_err().to_string();
        assert!(e.contains("deep data"), "{e}");
    }

    #[test]
    fn bounded_reads_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        fs::write(&path, vec![b'#'; 2000]).unwrap();
        assert_eq!(read_bounded(&path, 2000, "a preset").unwrap().len(), 2000);
        let e = read_text_bounded(&path, 1000, "a preset").unwrap_err().to_string();
        assert!(e.contains("big.toml") && e.contains("1000 byte limit for a preset"), "{e}");
    }
}
