//! An X display for the editor tests and the benchmark: Xvfb (Mesa's software OpenGL), a
//! top-level window standing in for the host's plugin window, and the CLAP GUI calls that embed
//! the editor in it.

use std::io::{BufRead, BufReader};
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
    /// The server's own output, named when it fails; removed with the server.
    _log: Option<tempfile::NamedTempFile>,
}

/// How long Xvfb may take to start listening (seconds on an idle machine; generous for a
/// loaded one).
const XVFB_START: Duration = Duration::from_secs(60);

impl Xvfb {
    /// Starts Xvfb on a display of its choosing and points this process's `DISPLAY` at it; with
    /// `LATENT_GROOVE_DISPLAY` set, uses that (running) display instead, e.g. to drag into a DAW
    /// running there.
    ///
    /// Readiness is the server's own signal: with `-displayfd` it writes the display number it
    /// took once it listens there, so no probe connection is made. (A probe that disconnects
    /// made the server reset, and a test connecting during the reset was refused: issue 32.)
    /// `-noreset` keeps it from resetting whenever its last client leaves.
    pub fn start() -> Xvfb {
        if let Some(display) = std::env::var_os("LATENT_GROOVE_DISPLAY") {
            let display = display.to_string_lossy().into_owned();
            std::env::set_var("DISPLAY", &display);
            std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
            return Xvfb { child: None, display, _log: None };
        }
        let xvfb = Path::new("/usr/bin/Xvfb");
        assert!(xvfb.is_file(), "Xvfb is missing: install Debian's xvfb (`cargo xtask test` does)");
        let log = tempfile::Builder::new().prefix("latent-groove-xvfb-").suffix(".log").tempfile().unwrap();
        let (reader, writer) = std::io::pipe().expect("a pipe for Xvfb's -displayfd");
        // The number goes to the child's stdout (fd 1); its messages go to the log.
        let child = Command::new(xvfb)
            .args(["-displayfd", "1", "-noreset", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
            .args(["+extension", "GLX"])
            .stdout(writer)
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("starting /usr/bin/Xvfb");
        // The Command (and its copy of the write end) is gone: end of file means Xvfb exited.
        let mut server = Xvfb { child: Some(child), display: String::new(), _log: Some(log) };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(reader).read_line(&mut line);
            let _ = tx.send(line);
        });
        let number = match rx.recv_timeout(XVFB_START) {
            Ok(line) => line.trim().parse::<u32>().ok(),
            Err(_) => None,
        };
        let Some(number) = number else {
            let log = server._log.as_ref().map(|l| l.path().to_path_buf()).unwrap();
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            drop(server);
            panic!("Xvfb did not report a display within {XVFB_START:?} (log {}):\n{said}", log.display());
        };
        server.display = format!(":{number}");
        // Set before the plugin opens its display.
        std::env::set_var("DISPLAY", &server.display);
        std::env::set_var("LIBGL_ALWAYS_SOFTWARE", "1");
        server
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
