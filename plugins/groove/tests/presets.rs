//! Factory presets inside the plugin: listed by name, a broken file skipped, and a selected
//! preset audibly in charge (here: Shuffle's swing). Its own test binary, because it points the
//! plugin at a modified Resources folder through LATENT_GROOVE_RESOURCES.

mod host;

use std::path::{Path, PathBuf};

use host::*;

fn bundle() -> PathBuf {
    std::env::var_os("LATENT_GROOVE_CLAP").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bundled/clap/Latent Groove/Latent Groove.clap")
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn presets_are_listed_broken_ones_skipped_and_selecting_one_takes_effect() {
    let clap = bundle();
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
    s.warm_up();
    s.play_from_start();
    s.play_bars(4);
    let ons = s.ons(0, 4 * BAR);
    assert!(ons.len() >= 16, "{ons:?}");
    let step = STEP as usize;
    let phases: Vec<usize> = ons.iter().map(|(at, _)| at % (2 * step)).collect();
    assert!(phases.iter().all(|&p| p <= 1 || (p as i64 - (step + step / 3) as i64).abs() <= 1), "on even 16ths or a third late: {phases:?}");
    assert!(phases.iter().any(|&p| p > 1), "some hits fall on the swung 16ths: {phases:?}");
    s.close();
}
