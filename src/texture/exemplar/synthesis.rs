//! Coordinate synthesis after Lefebvre and Hoppe, "Parallel Controllable Texture Synthesis"
//! (SIGGRAPH 2005): the output is a map of exemplar coordinates, made coarse to fine on a torus.
//! Each level upsamples the coarser level's coordinates, jitters them (the variation), then
//! corrects every pixel in four interleaved sub-passes: of the candidates its neighbours suggest
//! (coherent candidates) and the exemplar places that look like those (k-coherence, found once
//! per exemplar by a PatchMatch search of the exemplar against itself), it keeps the one whose
//! neighbourhood matches the output's best, with a penalty on exemplar regions the output already
//! uses more than its share (after Kaspar et al., "Self Tuning Texture Optimization", 2015).
//!
//! Every random choice is a hash of (seed, level, pixel) and every pixel of a sub-pass reads only
//! pixels of other sub-passes, so the result is the same at any thread count. Output neighbours
//! wrap around, so the result tiles exactly. An exemplar that does not tile is sampled only where
//! a whole neighbourhood lies inside it.

use rayon::prelude::*;

use super::coords::CoordMap;
use super::set::MaterialSet;
use super::ExemplarError;
use crate::infer::latent::{hash, hash_signed};
use crate::invalid::{within, InvalidValue};
use crate::texture::check_size;
use crate::texture::image::calm_origin;
use crate::texture::map::MapKind;

/// Neighbourhood radius: 5x5 neighbourhoods at every level but the finest, where the coarser
/// levels have settled the structure and 3x3 keeps the detail at 0.6-0.75x the time (measured:
/// 1024² 4.23 -> 3.15 s, 2048² 12.2 -> 7.6 s; SWD to the exemplar within 4 either way).
const RADIUS: i32 = 2;
const FINEST_RADIUS: i32 = 1;
/// Weight of the occurrence penalty, in random-pair neighbourhood distances per fair share of
/// excess. Measured at 512², seeds 1-3, mean SWD to the exemplar without it / with it: the rock
/// photo 258 / 172, stone tiles 114 / 86, stone ground 78 / 75 (0.02, 0.1, 0.2 and 0.5 did worse
/// on the photo).
const OCCURRENCE: f32 = 0.05;
/// Exemplar places remembered per pixel as alike (k-coherence's k).
const SIMILAR: usize = 2;
/// Coarsest level's exemplar side, in pyramid pixels.
const COARSEST: usize = 8;
/// Levels with more pixels than this get their similar places from the next coarser level.
const SEARCH_PIXELS: usize = 1 << 18;
/// The smallest exemplar side synthesis accepts.
pub const MIN_EXEMPLAR: usize = 16;

/// What synthesis compares: per exemplar pixel, the colour (and height and normal slope when
/// the set has them, each scaled to weigh as much as the colour), as a Gaussian-less pyramid.
pub struct Analysis {
    width: usize,
    height: usize,
    tiles: bool,
    dims: usize,
    levels: Vec<Level>,
}

struct Level {
    w: usize,
    h: usize,
    feat: Vec<f32>,
    similar: Vec<[u32; SIMILAR]>,
    /// Mean squared feature difference between two random pixels of this level: the scale of
    /// a neighbourhood distance, which the occurrence penalty is measured in.
    spread: f32,
}

/// Exemplar regions per side that the occurrence penalty counts use in.
const BINS: usize = 16;

/// How much of the exemplar each region supplies to the output now, as a penalty per region:
/// zero up to its fair share, then growing with the excess, so correction cannot let one bland
/// region of the exemplar take over the output (what coherence alone tends to do).
struct Occurrence {
    penalty: Vec<f32>,
    bin_w: usize,
    bin_h: usize,
}

/// One variation: its seed, size and how freely the exemplar is reassembled; checked when built
/// ([`Variation::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variation {
    seed: u64,
    width: usize,
    height: usize,
    variation: f32,
}

