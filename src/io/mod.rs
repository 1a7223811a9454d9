//! Files in and out, shared by every capability: atomic writes ([`atomic`]), content digests
//! ([`digest`]), render frames in every format the engine reads and writes ([`frame`], one file
//! per format), colour transfer functions ([`transfer`]), and frame sequences with their output
//! and side-file naming ([`sequence`]), and the decode limits every reader checks a header
//! against before it allocates ([`limits`]).

use std::fs;
use std::path::Path;

pub mod atomic;
pub mod digest;
pub mod frame;
pub mod limits;
pub mod sequence;
pub mod transfer;

/// True when `output` is the same file as `input` (compared after resolving links), so a front end
/// can refuse to write over an input.
pub fn is_same_file(output: &Path, input: &Path) -> bool {
    match (fs::canonicalize(output), fs::canonicalize(input)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
