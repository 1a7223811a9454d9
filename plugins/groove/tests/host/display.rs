//! An X display for the editor tests and the benchmark: Xvfb (Mesa's software OpenGL), a
//! top-level window standing in for the host's plugin window, and the CLAP GUI calls that embed
//! the editor in it.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, ImageFormat, Screen, WindowClass};
use x11rb::rust_connection::RustConnection;

use super::Session;

pub struct Xvfb {
    /// None when the display is someone else's.
    child: Option<Child>,
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on a free display and points this process's `DISPLAY` at it; with
    /// `LATENT_GROOVE_DISPLAY` set, uses that (running) display instead, e.g. to drag into a DAW
    /// running there.
    pub fn start() -> Xvfb {
        if let Some(display) = std::env::var_os("LATENT_GROOVE_DISPLAY") {
            let display = display.to_string_lossy().into_owned();
            std::env::set_var("DISPLAY", &display);
            std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
            return Xvfb { child: None, display };
        }
        let xvfb = Path::new("/usr/bin/Xvfb");
        assert!(xvfb.is_file(), "Xvfb is missing: install Debian's xvfb (`cargo xtask test` does)");
        for n in 140..200 {
            if display_in_use(n) {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new(xvfb)
                .args([&display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "+extension", "GLX"])
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("starting Xvfb");
            // Dropping it kills the server if it never answers (another one may own the display).
            let server = Xvfb { child: Some(child), display };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if x11rb::connect(Some(&server.display)).is_ok() {
                    // Set before the plugin opens its display.
                    std::env::set_var("DISPLAY", &server.display);
                    std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
                    return server;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("Xvfb did not start on any display from :140 to :199");
    }
}

/// Whether display `n` belongs to a running X server: its lock file names a live process. A
/// lock left by a killed server does not count (Xvfb replaces a stale lock itself).
fn display_in_use(n: u32) -> bool {
    match std::fs::read_to_string(format!("/tmp/.X{n}-lock")) {
        Ok(pid) => pid.trim().parse::<u32>().map_or(true, |pid| Path::new(&format!("/proc/{pid}")).exists()),
        Err(_) => Path::new(&format!("/tmp/.X11-unix/X{n}")).exists(),
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn gui(s: &mut Session) -> PluginGui {
    s.instance.access_shared_handler(|h| *h.gui.get().unwrap()).expect("the plugin has a GUI extension")
}

/// Pumps the plugin's main-thread callbacks for `time`.
pub fn pump_for(s: &mut Session, time: Duration) {
    let start = Instant::now();
    while start.elapsed() < time {
        s.pump();
        std::thread::sleep(Duration::from_millis(4));
    }
}

pub fn open_editor(s: &mut Session, parent: u32) -> PluginGui {
    let gui = gui(s);
    let handle = s.instance.plugin_handle();
    let config = GuiConfiguration { api_type: GuiApiType::X11, is_floating: false };
    assert!(gui.is_api_supported(&handle, config), "X11 embedding supported");
    gui.create(&handle, config).expect("gui.create");
    let size = gui.get_size(&handle).expect("gui.get_size");
    assert!(size.width >= 600 && size.height >= 400, "editor size {}x{}", size.width, size.height);
    // SAFETY: the caller keeps the parent window until after `destroy`.
    unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent as _)) }.expect("gui.set_parent");
    gui.show(&handle).expect("gui.show");
    gui
}

pub fn screenshot(conn: &RustConnection, root: u32, w: u16, h: u16) -> image::RgbImage {
    let reply = conn.get_image(ImageFormat::Z_PIXMAP, root, 0, 0, w, h, !0).unwrap().reply().unwrap();
    // 24-bit depth comes as 32 bits per pixel, BGRX.
    let rgb: Vec<u8> = reply.data.chunks_exact(4).flat_map(|p| [p[2], p[1], p[0]]).collect();
    image::RgbImage::from_raw(w as u32, h as u32, rgb).unwrap()
}

/// A mapped top-level window of `w` × `h` at the screen's origin (no window manager runs).
pub fn parent_window(conn: &RustConnection, screen: &Screen, w: u16, h: u16) -> u32 {
    let parent = conn.generate_id().unwrap();
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        parent,
        screen.root,
        0,
        0,
        w,
        h,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(screen.black_pixel),
    )
    .unwrap();
    conn.map_window(parent).unwrap();
    conn.flush().unwrap();
    parent
}