impl Variation {
    /// Variation `seed` at `width` x `height` (a texture's sizes, see [`check_size`]);
    /// `variation` 0..=1: 0 = the exemplar's own layout, reshuffled locally; 1 = freely
    /// reassembled.
    pub fn new(seed: u64, width: usize, height: usize, variation: f32) -> Result<Variation, InvalidValue> {
        check_size(width, height)?;
        within("variation", variation, 0.0, 1.0)?;
        Ok(Variation { seed, width, height, variation })
    }

    /// The same settings for another seed.
    pub fn with_seed(self, seed: u64) -> Variation {
        Variation { seed, ..self }
    }
}

impl Analysis {
    /// Analyses `set` once for any number of variations. `tiles`: whether the exemplar itself
    /// tiles (sampled with wrap-around) or not (sampled only inside).
    pub fn new(set: &MaterialSet, tiles: bool) -> Result<Analysis, ExemplarError> {
        let (width, height) = set.size();
        if width.min(height) < MIN_EXEMPLAR {
            return Err(ExemplarError::TooSmall { path: set.maps[0].path.clone(), width, height, min: MIN_EXEMPLAR });
        }
        let (dims, feat) = guide_features(set);
        let mut levels = vec![Level { w: width, h: height, spread: spread(&feat, dims), feat, similar: Vec::new() }];
        while levels.last().is_some_and(|l| l.w.min(l.h) / 2 >= COARSEST) {
            let down = downsample(levels.last().expect("one level at least"), dims);
            levels.push(down);
        }
        let mut a = Analysis { width, height, tiles, dims, levels };
        for k in (0..a.levels.len()).rev() {
            let lvl = &a.levels[k];
            let similar = if lvl.w * lvl.h <= SEARCH_PIXELS || k + 1 == a.levels.len() {
                a.search_similar(k)
            } else {
                let coarse = &a.levels[k + 1];
                let (w, h, cw) = (lvl.w, lvl.h, coarse.w);
                (0..w * h)
                    .map(|i| {
                        let (x, y) = (i % w, i / w);
                        coarse.similar[(y / 2).min(coarse.h - 1) * cw + (x / 2).min(cw - 1)].map(|s| {
                            let (sx, sy) = ((s as usize % cw) * 2 + x % 2, (s as usize / cw) * 2 + y % 2);
                            (sy.min(h - 1) * w + sx.min(w - 1)) as u32
                        })
                    })
                    .collect()
            };
            a.levels[k].similar = similar;
        }
        Ok(a)
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Feature vector of level `k` at pyramid pixel (x, y), wrapped or clamped.
    #[inline]
    fn at(&self, k: usize, x: i32, y: i32) -> &[f32] {
        let l = &self.levels[k];
        let (x, y) = if self.tiles {
            (x.rem_euclid(l.w as i32) as usize, y.rem_euclid(l.h as i32) as usize)
        } else {
            (x.clamp(0, l.w as i32 - 1) as usize, y.clamp(0, l.h as i32 - 1) as usize)
        };
        let i = (y * l.w + x) * self.dims;
        &l.feat[i..i + self.dims]
    }

    /// Squared distance between the exemplar neighbourhood at level-k pixel (x, y) and `target`
    /// (the (2r+1)² feature vectors around it), stopping once it passes `bound`.
    #[inline]
    fn distance(&self, k: usize, r: i32, x: i32, y: i32, target: &[f32], bound: f32) -> f32 {
        let d = self.dims;
        let mut sum = 0.0f32;
        let mut t = 0;
        for dy in -r..=r {
            for dx in -r..=r {
                let f = self.at(k, x + dx, y + dy);
                for c in 0..d {
                    let e = f[c] - target[t + c];
                    sum += e * e;
                }
                t += d;
            }
            if sum > bound {
                return sum;
            }
        }
        sum
    }

    /// The exemplar's own 5x5 neighbourhood at level-k pixel (x, y).
    fn neighbourhood(&self, k: usize, x: i32, y: i32, out: &mut Vec<f32>) {
        out.clear();
        for dy in -RADIUS..=RADIUS {
            for dx in -RADIUS..=RADIUS {
                out.extend_from_slice(self.at(k, x + dx, y + dy));
            }
        }
    }

    /// Whether level-k pixel (x, y) may be a source: anywhere in a tiling exemplar, else only
    /// where its whole neighbourhood lies inside.
    fn valid(&self, k: usize, x: i32, y: i32) -> bool {
        let l = &self.levels[k];
        self.tiles || (x >= RADIUS && y >= RADIUS && x < l.w as i32 - RADIUS && y < l.h as i32 - RADIUS)
    }

    /// For every pixel of level k, the SIMILAR other places (at least 3 pixels away) whose
    /// neighbourhoods look most like its own: a PatchMatch search of the level against itself,
    /// with every pixel updated from the previous round's answers only.
    fn search_similar(&self, k: usize) -> Vec<[u32; SIMILAR]> {
        let l = &self.levels[k];
        let (w, h) = (l.w as i32, l.h as i32);
        let far = |p: (i32, i32), q: (i32, i32)| {
            let (mut dx, mut dy) = ((p.0 - q.0).abs(), (p.1 - q.1).abs());
            if self.tiles {
                dx = dx.min(w - dx);
                dy = dy.min(h - dy);
            }
            dx.max(dy) >= 3
        };
        let wrap = |x: i32, y: i32| -> Option<(i32, i32)> {
            let (x, y) = if self.tiles { (x.rem_euclid(w), y.rem_euclid(h)) } else { (x, y) };
            self.valid(k, x, y).then_some((x, y))
        };
        let random = |i: usize, salt: u64| -> (i32, i32) {
            let r = hash(0x5EED, k as u64 * 64 + salt, i as u64);
            let (x, y) = ((r % w as u64) as i32, ((r >> 32) % h as u64) as i32);
            if self.tiles {
                (x, y)
            } else {
                let span = |n: i32, v: i32| RADIUS + v.rem_euclid((n - 2 * RADIUS).max(1));
                (span(w, x), span(h, y))
            }
        };
        let n = (w * h) as usize;
        let mut best: Vec<[(u32, f32); SIMILAR]> = vec![[(0, f32::INFINITY); SIMILAR]; n];
        for round in 0..5u64 {
            let prev = best.clone();
            best.par_chunks_mut(w as usize).enumerate().for_each(|(y, row)| {
                let mut own = Vec::new();
                for (x, slot) in row.iter_mut().enumerate() {
                    let i = y * w as usize + x;
                    let p = (x as i32, y as i32);
                    self.neighbourhood(k, p.0, p.1, &mut own);
                    let mut kept = prev[i];
                    let offer = |q: Option<(i32, i32)>, kept: &mut [(u32, f32); SIMILAR]| {
                        let Some(q) = q else { return };
                        let idx = (q.1 * w + q.0) as u32;
                        if !far(p, q) || kept.iter().any(|&(j, _)| j == idx) {
                            return;
                        }
                        let d = self.distance(k, RADIUS, q.0, q.1, &own, kept[SIMILAR - 1].1);
                        if d < kept[SIMILAR - 1].1 {
                            kept[SIMILAR - 1] = (idx, d);
                            kept.sort_by(|a, b| a.1.total_cmp(&b.1));
                        }
                    };
                    for salt in 0..2 {
                        offer(Some(random(i, round * 2 + salt)), &mut kept);
                    }
                    // Propagation: a neighbour's match, shifted back by the neighbour's offset.
                    for (ox, oy) in [(1, 0), (-1, 0), (0, 1), (0, -1), (4, 0), (-4, 0), (0, 4), (0, -4)] {
                        let Some(q) = wrap(p.0 + ox, p.1 + oy) else { continue };
                        for &(m, d) in &prev[(q.1 * w + q.0) as usize] {
                            if d.is_finite() {
                                let (mx, my) = ((m as i32) % w, (m as i32) / w);
                                offer(wrap(mx - ox, my - oy), &mut kept);
                            }
                        }
                    }
                    // Random search around the best, in shrinking windows.
                    let (bx, by) = ((kept[0].0 as i32) % w, (kept[0].0 as i32) / w);
                    let mut radius = w.max(h) / 2;
                    let mut salt = 16;
                    while radius >= 1 && kept[0].1.is_finite() {
                        let r = hash(0x5EED ^ round, k as u64 * 64 + salt, i as u64);
                        let jx = (r % (2 * radius as u64 + 1)) as i32 - radius;
                        let jy = ((r >> 32) % (2 * radius as u64 + 1)) as i32 - radius;
                        offer(wrap(bx + jx, by + jy), &mut kept);
                        radius /= 2;
                        salt += 1;
                    }
                    *slot = kept;
                }
            });
        }
        best.into_iter()
            .enumerate()
            .map(|(i, kept)| kept.map(|(j, d)| if d.is_finite() { j } else { i as u32 }))
            .collect()
    }

    /// A coordinate made a legal source: wrapped into a tiling exemplar, else clamped so its
    /// finest neighbourhood lies inside.
    #[inline]
    fn fix(&self, [x, y]: [i32; 2]) -> [i32; 2] {
        if self.tiles {
            [x.rem_euclid(self.width as i32), y.rem_euclid(self.height as i32)]
        } else {
            [x.clamp(RADIUS, self.width as i32 - 1 - RADIUS), y.clamp(RADIUS, self.height as i32 - 1 - RADIUS)]
        }
    }

    /// Synthesises one variation's coordinate map: coarse to fine, then its edges moved to its
    /// calmest column and row (a wrap-around translation: tiled, the same pattern).
    pub fn synthesize(&self, v: &Variation) -> CoordMap {
        let top = self.levels.len() - 1;
        let variation = v.variation;
        let seed = v.seed;
        let (mut gw, mut gh) = (v.width.div_ceil(1 << top), v.height.div_ceil(1 << top));
        // Coarsest level: the exemplar's layout from a seeded origin, each cell displaced by up
        // to half the exemplar as the variation grows.
        let origin = [(hash(seed, 1, 0) % self.width as u64) as i32, (hash(seed, 1, 1) % self.height as u64) as i32];
        let span = |n: usize| if self.tiles { n as i32 } else { (n as i32 - 2 * RADIUS).max(1) };
        let mut s: Vec<[i32; 2]> = (0..gw * gh)
            .map(|i| {
                let (x, y) = ((i % gw) as i32, (i / gw) as i32);
                let jx = (variation * hash_signed(seed, 2, i as u64 * 2) * self.width as f32 / 2.0).round() as i32;
                let jy = (variation * hash_signed(seed, 2, i as u64 * 2 + 1) * self.height as f32 / 2.0).round() as i32;
                let raw = [origin[0] + (x << top) + jx, origin[1] + (y << top) + jy];
                if self.tiles {
                    self.fix(raw)
                } else {
                    [RADIUS + raw[0].rem_euclid(span(self.width)), RADIUS + raw[1].rem_euclid(span(self.height))]
                }
            })
            .collect();
        for k in (0..=top).rev() {
            if k < top {
                // Upsample: each child takes its parent's coordinate plus its offset in the parent.
                let (cw, ch) = (v.width.div_ceil(1 << k), v.height.div_ceil(1 << k));
                let h = 1i32 << k;
                // Small: correction cannot mend what large fine-level jitter breaks (stones in
                // pieces); twice this gave SWD 144 instead of 106 on the stone-tiles fixture.
                let amp = if k > 0 { (0.05 + 0.2 * variation) * h as f32 } else { 0.0 };
                let mut child = vec![[0i32; 2]; cw * ch];
                child.par_chunks_mut(cw).enumerate().for_each(|(y, row)| {
                    for (x, c) in row.iter_mut().enumerate() {
                        let p = s[(y / 2) * gw + x / 2];
                        let i = (y * cw + x) as u64;
                        let j = |n: u64| (amp * hash_signed(seed, 16 + k as u64 * 2 + n, i)).round() as i32;
                        *c = self.fix([p[0] + (x as i32 % 2) * h + j(0), p[1] + (y as i32 % 2) * h + j(1)]);
                    }
                });
                (s, gw, gh) = (child, cw, ch);
            }
            let passes = if k == 0 { 1 } else { 2 };
            for _ in 0..passes {
                for sub in 0..4 {
                    let occurrence = self.occurrence(k, &s);
                    self.correct(k, &mut s, gw, gh, (sub % 2, sub / 2), &occurrence);
                }
            }
        }
        let xy: Vec<[u32; 2]> = s.iter().map(|&[x, y]| [x as u32, y as u32]).collect();
        let mut coords = CoordMap::from_pixels(v.width, v.height, (self.width, self.height), &xy);
        coords.roll(self.calm_origin(&s, v.width, v.height));
        coords
    }

    /// The occurrence penalty of every exemplar region for the coordinates `s` of level k.
    fn occurrence(&self, k: usize, s: &[[i32; 2]]) -> Occurrence {
        let (bin_w, bin_h) = (self.width.div_ceil(BINS), self.height.div_ceil(BINS));
        let mut count = vec![0u32; BINS * BINS];
        for &[x, y] in s {
            count[(y as usize / bin_h) * BINS + x as usize / bin_w] += 1;
        }
        let fair = s.len() as f32 / count.len() as f32;
        let r = if k == 0 { FINEST_RADIUS } else { RADIUS };
        let scale = OCCURRENCE * self.levels[k].spread * ((2 * r + 1) * (2 * r + 1)) as f32;
        let penalty = count.iter().map(|&c| scale * (c as f32 / fair - 1.0).max(0.0)).collect();
        Occurrence { penalty, bin_w, bin_h }
    }

    /// One correction sub-pass at level k over the pixels of parity `(px, py)`.
    fn correct(
        &self,
        k: usize,
        s: &mut [[i32; 2]],
        gw: usize,
        gh: usize,
        (px, py): (usize, usize),
        occurrence: &Occurrence,
    ) {
        let h = 1i32 << k;
        let l = &self.levels[k];
        let r = if k == 0 { FINEST_RADIUS } else { RADIUS };
        let penalty = |c: [i32; 2]| {
            occurrence.penalty[(c[1] as usize / occurrence.bin_h) * BINS + c[0] as usize / occurrence.bin_w]
        };
        let rows: Vec<(usize, Vec<[i32; 2]>)> = (py..gh)
            .step_by(2)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|y| {
                let mut target = Vec::with_capacity(25 * self.dims);
                let mut out = Vec::with_capacity(gw / 2 + 1);
                let at = |x: i32, y: i32| s[y.rem_euclid(gh as i32) as usize * gw + x.rem_euclid(gw as i32) as usize];
                for x in (px..gw).step_by(2) {
                    let (xi, yi) = (x as i32, y as i32);
                    target.clear();
                    for dy in -r..=r {
                        for dx in -r..=r {
                            let c = at(xi + dx, yi + dy);
                            target.extend_from_slice(self.at(k, c[0] >> k, c[1] >> k));
                        }
                    }
                    let mut best = at(xi, yi);
                    let mut best_d =
                        self.distance(k, r, best[0] >> k, best[1] >> k, &target, f32::INFINITY) + penalty(best);
                    // In a coherent region the neighbours all suggest the same places: each is tried once.
                    let mut tried = [best; 9 * (1 + SIMILAR)];
                    let mut n_tried = 1;
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let n = at(xi + dx, yi + dy);
                            let coherent = self.fix([n[0] - dx * h, n[1] - dy * h]);
                            let (cx, cy) = (coherent[0] >> k, coherent[1] >> k);
                            let sub = [coherent[0] & (h - 1), coherent[1] & (h - 1)];
                            let cell = (cy as usize).min(l.h - 1) * l.w + (cx as usize).min(l.w - 1);
                            let alike = l.similar[cell].map(|j| {
                                let (sx, sy) = ((j as usize % l.w) as i32, (j as usize / l.w) as i32);
                                self.fix([(sx << k) + sub[0], (sy << k) + sub[1]])
                            });
                            for cand in std::iter::once(coherent).chain(alike) {
                                if tried[..n_tried].contains(&cand) {
                                    continue;
                                }
                                tried[n_tried] = cand;
                                n_tried += 1;
                                let extra = penalty(cand);
                                if extra >= best_d {
                                    continue;
                                }
                                let d =
                                    self.distance(k, r, cand[0] >> k, cand[1] >> k, &target, best_d - extra) + extra;
                                if d < best_d {
                                    (best, best_d) = (cand, d);
                                }
                            }
                        }
                    }
                    out.push(best);
                }
                (y, out)
            })
            .collect();
        for (y, row) in rows {
            for (i, c) in row.into_iter().enumerate() {
                s[y * gw + px + 2 * i] = c;
            }
        }
    }

    /// The origin that puts the output's edges on its calmest column and row of guide features.
    fn calm_origin(&self, s: &[[i32; 2]], w: usize, h: usize) -> (usize, usize) {
        let f = |i: usize| self.at(0, s[i][0], s[i][1]);
        calm_origin(w, h, |a, b| f(a).iter().zip(f(b)).map(|(x, y)| (x - y).abs() as f64).sum())
    }
}

