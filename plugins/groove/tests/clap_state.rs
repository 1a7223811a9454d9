//! Saved states a host hands over from a damaged, hand-edited or newer project, in a real CLAP
//! host (clack-host) on the release bundle: malformed, truncated, 100 MB, from a newer version,
//! and with parameter values out of range. Each leaves the plugin at its defaults (or clamped),
//! playing, with at most one log line from the plugin.

mod host;

use std::fs;
use std::time::{Duration, Instant};

use host::*;

/// A state as nice-plug's CLAP wrapper stores it: an 8-byte little-endian length, then JSON.
fn framed(json: &[u8]) -> Vec<u8> {
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(json);
    out
}

fn assert_close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-4, "parameter is {got}, expected {want}");
}

/// The plugin still plays: a bar of finite, bounded audio.
fn still_plays(s: &mut Session) {
    s.play_bars(1);
    assert!(s.audio.iter().all(|v| v.is_finite() && v.abs() <= 4.0));
}

#[test]
fn damaged_states_load_defaults_with_one_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("plugin.log");
    // nice-plug's logger reads this when the bundle is first loaded in this process.
    std::env::set_var("NICE_LOG", &log);
    let clap = bundled_clap("LATENT_GROOVE_CLAP");
    // nice-log writes from a background thread: wait for `want` lines (30 s at most), then a
    // little longer, so a second line would show too.
    let lines = |what: &str, want: usize| {
        let count = || fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.contains(what)).count();
        let start = Instant::now();
        while count() < want && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        count()
    };
    let ours = "Latent Groove: the saved state had";

    let mut s = Session::open(&clap);
    s.warm_up();
    let (density, seed) = (s.param("Density"), s.param("Seed"));
    let good = s.save();

    // Not JSON, truncated, and 100 MB of it: refused by nice-plug before the plugin sees it;
    // the instance keeps its state (a project being opened: the defaults) and plays on.
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let mut huge = framed(b"{\"version\":\"9.9.9\",\"params\":{},\"fields\":{\"x\":\"");
    huge.resize(100 << 20, b'A');
    let huge_len = (huge.len() - 8) as u64;
    huge[..8].copy_from_slice(&huge_len.to_le_bytes());
    for (what, bytes) in [
        ("malformed", framed(b"{\"params\": [1, 2,")),
        ("binary", vec![0xFF; 64]),
        ("truncated", truncated),
        ("100 MB", huge),
    ] {
        assert!(!s.try_load(&bytes), "{what}: refused");
        assert_close(s.param("Density"), density);
        assert_close(s.param("Seed"), seed);
        still_plays(&mut s);
    }
    assert_eq!(lines(ours, 0), 0, "nothing reached the plugin");

    // From a newer Latent Groove: defaults, one line.
    s.set("Density", 0.9);
    s.settle();
    let future = br#"{"version":"9.0.0","params":{"density":{"f32":0.75},"seed":{"i32":5}},"fields":{"variation":"7","groove-state":"{\"version\":99,\"latent\":[],\"editor\":{}}"}}"#;
    assert!(s.try_load(&framed(future)));
    assert_close(s.param("Density"), density);
    assert_close(s.param("Seed"), seed);
    assert_eq!(lines("newer Latent Groove", 1), 1, "{}", fs::read_to_string(&log).unwrap_or_default());
    still_plays(&mut s);

    // Values out of range, NaN, a wrong type, a damaged latent: clamped or reset, one line.
    let wild = br#"{"version":"0.1.0","params":{"density":{"f32":7.5},"swing":{"f32":-3.0},"seed":{"i32":-2147483648},"temperature":{"bool":true}},"fields":{"variation":"not a number","groove-state":"{\"version\":1,\"latent\":[1e39]}"}}"#;
    assert!(s.try_load(&framed(wild)));
    assert_close(s.param("Density"), 1.0);
    assert_close(s.param("Swing"), 0.0);
    assert_close(s.param("Seed"), 0.0);
    assert_eq!(lines(ours, 2), 2, "one line per damaged load: {}", fs::read_to_string(&log).unwrap_or_default());
    still_plays(&mut s);

    // And a good state still round-trips after all that.
    s.load(&good);
    assert_eq!(s.save(), good);
    s.close();
}
