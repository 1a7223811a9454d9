//! Loads the bundled `.clap` with a real CLAP host (clack-host) and plays it: 120 BPM, 4/4,
//! 8 bars with the transport running, parameter changes, lane locks, state round trips.
//!
//! `cargo xtask test` builds the bundles first and points these tests at them:
//! `LATENT_GROOVE_CLAP` (release bundle) and `LATENT_GROOVE_ALLOC_CHECK_CLAP` (debug build with
//! nice-plug's `assert_process_allocs`: any allocation in `process()` aborts the test process).

mod host;

use std::path::Path;
use std::time::Duration;

use host::*;
use latentforge::groove::{GM_NOTES, GROUP_NAMES, LANE_GROUPS};

/// CLAP reports plain values through a normalised round trip: equal within 1e-4.
fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-4, "parameter is {got}, expected {want}");
}

// Over 100 lines on purpose: one session as a DAW would run it, each step building on the last.
fn play_session(clap: &Path) {
    let mut s = Session::open(clap);
    assert_eq!(
        s.instance.access_shared_handler(|h| *h.latency.get().unwrap()).map(|l| l.get(&s.instance.plugin_handle())),
        Some(0),
        "latency is 0 samples"
    );
    // On the grid: no micro-timing, no swing.
    s.set("Humanize timing", 0.0);
    s.set("Swing", 0.0);
    s.set("Seed", 5.0);
    s.warm_up();
    s.play_from_start();
    s.play_bars(2);

    // 1. Note events sit exactly on 16th-note grid positions, as GM drum notes on channel 10.
    let ons = s.ons(0, 2 * BAR);
    assert!(ons.len() >= 8, "a 2-bar groove has hits, got {}", ons.len());
    for n in s.notes.iter() {
        assert_eq!(n.channel, 9, "channel 10 (index 9)");
        assert!(GM_NOTES.contains(&n.key), "GM drum note, got {}", n.key);
    }
    for (at, key) in &ons {
        let step = (*at as f64 / STEP).round();
        assert!((*at as f64 - step * STEP).abs() <= 1.0, "note {key} at sample {at} is off the grid");
    }
    let offs = s.notes.iter().filter(|n| !n.on).count();
    assert!(offs + 10 >= ons.len(), "every note is released");

    // The pattern loops every 2 bars.
    s.play_bars(2);
    assert_eq!(s.ons(0, 2 * BAR), s.ons(2 * BAR, 4 * BAR), "a 2-bar loop repeats");
    let first = s.ons(0, 2 * BAR);

    // 2. A parameter change takes effect, at a bar line: a new seed changes the groove.
    s.set("Lock kick", 1.0);
    s.set("Seed", 77.0);
    s.await_groove();
    let changed_at = s.pos;
    s.play_bars(5);
    let next_bar = changed_at.div_ceil(BAR) * BAR;
    let after_from = (next_bar / (2 * BAR) + 1) * 2 * BAR;
    let second = s.ons(after_from, after_from + 2 * BAR);
    assert_ne!(first, second, "seed change gives a new groove");
    // Nothing changes before the next bar line.
    let loop_start = changed_at - changed_at % (2 * BAR);
    let before: Vec<_> =
        s.ons(changed_at, next_bar).into_iter().map(|(at, k)| (at + changed_at - loop_start, k)).collect();
    let expect: Vec<_> =
        first.iter().filter(|(at, _)| *at >= changed_at - loop_start && *at < next_bar - loop_start).cloned().collect();
    assert_eq!(before, expect, "the old groove plays until the bar line");

    // 3. The locked kick lane keeps its notes; other lanes changed.
    let lane = |v: &[(usize, u8)], key: u8| v.iter().filter(|n| n.1 == key).cloned().collect::<Vec<_>>();
    assert_eq!(lane(&first, 36), lane(&second, 36), "locked kick is kept");
    let others = |v: &[(usize, u8)]| v.iter().filter(|n| n.1 != 36).cloned().collect::<Vec<_>>();
    assert_ne!(others(&first), others(&second), "unlocked lanes change");

    // Density acts at once (no inference): more hits.
    s.set("Density", 1.0);
    s.settle();
    let dense_from = s.pos.div_ceil(2 * BAR) * 2 * BAR;
    s.play_bars(4);
    assert!(s.ons(dense_from, dense_from + 2 * BAR).len() > second.len(), "density 100% adds hits");

    // 4. Audio: finite, non-silent, no denormals.
    assert!(s.audio.iter().all(|v| v.is_finite() && (*v == 0.0 || v.abs() > 1e-30)));
    let rms = (s.audio.iter().map(|v| v * v).sum::<f32>() / s.audio.len() as f32).sqrt();
    assert!(rms > 1e-3, "the kit is audible (rms {rms})");

    // 5. State: save -> load -> save is byte-identical and restores the knobs.
    let a = s.save();
    s.set("Seed", 1234.0);
    // Until the worker has answered: a late answer would rewrite the state restored below.
    s.await_groove();
    assert_close(s.param("Seed"), 1234.0);
    s.load(&a);
    assert_close(s.param("Seed"), 77.0);
    let b = s.save();
    assert_eq!(a, b, "save -> load -> save is byte-identical");
    let text = String::from_utf8_lossy(&a);
    assert!(
        text.contains("groove-state") && text.contains("variation"),
        "state carries the variation and latent: {text}"
    );

    // A state in release 0.1.0's format (committed fixture: the JSON nice-plug writes, behind
    // its 8-byte little-endian length) still loads, fields it lacks keeping their defaults.
    let json = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state-0.1.0.json")).unwrap();
    let mut old = (json.len() as u64).to_le_bytes().to_vec();
    old.extend_from_slice(&json);
    s.load(&old);
    assert_close(s.param("Seed"), 42.0);
    assert_close(s.param("Density"), 0.25);

    // Follow: drums played in, variations of them out; on the allocation-checking build too,
    // recording the input and asking the worker happen in process().
    s.set("Follow input", 1.0);
    let start = s.pos;
    s.input.extend((0..48).filter(|k| k % 4 == 0).map(|k| (start + (k as f64 * STEP) as usize, 36, 0.9)));
    s.play_bars(3);
    s.settle();
    s.play_bars(1);
    assert!(s.audio.iter().all(|v| v.is_finite()));
    s.set("Follow input", 0.0);

    // Extreme parameter values: still finite output.
    for (name, v) in [
        ("Temperature", 2.0),
        ("Density", 1.0),
        ("Swing", 1.0),
        ("Kit timbre", 1.0),
        ("Output gain", 1.9952623),
        ("Macro 1", 1.0),
        ("Macro 8", -1.0),
    ] {
        s.set(name, v);
    }
    s.settle();
    s.play_bars(2);
    assert!(s.audio.iter().all(|v| v.is_finite() && v.abs() <= 4.0));
    s.close();
}

