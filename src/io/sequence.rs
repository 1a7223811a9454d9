//! Frame sequences and the names around them: `#` runs that stand for frame numbers
//! (`beauty_####.exr`), where an output goes for each input, and side files that hold a frame's
//! passes (`{stem}_albedo.{ext}`). Shared by batch denoising and the watch service.

use std::fs;
use std::path::{Path, PathBuf};

use super::frame::{FileFormat, FrameError};

/// Default side file of a frame's albedo pass, see [`side_file`].
pub const ALBEDO_PATTERN: &str = "{stem}_albedo.{ext}";
/// Default side file of a frame's normal pass, see [`side_file`].
pub const NORMAL_PATTERN: &str = "{stem}_normal.{ext}";
/// Suffix of an output written beside its input.
pub const OUTPUT_SUFFIX: &str = "_denoised";

/// Expands `#` frame patterns against their folder, in frame order; other paths pass through
/// (the shell expands globs) after a check that their format is one the engine reads.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, FrameError> {
    let mut out = Vec::new();
    for input in inputs {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !name.contains('#') {
            if FileFormat::from_path(input).is_none() {
                return Err(FrameError::Unsupported { path: input.clone() });
            }
            out.push(input.clone());
            continue;
        }
        let (prefix, rest) = name.split_at(name.find('#').unwrap_or(0));
        let digits = rest.len() - rest.trim_start_matches('#').len();
        let suffix = &rest[digits..];
        let dir = input.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let listing = fs::read_dir(dir).map_err(|source| FrameError::ListFolder {
            dir: dir.to_path_buf(),
            pattern: input.clone(),
            source,
        })?;
        let mut frames: Vec<PathBuf> = listing
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                n.len() == prefix.len() + digits + suffix.len()
                    && n.starts_with(prefix)
                    && n.ends_with(suffix)
                    && n[prefix.len()..prefix.len() + digits].bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        if frames.is_empty() {
            return Err(FrameError::NoFrames { pattern: input.clone() });
        }
        frames.sort();
        out.extend(frames);
    }
    Ok(out)
}

/// A file's stem and where its trailing digit run starts (`beauty_0042` -> 7).
fn stem_digits(path: &Path) -> Option<(&str, usize)> {
    let stem = path.file_stem()?.to_str()?;
    Some((stem, stem.trim_end_matches(|c: char| c.is_ascii_digit()).len()))
}

/// The trailing frame number of a file's stem (`beauty_0042.exr` -> 42).
pub fn frame_number(path: &Path) -> Option<u64> {
    let (stem, start) = stem_digits(path)?;
    stem[start..].parse().ok()
}

/// The file of frame `frame` in `path`'s sequence: its stem's trailing number replaced, keeping
/// the zero padding (`shot_0042.exr`, 41 -> `shot_0041.exr`); `None` without a frame number.
pub fn sibling_frame(path: &Path, frame: u64) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let (stem, start) = stem_digits(path)?;
    let digits = stem.len() - start;
    if digits == 0 {
        return None;
    }
    Some(path.with_file_name(format!("{}{frame:0digits$}{}", &stem[..start], &name[stem.len()..])))
}

/// `pattern` with its `#` run replaced by `input`'s frame number, zero-padded to the run's width
/// (`ref/beauty_####.exr` for `shot/beauty_0042.exr` -> `ref/beauty_0042.exr`); a pattern
/// without `#` names one file for every input.
pub fn frame_file(pattern: &Path, input: &Path) -> Option<PathBuf> {
    if !pattern.file_name()?.to_str()?.contains('#') {
        return Some(pattern.to_path_buf());
    }
    frame_path(pattern, frame_number(input)?)
}

/// `pattern` with its `#` run replaced by `frame`, zero-padded to the run's width
/// (`beauty_####.exr`, 7 -> `beauty_0007.exr`); `None` when the file name has no `#`.
pub fn frame_path(pattern: &Path, frame: u64) -> Option<PathBuf> {
    let name = pattern.file_name()?.to_str()?;
    let start = name.find('#')?;
    let width = name[start..].len() - name[start..].trim_start_matches('#').len();
    Some(pattern.with_file_name(format!("{}{frame:0width$}{}", &name[..start], &name[start + width..])))
}

/// Where outputs go.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputNaming {
    /// One named file (for a single input); its extension picks the format.
    File(PathBuf),
    /// Into a folder, keeping each input's file name.
    Dir(PathBuf),
    /// Beside the input, as `<stem><suffix>.<ext>`.
    Beside { suffix: String },
}

