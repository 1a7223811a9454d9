//! A generated kit as files any sampler plays: one 24-bit WAV one-shot per lane and an SFZ file
//! that maps each to its General MIDI drum notes, velocity-sensitive, the closed hat choking the
//! open hat as on a real kit.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{write_wav, DrumError, Kit};
use crate::groove::{GM_NOTES, LANE_NAMES, NOTE_LANES};
use crate::io::atomic::write_bytes_atomic;

/// The files [`write_kit`] writes for `name` in `dir`: the SFZ file, then one WAV per lane (in
/// the subfolder `name/`), so a caller can check them before writing.
pub fn kit_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = vec![dir.join(format!("{name}.sfz"))];
    files.extend(LANE_NAMES.iter().map(|lane| dir.join(name).join(format!("{lane}.wav"))));
    files
}

/// Writes `kit` as `dir/NAME.sfz` + `dir/NAME/<lane>.wav`, atomically file by file; the same kit
/// gives the same bytes.
pub fn write_kit(kit: &Kit, dir: &Path, name: &str) -> Result<Vec<PathBuf>, DrumError> {
    let files = kit_files(dir, name);
    for (lane, path) in files[1..].iter().enumerate() {
        write_wav(path, &kit.lanes[lane], kit.sample_rate)?;
    }
    write_bytes_atomic(&files[0], sfz(name).as_bytes())
        .map_err(|source| DrumError::Write { path: files[0].clone(), source })?;
    Ok(files)
}

/// GM notes 35..=81 are the General MIDI percussion map; other notes of a lane are Roland or
/// MusicVAE extensions and stay off the SFZ map.
fn gm_notes(lane: usize) -> impl Iterator<Item = u8> {
    std::iter::once(GM_NOTES[lane])
        .chain(NOTE_LANES[lane].iter().copied().filter(move |n| *n != GM_NOTES[lane] && (35..=81).contains(n)))
}

fn sfz(name: &str) -> String {
    let mut s = String::new();
    let _ =
        writeln!(s, "// Latent Groove kit `{name}`, written by `latentforge kit`: one one-shot per drum lane on its");
    let _ =
        writeln!(s, "// General MIDI notes (channel 10); louder with velocity; the closed hat chokes the open hat.");
    let _ = writeln!(s, "<control> default_path={name}/");
    let _ = writeln!(s, "<global> loop_mode=one_shot amp_veltrack=100");
    for (lane, name) in LANE_NAMES.iter().enumerate() {
        let choke = match *name {
            "closed_hat" => " group=1",
            "open_hat" => " group=2 off_by=1",
            _ => "",
        };
        for note in gm_notes(lane) {
            let _ = writeln!(s, "<region> sample={name}.wav key={note}{choke}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groove::LANES;

    #[test]
    fn sfz_maps_every_lane_to_its_gm_note() {
        let text = sfz("kit_s1");
        for lane in 0..LANES {
            assert!(text.contains(&format!("sample={}.wav key={}", LANE_NAMES[lane], GM_NOTES[lane])), "{text}");
        }
        assert!(text.contains("sample=closed_hat.wav key=44 group=1"), "pedal hat: {text}");
        assert!(text.contains("sample=open_hat.wav key=46 group=2 off_by=1"));
        assert!(!text.contains("key=22"), "not a GM note");

        let dir = tempfile::tempdir().unwrap();
        let files = write_kit(&Kit::clicks(48_000), dir.path(), "kit_s1").unwrap();
        assert_eq!(files, kit_files(dir.path(), "kit_s1"));
        assert!(files.iter().all(|f| f.is_file()));
        assert_eq!(hound::WavReader::open(&files[1]).unwrap().spec().sample_rate, 48_000);
    }
}