#[test]
fn release_bundle_plays_in_a_clap_host() {
    play_session(&bundled_clap("LATENT_GROOVE_CLAP"));
}

#[test]
fn debug_bundle_never_allocates_in_process() {
    // nice-plug's assert_process_allocs aborts the whole test process on an allocation inside
    // process(), so passing this test means the audio thread stayed allocation-free.
    play_session(&bundled_clap("LATENT_GROOVE_ALLOC_CHECK_CLAP"));
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

#[test]
fn lane_groups_play_on_their_own_outputs_with_levels_and_decay() {
    let mut s = Session::open(&bundled_clap("LATENT_GROOVE_CLAP"));
    let ports = s.output_ports();
    let mut want = vec![("Output".to_string(), 2)];
    want.extend(GROUP_NAMES.iter().map(|n| (n.to_string(), 2)));
    assert_eq!(ports, want, "a stereo mix and one stereo output per lane group");
    s.set("Humanize timing", 0.0);
    s.set("Humanize velocity", 0.0);
    s.set("Density", 0.7);
    s.set("Seed", 5.0);
    s.warm_up();
    s.play_from_start();
    s.play_bars(4);

    // The mix is the sum of the group outputs, sample by sample.
    for (i, m) in s.audio.iter().enumerate() {
        let sum: f32 = s.groups.iter().map(|g| g[i]).sum();
        assert!((sum - m).abs() < 1e-5, "sample {i}: mix {m}, groups sum to {sum}");
    }
    // A group sounds in the second loop exactly when the groove plays one of its lanes.
    for (g, lanes) in LANE_GROUPS.iter().enumerate() {
        let played = s.ons(2 * BAR, 4 * BAR).iter().any(|(_, key)| lanes.iter().any(|&l| GM_NOTES[l] == *key));
        let heard = s.groups[g][2 * BAR..4 * BAR].iter().any(|v| *v != 0.0);
        assert_eq!(played, heard, "{}: played {played}, heard {heard}", GROUP_NAMES[g]);
    }
    let snare = 1;
    assert!(s.ons(0, 2 * BAR).iter().any(|(_, k)| *k == GM_NOTES[1]), "the groove has a snare");

    // A lane level scales that lane only, ringing voices included: -12 dB on the snare.
    let loop_at = |s: &Session, g: usize, from: usize| rms(&s.groups[g][from..from + 2 * BAR]);
    let before: Vec<f32> = (0..GROUP_NAMES.len()).map(|g| loop_at(&s, g, 2 * BAR)).collect();
    // CLAP carries continuous parameters normalised: ask the plugin what 0.7 shows, in dB.
    let shown = s.text("Snare level", 0.7);
    let db: f32 = shown.trim_end_matches("dB").trim().parse().unwrap_or_else(|_| panic!("{shown:?}"));
    assert!(db < -3.0, "0.7 of the Snare level range is {shown}");
    s.set("Snare level", 0.7);
    s.settle();
    let from = s.pos.div_ceil(2 * BAR) * 2 * BAR;
    s.play_bars(4);
    for (g, b) in before.iter().enumerate() {
        let ratio = loop_at(&s, g, from) / b.max(1e-9);
        // The shown text is rounded to 0.1 dB (1.2 %).
        let want = if g == snare { 10f32.powf(db / 20.0) } else { 1.0 };
        if *b > 0.0 {
            assert!((ratio - want).abs() < 0.015 * want, "{}: level ratio {ratio}, expected {want}", GROUP_NAMES[g]);
        }
    }

    // The decay knob shortens every voice: at 0 the tails are gone and the mix is quieter.
    let full = rms(&s.audio[from..from + 2 * BAR]);
    s.set("Decay", 0.0);
    s.settle();
    let from = s.pos.div_ceil(2 * BAR) * 2 * BAR;
    s.play_bars(4);
    let short = rms(&s.audio[from..from + 2 * BAR]);
    assert!(short < 0.7 * full, "decay 0% leaves rms {short} of {full}");
    s.close();
}

#[test]
fn offline_render_waits_for_its_groove_and_kit() {
    // A bounce starts at once, far faster than real time: the first bar must still have its
    // notes and its sound (the plugin waits for the worker only in offline mode).
    let mut s = Session::open_mode(&bundled_clap("LATENT_GROOVE_CLAP"), true);
    s.play_from_start();
    s.play_bars(1);
    assert!(!s.ons(0, BAR).is_empty(), "the first bar of an offline render has notes");
    assert!(s.audio[..BAR].iter().any(|v| *v != 0.0), "and sound");
    s.close();
}

#[test]
fn bundle_without_resources_loads_and_stays_silent() {
    let src = bundled_clap("LATENT_GROOVE_CLAP");
    assert!(src.is_file(), "{} is missing: run `cargo xtask bundle`", src.display());
    let dir = tempfile::tempdir().unwrap();
    let lonely = dir.path().join("Latent Groove.clap");
    std::fs::copy(&src, &lonely).unwrap();
    let mut s = Session::open(&lonely);
    s.playing = true;
    for _ in 0..(2 * BAR / BLOCK) {
        s.block();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(s.audio.iter().all(|v| *v == 0.0), "silence without models");
    assert!(s.notes.is_empty(), "no notes without the groove model");
    s.close();
}

/// Follow: a known clip played into the plugin (kick on beats 1 and 3, snare on 2 and 4, closed
/// hats on eighths) comes back, at spread 0, with its kick and snare where they were played.
#[test]
fn follow_plays_the_input_groove_back_at_spread_0() {
    use latentforge::groove::lane_of_note;
    use std::collections::BTreeSet;

    // Offline: the plugin waits for the worker's answer instead of playing on without it.
    let mut s = Session::open_mode(&bundled_clap("LATENT_GROOVE_CLAP"), true);
    for (name, v) in [("Humanize timing", 0.0), ("Swing", 0.0), ("Follow input", 1.0), ("Follow spread", 0.0)] {
        s.set(name, v);
    }
    let at = |bar: usize, step: usize| bar * BAR + (step as f64 * STEP) as usize;
    for bar in 0..10 {
        for step in 0..16 {
            for (key, every, phase, velocity) in [(36u8, 8, 0, 0.9), (38, 8, 4, 0.85), (42, 2, 0, 0.6)] {
                if step % every == phase {
                    s.input.push((at(bar, step), key, velocity));
                }
            }
        }
    }
    s.play_from_start();
    s.play_bars(10);
    // Bars 6-9 play variations of what was played before them.
    let steps_of = |key: u8| -> BTreeSet<usize> {
        let out = GM_NOTES[lane_of_note(key).unwrap()];
        s.ons(6 * BAR, 10 * BAR)
            .iter()
            .filter(|(_, k)| *k == out)
            .map(|(t, _)| ((*t % BAR) as f64 / STEP).round() as usize % 16)
            .collect()
    };
    assert_eq!(steps_of(36), BTreeSet::from([0, 8]), "kick steps: {:?}", s.ons(6 * BAR, 10 * BAR));
    assert_eq!(steps_of(38), BTreeSet::from([4, 12]), "snare steps: {:?}", s.ons(6 * BAR, 10 * BAR));
    s.close();
}
