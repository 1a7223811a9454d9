//! What tests, benches and `--json` report of a texture beside its seam score
//! ([`super::seam_score`]): how much it repeats (autocorrelation), how much of it is one block
//! copied unchanged from the exemplar (a variation must not be the exemplar shifted), and how
//! close its local statistics are to the exemplar's (SWD, with the exemplar's own spread as the
//! band to read it against).

use std::collections::HashMap;

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::exemplar::CoordMap;
use super::image::Texture;
use crate::infer::latent::hash;

/// Largest side the repetition score works at (larger textures are box-filtered down first).
const REPETITION_SIDE: usize = 512;

/// The largest normalised autocorrelation of the texture's luminance at a (toroidal) shift of at
/// least `min_shift` pixels: 1.0 for an exact repeat at that distance, near 0 for none.
pub fn repetition_score(t: &Texture, min_shift: usize) -> f64 {
    let f = t.width.max(t.height).div_ceil(REPETITION_SIDE).max(1);
    let (w, h) = (t.width / f, t.height / f);
    let luma = t.luminance();
    let mut v = vec![0.0f64; w * h];
    for y in 0..h * f {
        for x in 0..w * f {
            v[(y / f) * w + x / f] += luma[y * t.width + x] as f64;
        }
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let mut buf: Vec<Complex<f64>> = v.iter().map(|&x| Complex::new(x - mean, 0.0)).collect();
    let mut planner = FftPlanner::new();
    fft2(&mut buf, w, h, &mut planner, false);
    buf.iter_mut().for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
    fft2(&mut buf, w, h, &mut planner, true);
    let zero = buf[0].re.max(1e-12);
    let min = (min_shift / f).max(1) as isize;
    let mut best = 0.0f64;
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = ((x as isize).min(w as isize - x as isize), (y as isize).min(h as isize - y as isize));
            if dx.max(dy) >= min {
                best = best.max(buf[y * w + x].re / zero);
            }
        }
    }
    best
}

fn fft2(buf: &mut [Complex<f64>], w: usize, h: usize, planner: &mut FftPlanner<f64>, inverse: bool) {
    let rows = if inverse { planner.plan_fft_inverse(w) } else { planner.plan_fft_forward(w) };
    for row in buf.chunks_exact_mut(w) {
        rows.process(row);
    }
    let cols = if inverse { planner.plan_fft_inverse(h) } else { planner.plan_fft_forward(h) };
    let mut col = vec![Complex::new(0.0, 0.0); h];
    for x in 0..w {
        for y in 0..h {
            col[y] = buf[y * w + x];
        }
        cols.process(&mut col);
        for y in 0..h {
            buf[y * w + x] = col[y];
        }
    }
}

/// Share of the output covered by its largest block copied unchanged: the largest 4-connected
/// set of pixels whose source coordinates move with them (neighbours in the output are
/// neighbours in the exemplar, wrapping when the exemplar tiles).
pub fn verbatim_from_coords(coords: &CoordMap, source: (usize, usize), tiles: bool) -> f64 {
    let src: Vec<Option<(usize, usize)>> = (0..coords.uv.len()).map(|i| Some(coords.pixel(i, source))).collect();
    largest_coherent_block(&src, coords.width, coords.height, source, tiles)
}

