//! A texture as an image: sRGB (or data) values in 0..1, read with wrap-around; its seam score;
//! resampling that keeps it tiling; contact sheets; writing it as PNG or EXR.

use std::path::Path;

use super::TextureError;
use crate::io::frame::{self, Encoding, FileFormat, Frame};

/// Interleaved RGB in 0..1; `encoding` says whether it is sRGB colour or data (height, normal).
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<f32>,
    pub encoding: Encoding,
}

impl Texture {
    pub fn new(width: usize, height: usize, encoding: Encoding) -> Texture {
        Texture { width, height, rgb: vec![0.0; width * height * 3], encoding }
    }

    /// Channel `c` at (x, y), wrapping around both edges.
    pub fn at(&self, x: isize, y: isize, c: usize) -> f32 {
        let (w, h) = (self.width as isize, self.height as isize);
        self.rgb[((y.rem_euclid(h) * w + x.rem_euclid(w)) as usize) * 3 + c]
    }

    /// Rec. 709 luminance of every pixel.
    pub fn luminance(&self) -> Vec<f32> {
        self.rgb.chunks_exact(3).map(|p| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]).collect()
    }

    /// The origin (x, y) that puts this tile's edges on its calmest column and row: the pair of
    /// neighbouring columns (rows) that differ least, which then become the last and the first.
    /// A tiling texture has no seam anywhere, but an edge through busy detail (a crack, a
    /// pebble) stands out where the tile meets a border or a different material.
    pub fn calm_origin(&self) -> (usize, usize) {
        calm_origin(self.width, self.height, |a, b| {
            (0..3).map(|c| (self.rgb[a * 3 + c] - self.rgb[b * 3 + c]).abs() as f64).sum()
        })
    }

    /// Translated with wrap-around so that (x, y) becomes the top-left pixel: tiled, the same
    /// pattern. In place, so a 4096² texture needs no second copy.
    pub fn roll(&mut self, (x, y): (usize, usize)) {
        let row = self.width * 3;
        self.rgb.rotate_left((y % self.height.max(1)) * row);
        for line in self.rgb.chunks_exact_mut(row) {
            line.rotate_left((x % self.width.max(1)) * 3);
        }
    }

    /// Resampled to `width` x `height` by bilinear interpolation with wrap-around, so a tiling
    /// texture still tiles at any size.
    pub fn resized(&self, width: usize, height: usize) -> Texture {
        if (width, height) == (self.width, self.height) {
            return self.clone();
        }
        let mut out = Texture::new(width, height, self.encoding);
        let (sx, sy) = (self.width as f32 / width as f32, self.height as f32 / height as f32);
        for y in 0..height {
            let fy = (y as f32 + 0.5) * sy - 0.5;
            let (y0, ty) = (fy.floor() as isize, fy - fy.floor());
            for x in 0..width {
                let fx = (x as f32 + 0.5) * sx - 0.5;
                let (x0, tx) = (fx.floor() as isize, fx - fx.floor());
                for c in 0..3 {
                    let top = self.at(x0, y0, c) * (1.0 - tx) + self.at(x0 + 1, y0, c) * tx;
                    let bottom = self.at(x0, y0 + 1, c) * (1.0 - tx) + self.at(x0 + 1, y0 + 1, c) * tx;
                    out.rgb[(y * width + x) * 3 + c] = top * (1.0 - ty) + bottom * ty;
                }
            }
        }
        out
    }

    /// Writes the texture as PNG (8 or 16 bit) or EXR (float; sRGB colour becomes linear),
    /// atomically, by the extension of `path`.
    pub fn write(&self, path: &Path, sixteen_bit: bool) -> Result<(), TextureError> {
        let format = FileFormat::from_path(path).unwrap_or(FileFormat::Png);
        let mut f = Frame::new_rgb(self.width, self.height, self.rgb.clone(), self.encoding, format);
        f.wide = sixteen_bit || format == FileFormat::Exr;
        Ok(frame::write_frame_atomic(&f, path)?)
    }
}

/// The origin that puts a `width` x `height` tile's edges on its calmest column and row: the pair
/// of neighbouring columns (rows) whose pixels differ least, `step(a, b)` being the difference
/// between pixels `a` and `b` (row-major indices), which then become the last and the first.
pub fn calm_origin(width: usize, height: usize, step: impl Fn(usize, usize) -> f64) -> (usize, usize) {
    let (w, h) = (width, height);
    let (mut col, mut row) = (vec![0.0f64; w], vec![0.0f64; h]);
    for (y, row_step) in row.iter_mut().enumerate() {
        for (x, col_step) in col.iter_mut().enumerate() {
            let here = y * w + x;
            *col_step += step(here, y * w + (x + 1) % w);
            *row_step += step(here, ((y + 1) % h) * w + x);
        }
    }
    let calmest = |d: &[f64]| (0..d.len()).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap_or(0);
    ((calmest(&col) + 1) % w, (calmest(&row) + 1) % h)
}

