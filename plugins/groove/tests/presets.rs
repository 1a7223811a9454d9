//! Factory presets inside the plugin: listed by name, a broken file skipped, and a selected
//! preset audibly in charge (here: Shuffle's swing). Its own test binary, because it points the
//! plugin at a modified Resources folder through LATENT_GROOVE_RESOURCES.

mod host;

use host::*;

#[test]
fn presets_are_listed_broken_ones_skipped_and_selecting_one_takes_effect() {
    let clap = bundled_clap("LATENT_GROOVE_CLAP");
    assert!(clap.is_file(), "{} is missing: run `cargo xtask bundle`", clap.display());
    let work = tempfile::tempdir().unwrap();
    let resources = work.path().join("Resources");
    copy_dir(&clap.parent().unwrap().join("Resources"), &resources);
    // Sorted first, and broken: it must be skipped, not shift or break the list.
    std::fs::write(resources.join("presets/0-broken.toml"), "name = \"Broken\"\n[settings\nseed = ").unwrap();
    std::env::set_var("LATENT_GROOVE_RESOURCES", &resources);

    let mut s = Session::open(&clap);
    assert_eq!(s.text("Preset", 0.0), "None");
    let names: Vec<String> = (1..=6).map(|i| s.text("Preset", i as f64)).collect();
    assert_eq!(names, ["Boom Bap", "Busy Fills", "Funk Pocket", "Shuffle", "Sparse Halftime", "Straight Eight"]);

    // Shuffle: swing 100 % delays every second 16th by a third of a step. Humanize timing at 0
    // takes the preset's micro-timing to 0 too (knobs act relative to the preset).
    s.set("Preset", 4.0);
    s.set("Humanize timing", 0.0);
    // Density at 100 % adds the likely 16th-note hits, so there are swung steps to hear.
    s.set("Density", 1.0);
    s.warm_up();
    s.play_from_start();
    s.play_bars(4);
    let ons = s.ons(0, 4 * BAR);
    assert!(ons.len() >= 16, "{ons:?}");
    let step = STEP as usize;
    // Position within a pair of 16ths, -1..: hits are exactly on the even 16th or a third late.
    let phases: Vec<i64> = ons.iter().map(|(at, _)| ((at + 1) % (2 * step)) as i64 - 1).collect();
    let swung = (step + step / 3) as i64;
    assert!(
        phases.iter().all(|&p| p.abs() <= 1 || (p - swung).abs() <= 1),
        "on even 16ths or a third late: {phases:?}"
    );
    assert!(phases.iter().any(|&p| (p - swung).abs() <= 1), "some hits fall on the swung 16ths: {phases:?}");
    s.close();
}