/// The guide features of a set: colour (3 channels), height (1) and the normal's slope (2), each
/// map scaled so its channels together have unit spread, colour counting double.
fn guide_features(set: &MaterialSet) -> (usize, Vec<f32>) {
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut add = |map: &crate::texture::map::Map, channels: &[usize], weight: f32| {
        let ch = map.channels;
        let mut these: Vec<Vec<f32>> =
            channels.iter().map(|&c| (0..map.pixels()).map(|p| map.value(p * ch + c.min(ch - 1))).collect()).collect();
        let n = map.pixels() as f64;
        let var: f64 = these
            .iter()
            .map(|pl| {
                let mean = pl.iter().map(|&v| v as f64).sum::<f64>() / n;
                pl.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n
            })
            .sum();
        let scale = weight / (var.sqrt() as f32).max(1e-4);
        for pl in these.iter_mut() {
            pl.iter_mut().for_each(|v| *v *= scale);
        }
        planes.extend(these);
    };
    let colour = set.get(&MapKind::Color);
    match colour {
        Some(c) => add(&c.map, &[0, 1, 2], 2.0),
        None => add(&set.maps[0].map, &[0, 1, 2], 2.0),
    }
    if let Some(hm) = set.get(&MapKind::Height) {
        add(&hm.map, &[0], 1.0);
    }
    if let Some(nm) = set.maps.iter().find(|m| matches!(m.kind, MapKind::Normal(_))) {
        if nm.map.channels >= 3 {
            add(&nm.map, &[0, 1], 1.0);
        }
    }
    let dims = planes.len();
    let n = planes[0].len();
    let mut feat = Vec::with_capacity(n * dims);
    for p in 0..n {
        feat.extend(planes.iter().map(|pl| pl[p]));
    }
    (dims, feat)
}

/// The next pyramid level: 2x2 means (the last row or column repeated when the size is odd).
fn downsample(l: &Level, dims: usize) -> Level {
    let (w, h) = (l.w.div_ceil(2), l.h.div_ceil(2));
    let mut feat = vec![0.0f32; w * h * dims];
    for y in 0..h {
        for x in 0..w {
            for (sx, sy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (fx, fy) = ((2 * x + sx).min(l.w - 1), (2 * y + sy).min(l.h - 1));
                for c in 0..dims {
                    feat[(y * w + x) * dims + c] += 0.25 * l.feat[(fy * l.w + fx) * dims + c];
                }
            }
        }
    }
    Level { w, h, spread: spread(&feat, dims), feat, similar: Vec::new() }
}

/// Twice the total variance of the features: the mean squared difference of two random pixels.
fn spread(feat: &[f32], dims: usize) -> f32 {
    let n = (feat.len() / dims).max(1) as f64;
    let total: f64 = (0..dims)
        .map(|c| {
            let mean = feat.iter().skip(c).step_by(dims).map(|&v| v as f64).sum::<f64>() / n;
            feat.iter().skip(c).step_by(dims).map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n
        })
        .sum();
    (2.0 * total) as f32
}
