//! The editor in a real X window: Xvfb with Mesa's software OpenGL, the bundled allocation-
//! checking `.clap` in clack-host, its GUI extension embedding the editor in a window this test
//! creates. Opened, drawn, resized and closed 20 times while an audio thread processes (any
//! allocation in `process()` aborts this build), with resident memory bounded; then a screenshot
//! that must show a drawn editor, an XTest click on an empty grid cell that must change the
//! picture, and the next `process()` block playing the painted hit; then a click on Export and
//! the files it writes.
//!
//! Needs `Xvfb` (Debian `xvfb`; `cargo xtask test` installs it).

mod host;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clack_extensions::gui::GuiSize;
use host::display::*;
use host::*;
use latent_groove::editor::layout::{cell_centre, drag_centre, export_centre, DEFAULT_SIZE};
use latentforge::groove::{GM_NOTES, LANES, PATTERN_STEPS};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt as _, BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, MOTION_NOTIFY_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;

/// Open/draw/resize/close cycles while processing (`LATENT_GROOVE_EDITOR_CYCLES` overrides, to
/// watch memory over longer runs).
fn cycles() -> usize {
    std::env::var("LATENT_GROOVE_EDITOR_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(20).max(4)
}
/// Resident memory may grow by at most this much from the third cycle to the 20th (in proportion
/// for other counts). Measured: about 2.3 MB per open in the window and OpenGL stack (egui-baseview,
/// Mesa; 41-65 MB over these 17 cycles), so a bound that catches a leak of our own per frame.
const RSS_GROWTH_BOUND_MB: f64 = 96.0;
/// How long the editor may take to draw or to answer a click: it is seconds on a loaded machine
/// (software OpenGL), and every wait ends as soon as what it waits for is on screen.
const DRAW_WAIT: Duration = Duration::from_secs(30);

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

/// Pumps until a closed editor is gone: its window off the server and its threads ended, so
/// memory is read after the teardown, not during it (which takes seconds on a loaded machine).
fn editor_gone(
    conn: &x11rb::rust_connection::RustConnection,
    parent: u32,
    threads_without_editor: usize,
    s: &mut Session,
) {
    let start = Instant::now();
    loop {
        pump_for(s, Duration::from_millis(10));
        let windows = conn.query_tree(parent).unwrap().reply().unwrap().children.len();
        if windows == 0 && threads() <= threads_without_editor {
            return;
        }
        assert!(start.elapsed() < DRAW_WAIT, "the closed editor still has {windows} window(s), {} threads", threads());
    }
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// Distinct colours and the luminance's standard deviation: a drawn editor has many and a large
/// one, a blank or uniform window neither.
fn variety(img: &image::RgbImage) -> (usize, f64) {
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    let lum: Vec<f64> = colours.iter().map(|c| 0.3 * c[0] as f64 + 0.59 * c[1] as f64 + 0.11 * c[2] as f64).collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let sd = (lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64).sqrt();
    colours.sort_unstable();
    colours.dedup();
    (colours.len(), sd)
}

/// The saved state's JSON (nice-plug frames it with an 8-byte length).
fn saved_state(s: &mut Session) -> serde_json::Value {
    let bytes = s.save();
    serde_json::from_slice(&bytes[8..]).expect("the state is JSON")
}

/// The saved field `key` (nice-plug stores fields as JSON strings).
fn field(state: &serde_json::Value, key: &str) -> serde_json::Value {
    let raw = state["fields"][key].as_str().unwrap_or_else(|| panic!("no field {key} in {state}"));
    serde_json::from_str(raw).unwrap()
}

fn screenshot_path() -> PathBuf {
    std::env::var_os("LATENT_GROOVE_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/latent-groove-editor.png"))
}

// Over 100 lines on purpose: one session in a host, step by step (open/close cycles, screenshot,
// click, export, drag), each step using the state the one before left.
#[test]
fn the_editor_opens_draws_and_edits_in_a_real_window_while_processing() {
    let xvfb = Xvfb::start();
    let (conn, screen_num) = x11rb::connect(Some(&xvfb.display)).expect("connecting to Xvfb");
    let screen = conn.setup().roots[screen_num].clone();
    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);
    let parent = parent_window(&conn, &screen, w, h);

    let clap = bundled_clap("LATENT_GROOVE_ALLOC_CHECK_CLAP");
    let mut s = Session::open(&clap);
    s.warm_up();
    s.play_from_start();

    // 1. Open, draw, resize and close the editor 20 times while an audio thread processes.
    let stop = Arc::new(AtomicBool::new(false));
    let mut player = std::mem::replace(&mut s.player, Player::empty());
    let audio = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut blocks = 0usize;
            while !stop.load(Ordering::Acquire) {
                player.block();
                blocks += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            (player, blocks)
        })
    };
    let mut rss = Vec::new();
    let threads_without_editor = threads();
    let cycles = cycles();
    for cycle in 0..cycles {
        let gui = open_editor(&mut s, parent);
        pump_for(&mut s, Duration::from_millis(250));
        // Resize as a host does when the user drags its window's corner.
        let (rw, rh) = if cycle % 2 == 0 { (w as u32 + 160, h as u32 + 90) } else { (w as u32, h as u32) };
        conn.configure_window(parent, &ConfigureWindowAux::new().width(rw).height(rh)).unwrap();
        conn.flush().unwrap();
        let handle = s.instance.plugin_handle();
        gui.set_size(&handle, GuiSize { width: rw, height: rh }).expect("gui.set_size");
        pump_for(&mut s, Duration::from_millis(150));
        gui.destroy(&s.instance.plugin_handle());
        editor_gone(&conn, parent, threads_without_editor, &mut s);
        rss.push(rss_mb());
    }
    stop.store(true, Ordering::Release);
    let (player, blocks) = audio.join().expect("the audio thread (an allocation in process() aborts the test)");
    s.player = player;
    assert!(blocks > 1000, "only {blocks} blocks processed while the editor opened and closed");
    let growth = rss[cycles - 1] - rss[2];
    println!("resident memory over {cycles} cycles (MB): {rss:.0?}; growth from cycle 3: {growth:.1} MB");
    let bound = RSS_GROWTH_BOUND_MB * (cycles - 3) as f64 / 17.0;
    assert!(growth <= bound, "resident memory grew {growth:.1} MB over {cycles} cycles (bound {bound:.0} MB)");

    // 2. A screenshot of the running editor: drawn, not blank or uniform.
    conn.configure_window(parent, &ConfigureWindowAux::new().width(w as u32).height(h as u32)).unwrap();
    conn.flush().unwrap();
    let gui = open_editor(&mut s, parent);
    gui.set_size(&s.instance.plugin_handle(), GuiSize { width: w as u32, height: h as u32 }).unwrap();
    // The pointer off the controls, so no tooltip covers them.
    conn.xtest_fake_input(MOTION_NOTIFY_EVENT, 0, 0, screen.root, w as i16 - 4, 4, 0).unwrap();
    conn.flush().unwrap();
    // Until the editor has drawn (a loaded machine's software OpenGL may take seconds).
    let start = Instant::now();
    let (before, (colours, sd)) = loop {
        s.block();
        pump_for(&mut s, Duration::from_millis(30));
        let shot = screenshot(&conn, screen.root, w, h);
        let (colours, sd) = variety(&shot);
        if (colours > 200 && sd > 12.0) || start.elapsed() > DRAW_WAIT {
            break (shot, (colours, sd));
        }
    };
    assert!(colours > 200 && sd > 12.0, "the editor looks blank or uniform: {colours} colours, sd {sd:.1}");
    let path = screenshot_path();
    before.save(&path).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    println!("screenshot: {} ({colours} colours, luminance sd {sd:.1})", path.display());

    // The export folder, as a project would have saved it (after the screenshot, which shows
    // the default one).
    let exports = tempfile::tempdir().unwrap();
    let mut state = saved_state(&mut s);
    let mut editor = field(&state, "editor");
    editor["export_dir"] = serde_json::json!(exports.path());
    state["fields"]["editor"] = serde_json::Value::String(editor.to_string());
    let json = serde_json::to_vec(&state).unwrap();
    let mut framed = (json.len() as u64).to_le_bytes().to_vec();
    framed.extend_from_slice(&json);
    s.load(&framed);

    // 3. Click an empty kick (or snare) cell: the picture changes and the hit plays.
    let state = saved_state(&mut s);
    let history = field(&state, "history");
    let current = &history["entries"][history["current"].as_u64().unwrap() as usize];
    let hits: Vec<u32> = current["hits"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    assert_eq!(hits.len(), LANES);
    let (step, lane) = (0..2)
        .flat_map(|lane| (4..PATTERN_STEPS).map(move |step| (step, lane)))
        .find(|&(step, lane)| hits[lane] >> step & 1 == 0)
        .expect("an empty kick or snare step");
    let (x, y) = cell_centre(w as u32, h as u32, step, lane);
    click(&conn, screen.root, x, y, &mut s);
    let start = Instant::now();
    let painted = loop {
        pump_for(&mut s, Duration::from_millis(20));
        let edits = field(&saved_state(&mut s), "edits");
        let hit = edits["hits"].as_array().is_some_and(|hits| {
            hits.iter().any(|e| e[0].as_u64() == Some(step as u64) && e[1].as_u64() == Some(lane as u64))
        });
        if hit || start.elapsed() > DRAW_WAIT {
            break hit;
        }
    };
    assert!(painted, "the click at ({x:.0}, {y:.0}) on step {step}, lane {lane} did not paint a hit");
    // Until the editor has redrawn the painted cell.
    let start = Instant::now();
    let changed = loop {
        pump_for(&mut s, Duration::from_millis(50));
        let after = screenshot(&conn, screen.root, w, h);
        let changed = before.pixels().zip(after.pixels()).filter(|(a, b)| a != b).count();
        if changed > 20 || start.elapsed() > DRAW_WAIT {
            break changed;
        }
    };
    assert!(changed > 20, "the screenshot did not change after the click ({changed} pixels)");
    // The next block that covers the step plays the painted hit.
    s.notes.clear();
    let at = (step as f64 * STEP) as usize;
    s.pos = at - 100;
    s.frames = 512;
    s.block();
    let key = GM_NOTES[lane];
    assert!(
        s.ons(at - 100, at + 412).iter().any(|&(t, k)| k == key && t.abs_diff(100) <= 1),
        "the painted hit (step {step}, note {key}) is not in the next block: {:?}",
        s.ons(at - 100, at + 412)
    );

    // 4. Export: a new folder with the groove (painted hit included), 4 variations, the kit's
    // render and a stem per playing lane.
    let (x, y) = export_centre(w as u32, h as u32);
    click(&conn, screen.root, x, y, &mut s);
    let start = Instant::now();
    let folder = loop {
        pump_for(&mut s, Duration::from_millis(50));
        // The export appears under its final name only once complete.
        let done = std::fs::read_dir(exports.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
        if let Some(dir) = done {
            break dir;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no export in {} after clicking Export",
            exports.path().display()
        );
    };
    let patterns = latentforge::groove::patterns_from_midi(&folder.join("groove.mid")).expect("groove.mid");
    assert!(patterns[0].cells[step][lane].prob > 0.5, "the painted hit is in the exported groove.mid");
    for k in 1..=4 {
        assert!(folder.join(format!("variation-{k}.mid")).is_file(), "variation-{k}.mid in {}", folder.display());
    }
    let stems: Vec<_> = std::fs::read_dir(folder.join("stems")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(stems.iter().any(|n| n == "kick.wav"), "a kick stem (the painted hit): {stems:?}");
    let wav = hound::WavReader::open(folder.join("groove.wav")).unwrap();
    assert!(wav.duration() as f64 >= 4.0 * host::RATE * 0.99, "two bars at 120 BPM: {} samples", wav.duration());
    println!("exported to {}: {} stems", folder.display(), stems.len());

    // 5. Drag-out: the handle dragged onto an XDND target window (standing in for a DAW's
    // track) drops a file URI of a .mid holding the groove with the painted hit.
    let (target, hovered) = xdnd_target(&xvfb.display);
    let (x, y) = drag_centre(w as u32, h as u32);
    let to = ((TARGET.0 + 150) as f32, (TARGET.1 + 150) as f32);
    drag(&conn, screen.root, (x, y), to, &mut s, Some(&hovered));
    let dropped = loop {
        pump_for(&mut s, Duration::from_millis(20));
        if target.is_finished() {
            break target.join().unwrap();
        }
    };
    let uri = dropped.expect("the XDND target received no drop");
    let path = uri.trim().strip_prefix("file://").unwrap_or_else(|| panic!("not a file URI: {uri:?}"));
    let patterns = latentforge::groove::patterns_from_midi(Path::new(path)).expect("the dropped .mid");
    assert!(patterns[0].cells[step][lane].prob > 0.5, "the painted hit is in the dragged .mid");
    assert!(path.starts_with(&exports.path().to_string_lossy().to_string()), "kept under the export folder: {path}");
    println!("dropped {uri:?}");

    // A trial drag into a DAW running on the same display (`LATENT_GROOVE_DISPLAY`), to the
    // screen point `LATENT_GROOVE_DRAG_TO=x,y`: what the DAW did is in the plugin's log line
    // (NICE_LOG) and in target/drag-trial.png.
    if let Some((dx, dy)) = std::env::var("LATENT_GROOVE_DRAG_TO").ok().and_then(|v| {
        let (a, b) = v.split_once(',')?;
        Some((a.trim().parse::<f32>().ok()?, b.trim().parse::<f32>().ok()?))
    }) {
        drag(&conn, screen.root, (x, y), (dx, dy), &mut s, None);
        pump_for(&mut s, Duration::from_secs(5));
        let (sw, sh) = (screen.width_in_pixels, screen.height_in_pixels);
        let trial = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/drag-trial.png");
        screenshot(&conn, screen.root, sw, sh).save(&trial).unwrap();
        println!("trial drag to ({dx}, {dy}); screen in {}", trial.display());
    }

    gui.destroy(&s.instance.plugin_handle());
    pump_for(&mut s, Duration::from_millis(30));
    s.close();
    drop(conn);
}

/// Where the XDND target window sits: beside the editor's window.
const TARGET: (i16, i16, u16, u16) = (1150, 100, 300, 300);

/// A window accepting XDND drops of `text/uri-list`, on a thread with its own connection (as a
/// DAW's track would be); returns the dropped text, or None after 60 s, and a channel that says
/// when a drag first moved over it (it answered an XdndPosition).
fn xdnd_target(display: &str) -> (std::thread::JoinHandle<Option<String>>, std::sync::mpsc::Receiver<()>) {
    use x11rb::protocol::xproto::{AtomEnum, ClientMessageEvent, CreateWindowAux, EventMask, PropMode, WindowClass};
    use x11rb::protocol::Event;
    use x11rb::wrapper::ConnectionExt as _;
    let display = display.to_string();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    let (hovered_tx, hovered) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let (conn, screen) = x11rb::connect(Some(&display)).unwrap();
        let root = conn.setup().roots[screen].root;
        let atom = |name: &str| conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom;
        let (aware, position, status, drop, finished) =
            (atom("XdndAware"), atom("XdndPosition"), atom("XdndStatus"), atom("XdndDrop"), atom("XdndFinished"));
        let (selection, uri_list, copy, data) =
            (atom("XdndSelection"), atom("text/uri-list"), atom("XdndActionCopy"), atom("DROPPED"));
        let window = conn.generate_id().unwrap();
        let (x, y, w, h) = TARGET;
        conn.create_window(0, window, root, x, y, w, h, 0, WindowClass::INPUT_OUTPUT, 0, &CreateWindowAux::new())
            .unwrap();
        conn.change_property32(PropMode::REPLACE, window, aware, AtomEnum::ATOM, &[5]).unwrap();
        conn.map_window(window).unwrap();
        // A round trip: once it answers, the server has mapped the window and holds XdndAware,
        // so a drag that starts now sees the target.
        conn.get_input_focus().unwrap().reply().unwrap();
        ready_tx.send(()).unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let Some(event) = conn.poll_for_event().unwrap() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            match event {
                Event::ClientMessage(m) if m.type_ == position => {
                    let source = m.data.as_data32()[0];
                    let reply = ClientMessageEvent::new(32, source, status, [window, 1, 0, 0, copy]);
                    conn.send_event(false, source, EventMask::NO_EVENT, reply).unwrap();
                    conn.flush().unwrap();
                    let _ = hovered_tx.send(());
                }
                Event::ClientMessage(m) if m.type_ == drop => {
                    conn.convert_selection(window, selection, uri_list, data, m.data.as_data32()[2]).unwrap();
                    conn.flush().unwrap();
                }
                Event::SelectionNotify(n) if n.property == data => {
                    let text =
                        conn.get_property(true, window, data, AtomEnum::ANY, 0, 1 << 16).unwrap().reply().unwrap();
                    let source = conn.get_selection_owner(selection).unwrap().reply().unwrap().owner;
                    let done = ClientMessageEvent::new(32, source, finished, [window, 1, copy, 0, 0]);
                    conn.send_event(false, source, EventMask::NO_EVENT, done).unwrap();
                    conn.flush().unwrap();
                    return Some(String::from_utf8_lossy(&text.value).into_owned());
                }
                _ => {}
            }
        }
        None
    });
    ready.recv_timeout(Duration::from_secs(10)).expect("the XDND target window");
    (handle, hovered)
}

