//! Seeded mutations of a seed file: bit flips, byte runs, truncations, header fields overwritten
//! with 0, 1, -1, 2^31-1 and huge or negative sizes, length fields nudged into lies, slices
//! duplicated (a repeated chunk) or deleted, numbers in text headers replaced, and splices of
//! two seeds. A case is a pure function of (seed file, case seed), so any case can be rebuilt.

/// A field a format's header holds at `offset`: `width` bytes, big- or little-endian.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub offset: usize,
    pub width: usize,
    pub big_endian: bool,
}

/// SplitMix64: small, seedable, good enough to choose mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that break size arithmetic: zero, one, all ones (-1), the signed maxima and minima,
/// sizes just past 2^32 and 2^31, and large powers of two.
const INTERESTING: [u64; 12] = [
    0,
    1,
    u64::MAX,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x7FFF,
    0xFFFF,
    0x1_0000_0001,
    1 << 20,
    100_000,
    0xFFFF_FFF0,
];

/// Numbers a text header may be given instead of its own.
const INTERESTING_TEXT: [&str; 10] =
    ["0", "-1", "1", "2147483647", "-2147483648", "4294967296", "99999999999999999999", "1e308", "nan", "100000"];

fn write_field(bytes: &mut [u8], f: Field, value: u64) {
    if f.offset + f.width > bytes.len() {
        return;
    }
    for (i, byte) in value.to_le_bytes().into_iter().take(f.width).enumerate() {
        let at = if f.big_endian { f.offset + f.width - 1 - i } else { f.offset + i };
        bytes[at] = byte;
    }
}

fn read_field(bytes: &[u8], f: Field) -> u64 {
    let mut v = 0u64;
    for i in 0..f.width.min(8) {
        let at = if f.big_endian { f.offset + f.width - 1 - i } else { f.offset + i };
        v |= (*bytes.get(at).unwrap_or(&0) as u64) << (8 * i);
    }
    v
}

/// One mutated case of `seed` (with `other`, another seed of the format, for splices).
pub fn mutate(seed: &[u8], other: &[u8], fields: &[Field], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if b.is_empty() {
            b.push(0);
        }
        let field = (!fields.is_empty()).then(|| fields[rng.below(fields.len())]);
        match rng.below(10) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(b.len());
                    b[at] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let at = rng.below(b.len());
                let len = (1 + rng.below(64)).min(b.len() - at);
                let fill = rng.next() as u8;
                let random = rng.below(2) == 0;
                for v in &mut b[at..at + len] {
                    *v = if random { rng.next() as u8 } else { fill };
                }
            }
            2 => {
                let keep = rng.below(b.len());
                b.truncate(keep);
            }
            3 | 4 if field.is_some() => {
                let value = if rng.below(4) == 0 { rng.next() } else { INTERESTING[rng.below(INTERESTING.len())] };
                write_field(&mut b, field.unwrap(), value);
            }
            5 if field.is_some() => {
                // A length that lies a little (off by a few) or a lot (scaled).
                let f = field.unwrap();
                let v = read_field(&b, f);
                let lie = match rng.below(4) {
                    0 => v.wrapping_add(1 + rng.below(16) as u64),
                    1 => v.wrapping_sub(1 + rng.below(16) as u64),
                    2 => v.wrapping_mul(2 + rng.below(1000) as u64),
                    _ => v / (2 + rng.below(8) as u64),
                };
                write_field(&mut b, f, lie);
            }
            6 => {
                // Duplicate a slice (a repeated chunk or attribute), from a field when there is one.
                let start = field.map_or_else(|| rng.below(b.len()), |f| f.offset.min(b.len() - 1));
                let len = (1 + rng.below(256)).min(b.len() - start);
                let piece = b[start..start + len].to_vec();
                let at = rng.below(b.len() + 1);
                b.splice(at..at, piece);
            }
            7 => {
                let start = rng.below(b.len());
                let len = (1 + rng.below(128)).min(b.len() - start);
                b.drain(start..start + len);
            }
            8 => {
                // Replace a number in the text (PFM/HDR headers, TOML).
                let digits: Vec<usize> =
                    (0..b.len()).filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit())).collect();
                if !digits.is_empty() {
                    let start = digits[rng.below(digits.len())];
                    let end = (start..b.len()).find(|&i| !b[i].is_ascii_digit()).unwrap_or(b.len());
                    let with = INTERESTING_TEXT[rng.below(INTERESTING_TEXT.len())].as_bytes().to_vec();
                    b.splice(start..end, with);
                }
            }
            _ => {
                // Splice: this seed's head, the other's tail.
                if !other.is_empty() {
                    let cut = rng.below(b.len());
                    let from = rng.below(other.len());
                    b.truncate(cut);
                    b.extend_from_slice(&other[from..]);
                }
            }
        }
    }
    b
}
