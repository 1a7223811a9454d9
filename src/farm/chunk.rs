//! Divisible jobs: `--frames A-B[xS]` keeps the frames of a `####` sequence in a range, and
//! `--chunk I/N` keeps the I-th of N equal, disjoint, contiguous slices of whatever the command
//! would do. The slices of 0..N cover the whole job exactly once, for any N.

use std::ops::Range;
use std::str::FromStr;

use super::FarmError;

/// `A-B` or `A-BxS`: frames A, A+S, … up to B (inclusive); a single `A` is `A-A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRange {
    pub first: u64,
    pub last: u64,
    pub step: u64,
}

impl FrameRange {
    pub fn contains(&self, frame: u64) -> bool {
        (self.first..=self.last).contains(&frame) && (frame - self.first).is_multiple_of(self.step)
    }
}

impl FromStr for FrameRange {
    type Err = FarmError;

    fn from_str(spec: &str) -> Result<Self, FarmError> {
        let err = |reason: &str| FarmError::Frames { spec: spec.to_string(), reason: reason.to_string() };
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| err(&format!("{s:?} is not a frame number")));
        let (range, step) = match spec.split_once('x') {
            Some((r, s)) => (r, number(s)?),
            None => (spec, 1),
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(range)?, number(range)?),
        };
        if step == 0 {
            return Err(err("the step must be at least 1"));
        }
        if last < first {
            return Err(err("the range ends before it starts"));
        }
        Ok(FrameRange { first, last, step })
    }
}

/// Where the chunk index comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkIndex {
    Fixed(usize),
    /// An environment variable set by the scheduler for each task (`SLURM_ARRAY_TASK_ID`).
    Env(String),
}

/// `--chunk I/N` as written; [`ChunkSpec::resolve`] reads the index when it is a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSpec {
    pub index: ChunkIndex,
    pub count: usize,
    text: String,
}

impl FromStr for ChunkSpec {
    type Err = FarmError;

    fn from_str(spec: &str) -> Result<Self, FarmError> {
        let err = |reason: &str| FarmError::Chunk { spec: spec.to_string(), reason: reason.to_string() };
        let (index, count) = spec.rsplit_once('/').ok_or_else(|| err("no '/'"))?;
        let count: usize = count.parse().map_err(|_| err(&format!("{count:?} is not a number of chunks")))?;
        if count == 0 {
            return Err(err("the number of chunks must be at least 1"));
        }
        let index = if index.bytes().all(|b| b.is_ascii_digit()) && !index.is_empty() {
            let i: usize = index.parse().map_err(|_| err("the index is too large"))?;
            if i >= count {
                return Err(err(&format!("index {i} is not below {count}")));
            }
            ChunkIndex::Fixed(i)
        } else if !index.is_empty() && index.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            ChunkIndex::Env(index.to_string())
        } else {
            return Err(err(&format!("{index:?} is neither an index nor an environment variable name")));
        };
        Ok(ChunkSpec { index, count, text: spec.to_string() })
    }
}

impl ChunkSpec {
    /// The chunk this process runs; `lookup` reads environment variables (`std::env::var`).
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Chunk, FarmError> {
        let err = |reason: String| FarmError::Chunk { spec: self.text.clone(), reason };
        let index = match &self.index {
            ChunkIndex::Fixed(i) => *i,
            ChunkIndex::Env(var) => {
                let value = lookup(var).ok_or_else(|| err(format!("${var} is not set in this environment")))?;
                value.trim().parse().map_err(|_| err(format!("${var} is {value:?}, not a chunk index")))?
            }
        };
        if index >= self.count {
            return Err(err(format!(
                "index {index} is not below {} (Slurm arrays run 0..N-1: --array=0-{})",
                self.count,
                self.count - 1
            )));
        }
        Ok(Chunk { index, count: self.count })
    }
}

/// The I-th of N slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    pub count: usize,
}

impl Chunk {
    /// The whole job as one chunk.
    pub const ALL: Chunk = Chunk { index: 0, count: 1 };

    /// This chunk's positions among `len` items: contiguous, sizes differing by at most one.
    pub fn range(&self, len: usize) -> Range<usize> {
        self.index * len / self.count..(self.index + 1) * len / self.count
    }

    pub fn select<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        &items[self.range(items.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ranges_parse_and_filter() {
        let r: FrameRange = "1-240x2".parse().unwrap();
        assert_eq!(r, FrameRange { first: 1, last: 240, step: 2 });
        assert!(r.contains(1) && r.contains(239) && !r.contains(2) && !r.contains(241));
        let single: FrameRange = "7".parse().unwrap();
        assert!(single.contains(7) && !single.contains(8));
        for bad in ["", "a-b", "5-1", "1-10x0", "1-"] {
            let e = bad.parse::<FrameRange>().unwrap_err().to_string();
            assert!(e.contains("--frames") && e.contains("A-B"), "{bad}: {e}");
        }
    }

    #[test]
    fn chunks_cover_every_item_exactly_once() {
        for len in [0, 1, 5, 24, 240, 1001] {
            for count in [1, 2, 3, 4, 7, 8, 50] {
                let mut seen = vec![0; len];
                for index in 0..count {
                    let r = Chunk { index, count }.range(len);
                    assert!(r.len() <= len / count + 1 && r.len() >= len / count, "{len} {count} {r:?}");
                    r.for_each(|i| seen[i] += 1);
                }
                assert!(seen.iter().all(|&n| n == 1), "{len} items in {count} chunks");
            }
        }
    }

    #[test]
    fn chunk_index_comes_from_a_number_or_the_scheduler() {
        let fixed: ChunkSpec = "2/8".parse().unwrap();
        assert_eq!(fixed.resolve(|_| None).unwrap(), Chunk { index: 2, count: 8 });
        let env: ChunkSpec = "SLURM_ARRAY_TASK_ID/8".parse().unwrap();
        let got = env.resolve(|v| (v == "SLURM_ARRAY_TASK_ID").then(|| "5".to_string())).unwrap();
        assert_eq!(got, Chunk { index: 5, count: 8 });
        let e = env.resolve(|_| None).unwrap_err().to_string();
        assert!(e.contains("$SLURM_ARRAY_TASK_ID is not set"), "{e}");
        let e = env.resolve(|_| Some("8".into())).unwrap_err().to_string();
        assert!(e.contains("--array=0-7"), "{e}");
        for bad in ["8/8", "1/0", "x", "$A/2", "1/two"] {
            assert!(bad.parse::<ChunkSpec>().is_err(), "{bad}");
        }
    }
}
