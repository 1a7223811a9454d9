//! Portable Float Map frames (OIDN's own test format): linear RGB or grey, rows bottom to top.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use super::{Encoding, FileFormat, Frame, FrameError};
use crate::io::limits::{DecodeLimits, Malformed};

pub(super) fn read_pfm(path: &Path, limits: &DecodeLimits) -> Result<Frame, FrameError> {
    let corrupt = |what: &str| FrameError::corrupt(path, "PFM", Malformed::header(what));
    let read_err = |source: io::Error| FrameError::Read { path: path.to_path_buf(), source };
    let file = fs::File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut reader = BufReader::new(file);
    let mut header = Vec::new();
    let mut header_len = 0u64;
    // Three whitespace-separated header lines: "PF"/"Pf", "W H", scale (negative = little endian).
    for _ in 0..3 {
        let mut line = Vec::new();
        // A header line is short: one without a newline in its first bytes is not PFM.
        (&mut reader).take(HEADER_LINE).read_until(b'\n', &mut line).map_err(read_err)?;
        if line.last() != Some(&b'\n') {
            return Err(corrupt("header line missing or too long"));
        }
        header_len += line.len() as u64;
        header.push(String::from_utf8_lossy(&line).trim().to_string());
    }
    let channels = match header[0].as_str() {
        "PF" => 3,
        "Pf" => 1,
        _ => return Err(corrupt("missing PF/Pf magic")),
    };
    let dims: Vec<usize> = header[1].split_whitespace().filter_map(|v| v.parse().ok()).collect();
    let [width, height] = dims[..] else { return Err(corrupt("bad size line")) };
    if width == 0 || height == 0 {
        return Err(corrupt("zero width or height"));
    }
    limits.check(path, width, height)?;
    let scale: f32 = header[2].parse().map_err(|_| corrupt("bad scale line"))?;
    let count = width * height * channels;
    // The size check above bounds `count`; the file must also hold it before it is allocated.
    if file_len < header_len + count as u64 * 4 {
        return Err(corrupt(&format!("expected {} bytes of pixels, found {}", count * 4, file_len - header_len)));
    }
    let mut bytes = vec![0u8; count * 4];
    reader.read_exact(&mut bytes).map_err(read_err)?;
    let mut color = vec![0.0f32; width * height * 3];
    for y in 0..height {
        // PFM stores rows bottom to top.
        let src_row = height - 1 - y;
        for x in 0..width {
            for c in 0..3 {
                let src_c = if channels == 3 { c } else { 0 };
                let at = ((src_row * width + x) * channels + src_c) * 4;
                let raw = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
                color[(y * width + x) * 3 + c] =
                    if scale < 0.0 { f32::from_le_bytes(raw) } else { f32::from_be_bytes(raw) };
            }
        }
    }
    Ok(Frame::new_rgb(width, height, color, Encoding::Linear, FileFormat::Pfm))
}

/// Longest header line read.
const HEADER_LINE: u64 = 256;

pub(super) fn write_pfm(frame: &Frame, path: &Path) -> io::Result<()> {
    let mut out = Vec::with_capacity(frame.pixels() * 12 + 32);
    write!(out, "PF\n{} {}\n-1.0\n", frame.width, frame.height)?;
    let color = frame.linear_color();
    for y in (0..frame.height).rev() {
        for v in &color[y * frame.width * 3..(y + 1) * frame.width * 3] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::super::{read_frame, write_frame_atomic};
    use super::*;
    use crate::io::limits::DecodeLimits;

    fn ramp(w: usize, h: usize) -> Vec<f32> {
        (0..w * h * 3).map(|i| (i % 97) as f32 / 40.0).collect()
    }

    #[test]
    fn pfm_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pfm");
        let f = Frame::new_rgb(5, 3, ramp(5, 3), Encoding::Linear, FileFormat::Pfm);
        write_frame_atomic(&f, &path).unwrap();
        let g = read_frame(&path, &DecodeLimits::default()).unwrap();
        assert_eq!((g.width, g.height), (5, 3));
        assert_eq!(g.color, f.color);
    }
}