/// How visible the wrap-around seam is: the mean absolute difference between the last and the
/// first column and row, divided by the mean absolute difference between neighbouring pixels
/// inside the image. 1.0 means the seam looks like any other pair of neighbours.
pub fn seam_score(t: &Texture) -> f64 {
    let (w, h) = (t.width as isize, t.height as isize);
    let diff = |a: (isize, isize), b: (isize, isize)| -> f64 {
        (0..3).map(|c| (t.at(a.0, a.1, c) - t.at(b.0, b.1, c)).abs() as f64).sum::<f64>() / 3.0
    };
    let (mut seam, mut seam_n, mut inside, mut inside_n) = (0.0, 0usize, 0.0, 0usize);
    for y in 0..h {
        for x in 0..w {
            let (right, down) = (diff((x, y), (x + 1, y)), diff((x, y), (x, y + 1)));
            if x == w - 1 {
                (seam, seam_n) = (seam + right, seam_n + 1);
            } else {
                (inside, inside_n) = (inside + right, inside_n + 1);
            }
            if y == h - 1 {
                (seam, seam_n) = (seam + down, seam_n + 1);
            } else {
                (inside, inside_n) = (inside + down, inside_n + 1);
            }
        }
    }
    (seam / seam_n.max(1) as f64) / (inside / inside_n.max(1) as f64).max(1e-12)
}

/// The textures side by side, `columns` to a row, each scaled to `cell` pixels square.
pub fn contact_sheet(textures: &[Texture], columns: usize, cell: usize) -> Texture {
    let columns = columns.clamp(1, textures.len().max(1));
    let rows = textures.len().div_ceil(columns).max(1);
    let gap = 4;
    let (width, height) = (columns * cell + (columns + 1) * gap, rows * cell + (rows + 1) * gap);
    let mut sheet = Texture::new(width, height, textures.first().map_or(Encoding::Srgb, |t| t.encoding));
    sheet.rgb.fill(0.18);
    for (i, t) in textures.iter().enumerate() {
        let small = t.resized(cell, cell);
        let (ox, oy) = (gap + (i % columns) * (cell + gap), gap + (i / columns) * (cell + gap));
        for y in 0..cell {
            let row = &small.rgb[y * cell * 3..(y + 1) * cell * 3];
            sheet.rgb[((oy + y) * width + ox) * 3..][..cell * 3].copy_from_slice(row);
        }
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A periodic pattern (tiles exactly) and the same pattern cut off (does not).
    fn waves(w: usize, h: usize, periods: f32) -> Texture {
        let mut t = Texture::new(w, h, Encoding::Srgb);
        for y in 0..h {
            for x in 0..w {
                let v =
                    0.5 + 0.4 * (std::f32::consts::TAU * periods * (x as f32 / w as f32 + y as f32 / h as f32)).sin();
                t.rgb[(y * w + x) * 3..][..3].copy_from_slice(&[v, v * 0.8, 1.0 - v]);
            }
        }
        t
    }

    #[test]
    fn seam_score_is_one_for_tiling_images_and_larger_for_cut_ones() {
        let tiling = seam_score(&waves(64, 48, 3.0));
        assert!((tiling - 1.0).abs() < 0.05, "{tiling}");
        let cut = seam_score(&waves(64, 48, 2.6));
        assert!(cut > 3.0, "{cut}");
    }

    #[test]
    fn resizing_keeps_a_texture_tiling() {
        let t = waves(64, 64, 4.0);
        for (w, h) in [(100, 100), (48, 80), (64, 64)] {
            let r = t.resized(w, h);
            assert_eq!((r.width, r.height, r.rgb.len()), (w, h, w * h * 3));
            assert!(seam_score(&r) < 1.1, "{w}x{h}: {}", seam_score(&r));
        }
    }

    #[test]
    fn rolling_moves_the_edges_to_the_calmest_lines_and_keeps_the_pattern() {
        let mut t = waves(64, 48, 2.0);
        // A busy column pair (9, 10) and row pair (30, 31): the calm origin must avoid both.
        for y in 0..48 {
            t.rgb[(y * 64 + 10) * 3] = if y % 2 == 0 { 1.0 } else { 0.0 };
        }
        for x in 0..64 {
            t.rgb[(31 * 64 + x) * 3 + 1] = if x % 2 == 0 { 1.0 } else { 0.0 };
        }
        let origin = t.calm_origin();
        assert!(![10, 11].contains(&origin.0) && ![31, 32].contains(&origin.1), "{origin:?}");
        let mut rolled = t.clone();
        rolled.roll(origin);
        for (x, y) in [(0, 0), (5, 47), (63, 20), (17, 3)] {
            for c in 0..3 {
                let moved = t.at((x + origin.0) as isize, (y + origin.1) as isize, c);
                assert_eq!(rolled.at(x as isize, y as isize, c), moved, "({x}, {y})");
            }
        }
        assert!(seam_score(&rolled) <= seam_score(&t));
    }

    #[test]
    fn sheets_hold_every_texture() {
        let ts = vec![waves(32, 32, 1.0); 5];
        let s = contact_sheet(&ts, 3, 16);
        assert_eq!((s.width, s.height), (3 * 16 + 4 * 4, 2 * 16 + 3 * 4));
    }
}
