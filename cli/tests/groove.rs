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

/// A WAV's samples as floats (the kit writes 24-bit integers).
fn wav_samples(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.samples::<i32>().map(|s| s.unwrap() as f32 / 8_388_608.0).collect()
}

/// RMS per `hop`-sample frame, in dB.
fn envelope_db(x: &[f32], hop: usize) -> Vec<f32> {
    x.chunks_exact(hop)
        .map(|c| 10.0 * (c.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / hop as f64 + 1e-20).log10() as f32)
        .collect()
}

/// Seconds from the loudest 10 ms frame to the last frame within 40 dB of it.
fn time_to_minus_40_db(x: &[f32], rate: f32) -> f32 {
    let e = envelope_db(x, (rate * 0.01) as usize);
    let (peak_at, peak) = e.iter().enumerate().fold((0, f32::MIN), |m, (i, v)| if *v > m.1 { (i, *v) } else { m });
    let last = e.iter().rposition(|v| *v > peak - 40.0).unwrap();
    (last - peak_at + 1) as f32 * 0.01
}

/// How far (dB) a 50 ms envelope climbs back above its lowest point so far after the peak,
/// while within 60 dB of the peak: 0 for a monotonic decay.
fn largest_rise_db(x: &[f32], rate: f32) -> f32 {
    let e = envelope_db(x, (rate * 0.05) as usize);
    let peak_at = e.iter().enumerate().fold(0, |m, (i, v)| if *v > e[m] { i } else { m });
    let mut lowest = e[peak_at];
    let mut rise = 0.0f32;
    for v in e[peak_at..].iter().take_while(|v| **v > e[peak_at] - 60.0) {
        lowest = lowest.min(*v);
        rise = rise.max(v - lowest);
    }
    rise
}

/// dB RMS of the `window` samples from the onset (first sample within 40 dB of the peak), as
/// the drum model's manifest measures the real kits' balance.
fn onset_rms_db(x: &[f32], window: usize) -> f32 {
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let start = x.iter().position(|v| v.abs() > 0.01 * peak).unwrap();
    envelope_db(&x[start..(start + window).min(x.len())], window.min(x.len() - start))[0]
}

#[test]
fn generated_kits_decay_like_drums_and_sit_at_the_real_kits_balance() {
    let manifest: toml::Value = toml::from_str(
        &fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/drums/model.toml")).unwrap(),
    )
    .unwrap();
    let drums = &manifest["drums"];
    let lanes: Vec<&str> = drums["lanes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let loudness: Vec<f32> =
        drums["loudness_db"].as_array().unwrap().iter().map(|v| v.as_float().unwrap() as f32).collect();
    let window_s = drums["loudness_window_s"].as_float().unwrap() as f32;
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=6 {
        for timbre in ["0", "0.6"] {
            let o = latentforge(&["kit", "--seed", &seed.to_string(), "--timbre", timbre, "--out-dir", p(dir.path())]);
            assert!(o.status.success(), "{}", text(&o));
        }
    }
    let mut kits = 0;
    for kit in fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        kits += 1;
        let mut level = Vec::new();
        for lane in &lanes {
            let path = kit.join(format!("{lane}.wav"));
            let rate = hound::WavReader::open(&path).unwrap().spec().sample_rate as f32;
            let x = wav_samples(&path);
            let t40 = time_to_minus_40_db(&x, rate);
            let limit = match *lane {
                "closed_hat" => Some(0.15),
                "kick" | "snare" => Some(0.6),
                _ => None,
            };
            if let Some(limit) = limit {
                assert!(t40 <= limit, "{}: {lane} takes {t40} s to fall 40 dB (at most {limit} s)", kit.display());
            }
            if matches!(*lane, "open_hat" | "crash" | "ride") {
                // A decaying noise's 50 ms RMS still wobbles a little (the real open hats and
                // cymbals rise by up to 4-17 dB on this measure); a swell is more than 3 dB.
                let rise = largest_rise_db(&x, rate);
                assert!(rise <= 3.0, "{}: {lane} swells by {rise} dB while it decays", kit.display());
            }
            level.push(onset_rms_db(&x, (window_s * rate) as usize));
        }
        // The lanes' balance is the real kits' (relative to each kit's median lane).
        let median = |v: &[f32]| {
            let mut s = v.to_vec();
            s.sort_by(f32::total_cmp);
            s[s.len() / 2]
        };
        let (ours, theirs) = (median(&level), median(&loudness));
        for (i, lane) in lanes.iter().enumerate() {
            let got = level[i] - ours;
            let want = loudness[i] - theirs;
            assert!(
                (got - want).abs() < 0.5,
                "{}: {lane} sits at {got:.1} dB, the real kits at {want:.1} dB",
                kit.display()
            );
        }
    }
    assert_eq!(kits, 12);
}
