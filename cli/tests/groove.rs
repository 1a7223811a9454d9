//! `latentforge groove` as a producer runs it: MIDI files that parse, WAV renders that play,
//! presets, clip variations, and refusals that say what to do.

use std::fs;
use std::path::Path;

use latentforge::groove::GM_NOTES;

mod common;
use common::{latentforge, p, text};

/// (note-on count, all on channel 10 with GM drum notes, length in beats) of a .mid file.
fn midi_summary(path: &Path) -> (usize, bool, f64) {
    let bytes = fs::read(path).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ppq = match smf.header.timing {
        midly::Timing::Metrical(t) => t.as_int() as f64,
        _ => panic!("metrical timing expected"),
    };
    let (mut ons, mut ok, mut end) = (0, true, 0u64);
    for track in &smf.tracks {
        let mut tick = 0u64;
        for ev in track {
            tick += ev.delta.as_int() as u64;
            if let midly::TrackEventKind::Midi { channel, message: midly::MidiMessage::NoteOn { key, vel } } = ev.kind {
                if vel.as_int() > 0 {
                    ons += 1;
                    ok &= channel.as_int() == 9 && GM_NOTES.contains(&key.as_int());
                }
            }
        }
        end = end.max(tick);
    }
    (ons, ok, end as f64 / ppq)
}

#[test]
fn grooves_are_midi_and_wav_files_that_parse() {
    let dir = tempfile::tempdir().unwrap();
    let o = latentforge(&[
        "groove",
        "--seed",
        "3",
        "--count",
        "2",
        "--bars",
        "4",
        "--bpm",
        "120",
        "--out-dir",
        p(dir.path()),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for k in ["00", "01"] {
        let mid = dir.path().join(format!("groove_s3_{k}.mid"));
        let (ons, gm, beats) = midi_summary(&mid);
        assert!(ons >= 16, "{} has {ons} hits", mid.display());
        assert!(gm, "GM drum notes on channel 10");
        assert!((beats - 16.0).abs() < 1e-9, "4 bars = 16 beats, got {beats}");
        let wav = hound::WavReader::open(dir.path().join(format!("groove_s3_{k}.wav"))).unwrap();
        let spec = wav.spec();
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 48_000, 24));
        let n = wav.len() as usize;
        assert!((8 * 48_000..=9 * 48_000).contains(&n), "8 s of music plus at most 1 s of ring-out, got {n} samples");
        let peak = wav.into_samples::<i32>().map(|s| s.unwrap().unsigned_abs()).max().unwrap();
        assert!(peak > 1 << 18, "the render is audible");
    }
    // Same seed, same files: grooves are reproducible.
    let again = tempfile::tempdir().unwrap();
    assert!(latentforge(&["groove", "--seed", "3", "--count", "1", "--bars", "4", "--out-dir", p(again.path())])
        .status
        .success());
    assert_eq!(
        fs::read(dir.path().join("groove_s3_00.mid")).unwrap(),
        fs::read(again.path().join("groove_s3_00.mid")).unwrap()
    );
    // Existing outputs are not replaced without --force.
    let o = latentforge(&["groove", "--seed", "3", "--count", "1", "--out-dir", p(dir.path())]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).contains("--force"), "{}", text(&o));
}

#[test]
fn a_clip_gets_variations_around_it() {
    let dir = tempfile::tempdir().unwrap();
    assert!(latentforge(&[
        "groove",
        "--seed",
        "9",
        "--count",
        "1",
        "--bars",
        "2",
        "--no-audio",
        "--out-dir",
        p(dir.path())
    ])
    .status
    .success());
    let clip = dir.path().join("groove_s9_00.mid");
    let out = dir.path().join("vars");
    let o = latentforge(&[
        "groove",
        "--from",
        p(&clip),
        "--spread",
        "0.3",
        "--count",
        "3",
        "--bars",
        "2",
        "--no-audio",
        "--out-dir",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (clip_ons, _, _) = midi_summary(&clip);
    for k in 0..3 {
        let (ons, gm, _) = midi_summary(&out.join(format!("groove_s9_00_var{k:02}.mid")));
        assert!(gm && ons > 0);
        // Neighbours of the clip stay in its neighbourhood of busyness.
        assert!(
            (ons as f64) > clip_ons as f64 * 0.4 && (ons as f64) < clip_ons as f64 * 2.5,
            "{ons} vs clip {clip_ons}"
        );
    }
    let bad = dir.path().join("bad.mid");
    fs::write(&bad, b"nope").unwrap();
    let o = latentforge(&["groove", "--from", p(&bad), "--out-dir", p(&out)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o).contains("bad.mid"), "{}", text(&o));
}

#[test]
fn presets_by_name_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = latentforge(&[
        "groove",
        "--preset",
        "boom-bap",
        "--count",
        "1",
        "--bars",
        "2",
        "--no-audio",
        "--out-dir",
        p(dir.path()),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("90 BPM"), "the preset's tempo is used: {t}");
    let o = latentforge(&["groove", "--preset", "no-such", "--out-dir", p(dir.path())]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(t.contains("no-such") && t.contains("boom-bap"), "lists what exists: {t}");
    let o = latentforge(&["groove", "--density", "3", "--out-dir", p(dir.path())]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("density"), "{}", text(&o));
}

#[test]
fn kit_is_written_as_samples_with_an_sfz_map_same_bytes_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let o = latentforge(&["kit", "--seed", "7", "--timbre", "0.25", "--out-dir", p(out)]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let sfz = fs::read_to_string(a.join("kit_s7_t250.sfz")).unwrap();
    for (lane, note) in
        ["kick", "snare", "closed_hat", "open_hat", "crash", "ride"].iter().zip([36, 38, 42, 46, 49, 51])
    {
        assert!(sfz.contains(&format!("sample={lane}.wav key={note}")), "{sfz}");
        let wav = a.join("kit_s7_t250").join(format!("{lane}.wav"));
        let r = hound::WavReader::open(&wav).unwrap();
        assert!(r.duration() > 1000, "{lane}: {} samples", r.duration());
        assert_eq!(fs::read(&wav).unwrap(), fs::read(b.join("kit_s7_t250").join(format!("{lane}.wav"))).unwrap());
    }
    let o = latentforge(&["kit", "--seed", "7", "--timbre", "0.25", "--out-dir", p(&a)]);
    assert!(!o.status.success() && text(&o).contains("--force"), "{}", text(&o));
    let o = latentforge(&["kit", "--timbre", "2", "--out-dir", p(&a)]);
    assert!(text(&o).contains("--timbre 2 is outside 0..1"), "{}", text(&o));
}