/// The same score for an image alone (a tool that gives no coordinate map): each output pixel is
/// located in the exemplar by an exact match of its 3x3 neighbourhood (8-bit values, unique in
/// the exemplar); pixels not found belong to no block.
pub fn verbatim_from_images(output: &Texture, exemplar: &Texture) -> f64 {
    let key = |t: &Texture, x: isize, y: isize| -> [u8; 27] {
        let mut k = [0u8; 27];
        for (i, (dx, dy)) in (-1..=1).flat_map(|dy| (-1..=1).map(move |dx| (dx, dy))).enumerate() {
            for c in 0..3 {
                k[i * 3 + c] = (t.at(x + dx, y + dy, c).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
        k
    };
    let (ew, eh) = (exemplar.width, exemplar.height);
    let mut index: HashMap<[u8; 27], Option<(usize, usize)>> = HashMap::new();
    for y in 1..eh.saturating_sub(1) {
        for x in 1..ew.saturating_sub(1) {
            index.entry(key(exemplar, x as isize, y as isize)).and_modify(|v| *v = None).or_insert(Some((x, y)));
        }
    }
    let (w, h) = (output.width, output.height);
    let src: Vec<Option<(usize, usize)>> =
        (0..w * h).map(|i| index.get(&key(output, (i % w) as isize, (i / w) as isize)).copied().flatten()).collect();
    largest_coherent_block(&src, w, h, (ew, eh), false)
}

fn largest_coherent_block(
    src: &[Option<(usize, usize)>],
    w: usize,
    h: usize,
    (ew, eh): (usize, usize),
    tiles: bool,
) -> f64 {
    let follows = |a: (usize, usize), b: (usize, usize), dx: usize, dy: usize| {
        if tiles {
            (a.0 + dx) % ew == b.0 && (a.1 + dy) % eh == b.1
        } else {
            a.0 + dx == b.0 && a.1 + dy == b.1
        }
    };
    let mut seen = vec![false; w * h];
    let (mut largest, mut stack) = (0usize, Vec::new());
    for start in 0..w * h {
        if seen[start] || src[start].is_none() {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut size = 0;
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let here = src[i].expect("only located pixels are pushed");
            // Right, left, down, up; the output wraps, so its edge pixels have neighbours too.
            let steps = [((x + 1) % w + y * w, 1, 0, true), ((x + w - 1) % w + y * w, 1, 0, false)];
            let more = [(x + ((y + 1) % h) * w, 0, 1, true), (x + ((y + h - 1) % h) * w, 0, 1, false)];
            for (j, dx, dy, forward) in steps.into_iter().chain(more) {
                let Some(there) = src[j] else { continue };
                let ok = if forward { follows(here, there, dx, dy) } else { follows(there, here, dx, dy) };
                if ok && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        largest = largest.max(size);
    }
    largest as f64 / (w * h).max(1) as f64
}

const SWD_PATCH: usize = 7;
const SWD_PATCHES: usize = 1024;
const SWD_PROJECTIONS: usize = 512;
const SWD_LEVELS: usize = 4;

/// Multi-scale sliced Wasserstein distance (x1e3) between two textures' 7x7 Laplacian-pyramid
/// neighbourhoods, as models/train/texture/evaluate.py computes it (Progressive GAN's SWD).
pub fn swd(a: &Texture, b: &Texture, seed: u64) -> f64 {
    let (pa, pb) = (patches(a, seed, 1), patches(b, seed, 2));
    let dim = SWD_PATCH * SWD_PATCH * 3;
    let (mut total, mut levels) = (0.0, 0);
    for level in 0..SWD_LEVELS {
        let (xa, xb) = (&pa[level], &pb[level]);
        let n = (xa.len() / dim).min(xb.len() / dim);
        // A level smaller than a patch (a small image's coarsest) has nothing to compare.
        if n == 0 {
            continue;
        }
        levels += 1;
        let mut mean = vec![0.0f64; dim];
        let mut var = vec![0.0f64; dim];
        for v in xa[..n * dim].chunks_exact(dim).chain(xb[..n * dim].chunks_exact(dim)) {
            for d in 0..dim {
                mean[d] += v[d] / (2 * n) as f64;
            }
        }
        for v in xa[..n * dim].chunks_exact(dim).chain(xb[..n * dim].chunks_exact(dim)) {
            for d in 0..dim {
                var[d] += (v[d] - mean[d]).powi(2) / (2 * n) as f64;
            }
        }
        let std: Vec<f64> = var.iter().map(|v| v.sqrt() + 1e-8).collect();
        let mut dist = 0.0;
        for p in 0..SWD_PROJECTIONS {
            let dir: Vec<f64> = (0..dim).map(|d| gaussian(seed, 3 + level as u64, (p * dim + d) as u64)).collect();
            let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
            let project = |x: &[f64]| -> Vec<f64> {
                let mut out: Vec<f64> = x[..n * dim]
                    .chunks_exact(dim)
                    .map(|v| (0..dim).map(|d| (v[d] - mean[d]) / std[d] * dir[d]).sum::<f64>() / norm)
                    .collect();
                out.sort_by(f64::total_cmp);
                out
            };
            let (sa, sb) = (project(xa), project(xb));
            dist += sa.iter().zip(&sb).map(|(x, y)| (x - y).abs()).sum::<f64>() / n as f64;
        }
        total += dist / SWD_PROJECTIONS as f64 * 1e3;
    }
    total / levels.max(1) as f64
}

/// The exemplar's own spread: quartiles of the SWD from each of its four quadrants (two draws
/// each) to the whole. An output at or below the 75th percentile is as close to the exemplar as
/// a piece of the exemplar itself is.
pub fn swd_band(exemplar: &Texture) -> [f64; 3] {
    let (hw, hh) = (exemplar.width / 2, exemplar.height / 2);
    let mut d = Vec::new();
    for q in 0..4 {
        let (ox, oy) = ((q % 2) * hw, (q / 2) * hh);
        let mut part = Texture::new(hw, hh, exemplar.encoding);
        for y in 0..hh {
            for x in 0..hw {
                for c in 0..3 {
                    part.rgb[(y * hw + x) * 3 + c] = exemplar.at((ox + x) as isize, (oy + y) as isize, c);
                }
            }
        }
        for seed in 0..2 {
            d.push(swd(&part, exemplar, 100 + seed));
        }
    }
    d.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let at = p * (d.len() - 1) as f64;
        let (i, t) = (at.floor() as usize, at - at.floor());
        d[i] * (1.0 - t) + d[(i + 1).min(d.len() - 1)] * t
    };
    [q(0.25), q(0.5), q(0.75)]
}

fn gaussian(seed: u64, stream: u64, i: u64) -> f64 {
    let u = |j: u64| ((hash(seed, stream, i * 2 + j) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (-2.0 * u(0).ln()).sqrt() * (std::f64::consts::TAU * u(1)).cos()
}

/// Random 7x7x3 neighbourhoods from each Laplacian-pyramid level, flattened.
fn patches(t: &Texture, seed: u64, stream: u64) -> Vec<Vec<f64>> {
    let mut img: Vec<f64> = t.rgb.iter().map(|&v| v as f64).collect();
    let (mut w, mut h) = (t.width, t.height);
    let mut out = Vec::with_capacity(SWD_LEVELS);
    for level in 0..SWD_LEVELS {
        let (band, small, sw, sh) = if level + 1 < SWD_LEVELS {
            let (small, sw, sh) = gaussian_down(&img, w, h);
            let mut band = img.clone();
            for y in 0..h {
                for x in 0..w {
                    for c in 0..3 {
                        band[(y * w + x) * 3 + c] -= small[((y / 2).min(sh - 1) * sw + (x / 2).min(sw - 1)) * 3 + c];
                    }
                }
            }
            (band, small, sw, sh)
        } else {
            (img.clone(), Vec::new(), 0, 0)
        };
        let mut p = Vec::with_capacity(SWD_PATCHES * SWD_PATCH * SWD_PATCH * 3);
        if w >= SWD_PATCH && h >= SWD_PATCH {
            for i in 0..SWD_PATCHES as u64 {
                let r = hash(seed, stream * 16 + level as u64, i);
                let (x0, y0) =
                    ((r % (w - SWD_PATCH + 1) as u64) as usize, ((r >> 32) % (h - SWD_PATCH + 1) as u64) as usize);
                for y in y0..y0 + SWD_PATCH {
                    p.extend_from_slice(&band[(y * w + x0) * 3..(y * w + x0 + SWD_PATCH) * 3]);
                }
            }
        }
        out.push(p);
        (img, w, h) = (small, sw, sh);
    }
    out
}

/// The 5-tap binomial blur with wrap-around, then every second pixel.
fn gaussian_down(img: &[f64], w: usize, h: usize) -> (Vec<f64>, usize, usize) {
    const K: [f64; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
    let mut tmp = vec![0.0; img.len()];
    for y in 0..h {
        for x in 0..w {
            for (j, k) in K.iter().enumerate() {
                let sx = (x + w * 2 + j - 2) % w;
                for c in 0..3 {
                    tmp[(y * w + x) * 3 + c] += k * img[(y * w + sx) * 3 + c];
                }
            }
        }
    }
    let (sw, sh) = (w.div_ceil(2), h.div_ceil(2));
    let mut out = vec![0.0; sw * sh * 3];
    for y in 0..sh {
        for x in 0..sw {
            for (j, k) in K.iter().enumerate() {
                let sy = (2 * y + h * 2 + j - 2) % h;
                for c in 0..3 {
                    out[(y * sw + x) * 3 + c] += k * tmp[(sy * w + 2 * x) * 3 + c];
                }
            }
        }
    }
    (out, sw, sh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::frame::Encoding;

    fn noise(w: usize, h: usize, seed: u64) -> Texture {
        let mut t = Texture::new(w, h, Encoding::Srgb);
        for (i, v) in t.rgb.iter_mut().enumerate() {
            *v = (hash(seed, 0, i as u64 / 3) % 1000) as f32 / 1000.0;
        }
        t
    }

    fn tiled(t: &Texture, times: usize) -> Texture {
        let mut out = Texture::new(t.width * times, t.height * times, t.encoding);
        for y in 0..out.height {
            for x in 0..out.width {
                for c in 0..3 {
                    out.rgb[(y * out.width + x) * 3 + c] = t.at(x as isize, y as isize, c);
                }
            }
        }
        out
    }

    #[test]
    fn a_tiled_exemplar_repeats_and_noise_does_not() {
        let ex = noise(32, 32, 1);
        assert!(repetition_score(&tiled(&ex, 4), 4) > 0.99);
        assert!(repetition_score(&noise(128, 128, 2), 4) < 0.1);
    }

    #[test]
    fn a_shifted_copy_is_one_block_and_noise_is_none() {
        let ex = noise(40, 40, 3);
        let mut shifted = ex.clone();
        shifted.roll((7, 5));
        // Every pixel not on the exemplar's cut lines is located; the copy is nearly one block.
        assert!(verbatim_from_images(&shifted, &ex) > 0.8, "{}", verbatim_from_images(&shifted, &ex));
        assert!(verbatim_from_images(&noise(40, 40, 4), &ex) < 0.01);
        let xy: Vec<[u32; 2]> = (0..16 * 16).map(|i| [(i % 16 + 3) as u32 % 16, (i / 16) as u32]).collect();
        let c = CoordMap::from_pixels(16, 16, (16, 16), &xy);
        assert_eq!(verbatim_from_coords(&c, (16, 16), true), 1.0);
        // Two halves from two places: two blocks of half the output each.
        let xy: Vec<[u32; 2]> =
            (0..16 * 16).map(|i| [if i % 16 < 8 { i % 16 } else { i % 16 - 6 } as u32, (i / 16) as u32]).collect();
        let c = CoordMap::from_pixels(16, 16, (16, 16), &xy);
        assert_eq!(verbatim_from_coords(&c, (16, 16), false), 0.5);
    }

    #[test]
    fn swd_is_small_for_the_same_statistics_and_large_for_others() {
        let (a, b) = (noise(64, 64, 5), noise(64, 64, 6));
        let mut flat = Texture::new(64, 64, Encoding::Srgb);
        flat.rgb.fill(0.5);
        let same = swd(&a, &b, 0);
        assert!(same < swd(&a, &flat, 0) / 3.0, "{same} vs {}", swd(&a, &flat, 0));
        let band = swd_band(&a);
        assert!(band[0] <= band[1] && band[1] <= band[2]);
    }
}