/// An XTest drag with the left button from `from` to `to`, pumping the plugin. Each step waits
/// on a real signal, not a pause: the pointer leaves the handle a little at a time until the
/// plugin's drag has begun (its drag thread owns XdndSelection), then goes to `to`, and with a
/// `hovered` signal stays there, moving a pixel at a time, until the target has answered a
/// position; only then is the button released.
fn drag(
    conn: &x11rb::rust_connection::RustConnection,
    root: u32,
    from: (f32, f32),
    to: (f32, f32),
    s: &mut Session,
    hovered: Option<&std::sync::mpsc::Receiver<()>>,
) {
    let motion = |(x, y): (f32, f32)| {
        conn.xtest_fake_input(MOTION_NOTIFY_EVENT, 0, 0, root, x as i16, y as i16, 0).unwrap();
        conn.flush().unwrap();
    };
    let along = |i: u32| {
        let f = i as f32 / 40.0;
        (from.0 + f * (to.0 - from.0), from.1 + f * (to.1 - from.1))
    };
    let selection = conn.intern_atom(false, b"XdndSelection").unwrap().reply().unwrap().atom;
    let owner = || conn.get_selection_owner(selection).unwrap().reply().unwrap().owner;
    let owner_before = owner();
    motion(from);
    pump_for(s, Duration::from_millis(150));
    conn.xtest_fake_input(BUTTON_PRESS_EVENT, 1, 0, x11rb::NONE, 0, 0, 0).unwrap();
    conn.flush().unwrap();
    pump_for(s, Duration::from_millis(60));
    let start = Instant::now();
    let mut i = 1;
    while owner() == owner_before || owner() == x11rb::NONE {
        assert!(start.elapsed() < Duration::from_secs(60), "the plugin's drag did not start within 60 s");
        motion(along(i));
        pump_for(s, Duration::from_millis(25));
        // Out of the handle, then back and forth a pixel: motion events keep coming.
        i = if i < 8 { i + 1 } else { 15 - i };
    }
    for i in 8..=40 {
        motion(along(i));
        pump_for(s, Duration::from_millis(25));
    }
    if let Some(hovered) = hovered {
        let start = Instant::now();
        let mut wiggle = 0.0;
        while hovered.try_recv().is_err() {
            assert!(start.elapsed() < Duration::from_secs(60), "the drag never moved over the XDND target");
            wiggle = 1.0 - wiggle;
            motion((to.0 + wiggle, to.1));
            pump_for(s, Duration::from_millis(25));
        }
    }
    pump_for(s, Duration::from_millis(100));
    conn.xtest_fake_input(BUTTON_RELEASE_EVENT, 1, 0, x11rb::NONE, 0, 0, 0).unwrap();
    conn.flush().unwrap();
}

/// An XTest left click at (`x`, `y`) on the root window, pumping the plugin meanwhile.
fn click(conn: &x11rb::rust_connection::RustConnection, root: u32, x: f32, y: f32, s: &mut Session) {
    conn.xtest_fake_input(MOTION_NOTIFY_EVENT, 0, 0, root, x as i16, y as i16, 0).unwrap();
    conn.flush().unwrap();
    pump_for(s, Duration::from_millis(150));
    conn.xtest_fake_input(BUTTON_PRESS_EVENT, 1, 0, x11rb::NONE, 0, 0, 0).unwrap();
    conn.flush().unwrap();
    pump_for(s, Duration::from_millis(60));
    conn.xtest_fake_input(BUTTON_RELEASE_EVENT, 1, 0, x11rb::NONE, 0, 0, 0).unwrap();
    conn.flush().unwrap();
}