/// The output path of `input`. `extension` replaces the input's (a format change), except for
/// [`OutputNaming::File`], whose own extension decides.
pub fn output_path(input: &Path, naming: &OutputNaming, extension: Option<&str>) -> PathBuf {
    let mut out = match naming {
        OutputNaming::File(file) => return file.clone(),
        OutputNaming::Dir(dir) => dir.join(input.file_name().unwrap_or_default()),
        OutputNaming::Beside { suffix } => {
            let stem = input.file_stem().unwrap_or_default().to_string_lossy();
            let ext = input.extension().unwrap_or_default().to_string_lossy();
            input.with_file_name(format!("{stem}{suffix}.{ext}"))
        }
    };
    if let Some(ext) = extension {
        out.set_extension(ext);
    }
    out
}

/// Replaces `{dir}`, `{stem}`, `{ext}`, `{name}` (stem without its trailing frame number) and
/// `{frame}` (that number) in `pattern`, relative to the input's folder.
pub fn side_file(input: &Path, pattern: &str) -> Option<PathBuf> {
    let stem = input.file_stem()?.to_str()?;
    let ext = input.extension().and_then(|e| e.to_str()).unwrap_or("");
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (name, frame_no) = stem.split_at(stem.len() - digits);
    let name = name.trim_end_matches(['_', '.', '-']);
    let rel =
        pattern.replace("{stem}", stem).replace("{ext}", ext).replace("{name}", name).replace("{frame}", frame_no);
    let dir = input.parent().unwrap_or(Path::new(""));
    Some(if rel.contains("{dir}") {
        PathBuf::from(rel.replace("{dir}", &dir.to_string_lossy()))
    } else {
        dir.join(rel)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_frames_keep_the_padding() {
        let p = Path::new("/r/shot_0042.exr");
        assert_eq!(sibling_frame(p, 41).unwrap(), PathBuf::from("/r/shot_0041.exr"));
        assert_eq!(sibling_frame(p, 12345).unwrap(), PathBuf::from("/r/shot_12345.exr"));
        assert_eq!(sibling_frame(Path::new("/r/shot.exr"), 1), None);
    }

    #[test]
    fn side_files_follow_the_pattern() {
        let p = Path::new("/r/beauty_0042.exr");
        assert_eq!(side_file(p, ALBEDO_PATTERN).unwrap(), PathBuf::from("/r/beauty_0042_albedo.exr"));
        assert_eq!(
            side_file(p, "aux/{name}.albedo.{frame}.png").unwrap(),
            PathBuf::from("/r/aux/beauty.albedo.0042.png")
        );
    }

    #[test]
    fn hash_patterns_expand_to_frames_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["shot_0002.exr", "shot_0001.exr", "shot_01.exr", "shot_000a.exr", "other_0001.exr"] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let got = expand_inputs(&[dir.path().join("shot_####.exr")]).unwrap();
        assert_eq!(got, vec![dir.path().join("shot_0001.exr"), dir.path().join("shot_0002.exr")]);
        let err = expand_inputs(&[dir.path().join("none_####.exr")]).unwrap_err().to_string();
        assert!(err.contains("none_####.exr") && err.contains("no frames match"), "{err}");
        let err = expand_inputs(&[dir.path().join("a.jpg")]).unwrap_err().to_string();
        assert!(err.contains("a.jpg") && err.contains("unsupported"), "{err}");
    }

    #[test]
    fn outputs_are_named_by_file_folder_or_suffix() {
        let input = Path::new("/r/shot_0001.exr");
        let file = OutputNaming::File("/o/clean.exr".into());
        assert_eq!(output_path(input, &file, Some("png")), PathBuf::from("/o/clean.exr"));
        assert_eq!(output_path(input, &OutputNaming::Dir("/o".into()), None), PathBuf::from("/o/shot_0001.exr"));
        assert_eq!(output_path(input, &OutputNaming::Dir("/o".into()), Some("png")), PathBuf::from("/o/shot_0001.png"));
        let beside = OutputNaming::Beside { suffix: OUTPUT_SUFFIX.into() };
        assert_eq!(output_path(input, &beside, None), PathBuf::from("/r/shot_0001_denoised.exr"));
    }

    #[test]
    fn frame_files_follow_the_input_number() {
        let input = Path::new("shot/beauty_0042.exr");
        assert_eq!(frame_number(input), Some(42));
        assert_eq!(frame_file(Path::new("ref/beauty_####.exr"), input), Some(PathBuf::from("ref/beauty_0042.exr")));
        assert_eq!(frame_file(Path::new("ref/b.#.exr"), input), Some(PathBuf::from("ref/b.42.exr")));
        assert_eq!(frame_file(Path::new("ref/one.exr"), input), Some(PathBuf::from("ref/one.exr")));
        assert_eq!(frame_file(Path::new("ref/b_##.exr"), Path::new("x/nonumber.exr")), None);
        assert_eq!(frame_path(Path::new("s/b_####.exr"), 12345), Some(PathBuf::from("s/b_12345.exr")));
    }
}
