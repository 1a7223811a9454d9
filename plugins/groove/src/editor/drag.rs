//! Drag-out: dragging the handle in the editor drags the groove's `.mid` file into the DAW, as an
//! X11 XDND source offering `text/uri-list` (baseview cannot start drags, so this speaks the
//! protocol itself over its own X connection, on its own thread). The pointer is followed by
//! polling rather than grabbing it, since the editor's window holds the press's implicit grab.
//! Every message carries a real server timestamp (ICCCM: CurrentTime breaks some targets), and
//! the log says what the target did at each step, since hosts differ in what they accept.
//!
//! XDND: <https://freedesktop.org/wiki/Specifications/XDND/> (version 5).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask,
    KeyButMask, PropMode, SelectionNotifyEvent, Timestamp, Window, WindowClass, SELECTION_NOTIFY_EVENT,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::NONE;

const XDND_VERSION: u32 = 5;
/// How long a drop may take to finish before the source gives up.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);
/// A drag ends by itself after this long (a lost button release).
const DRAG_TIMEOUT: Duration = Duration::from_secs(120);

x11rb::atom_manager! {
    Atoms: AtomsCookie {
        XdndAware,
        XdndEnter,
        XdndPosition,
        XdndStatus,
        XdndLeave,
        XdndDrop,
        XdndFinished,
        XdndSelection,
        XdndActionCopy,
        XdndTypeList,
        LatentGrooveTime: b"_LATENT_GROOVE_TIME",
        UriList: b"text/uri-list",
        TextPlain: b"text/plain;charset=utf-8",
    }
}

/// Starts dragging `file` from where the pointer is; returns at once (the drag runs on a
/// thread of its own until the button is released and the drop is done).
pub fn start(file: PathBuf) {
    let _ = std::thread::Builder::new().name("latent-groove-drag".into()).spawn(move || {
        if let Err(e) = drag(&file) {
            nice_plug::nice_warn!("Latent Groove: dragging {} failed: {e}", file.display());
        }
    });
}

/// `file` as a `text/uri-list` entry: `file://` and the path, percent-encoded.
pub fn uri_list(file: &Path) -> String {
    let mut uri = String::from("file://");
    for b in file.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => uri.push(*b as char),
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri + "\r\n"
}

type Error = Box<dyn std::error::Error>;

struct Source {
    conn: RustConnection,
    root: Window,
    window: Window,
    atoms: Atoms,
    data: String,
    /// The server's time when the drag started, and when that was here.
    epoch: (Timestamp, Instant),
}

fn drag(file: &Path) -> Result<(), Error> {
    let (conn, screen) = x11rb::connect(None)?;
    let root = conn.setup().roots[screen].root;
    let atoms = Atoms::new(&conn)?.reply()?;
    let window = conn.generate_id()?;
    conn.create_window(0, window, root, -10, -10, 1, 1, 0, WindowClass::INPUT_ONLY, 0, &CreateWindowAux::new())?;
    let types = [atoms.UriList, atoms.TextPlain];
    conn.change_property32(PropMode::REPLACE, window, atoms.XdndTypeList, AtomEnum::ATOM, &types)?;
    let epoch = (server_time(&conn, window, atoms.LatentGrooveTime)?, Instant::now());
    conn.set_selection_owner(window, atoms.XdndSelection, epoch.0)?;
    conn.flush()?;
    let source = Source { conn, root, window, atoms, data: uri_list(file), epoch };
    let result = source.run();
    let _ = source.conn.destroy_window(source.window);
    let _ = source.conn.flush();
    result
}

/// The X server's time now: appending nothing to a property of our window makes the server
/// report the change, with its time.
fn server_time(conn: &RustConnection, window: Window, property: Atom) -> Result<Timestamp, Error> {
    conn.change_window_attributes(window, &ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE))?;
    conn.change_property8(PropMode::APPEND, window, property, AtomEnum::STRING, &[])?;
    conn.flush()?;
    loop {
        if let Event::PropertyNotify(p) = conn.wait_for_event()? {
            if p.window == window {
                return Ok(p.time);
            }
        }
    }
}

impl Source {
    /// The server's time now, from the drag's start.
    fn now(&self) -> Timestamp {
        self.epoch.0.wrapping_add(self.epoch.1.elapsed().as_millis() as u32)
    }

    fn run(&self) -> Result<(), Error> {
        let start = Instant::now();
        let mut target: Option<Window> = None;
        let mut accepted = false;
        let mut last = (i16::MIN, i16::MIN);
        while start.elapsed() < DRAG_TIMEOUT {
            self.serve_events(&mut accepted, target)?;
            let pointer = self.conn.query_pointer(self.root)?.reply()?;
            let under = self.xdnd_window_at()?;
            if under != target {
                if let Some(old) = target {
                    self.send(old, self.atoms.XdndLeave, [self.window, 0, 0, 0, 0])?;
                }
                if let Some(new) = under {
                    nice_plug::nice_log!(
                        "Latent Groove: drag-out: over window {new:#x} at ({}, {})",
                        pointer.root_x,
                        pointer.root_y
                    );
                    let more_types = 1; // the list is in XdndTypeList too
                    let header = XDND_VERSION << 24 | more_types;
                    self.send(
                        new,
                        self.atoms.XdndEnter,
                        [self.window, header, self.atoms.UriList, self.atoms.TextPlain, 0],
                    )?;
                }
                target = under;
                accepted = false;
                last = (i16::MIN, i16::MIN);
            }
            if !pointer.mask.contains(KeyButMask::BUTTON1) {
                return self.finish(target, accepted);
            }
            if let Some(t) = target {
                if (pointer.root_x, pointer.root_y) != last {
                    let at = (pointer.root_x as u16 as u32) << 16 | pointer.root_y as u16 as u32;
                    self.send(t, self.atoms.XdndPosition, [self.window, 0, at, self.now(), self.atoms.XdndActionCopy])?;
                    last = (pointer.root_x, pointer.root_y);
                }
            }
            self.conn.flush()?;
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// The button is up: drop on a target that accepted, else leave it. Says in the log what
    /// the target did (hosts differ in what they accept).
    fn finish(&self, target: Option<Window>, accepted: bool) -> Result<(), Error> {
        let Some(target) = target else { return Ok(()) };
        if !accepted {
            self.send(target, self.atoms.XdndLeave, [self.window, 0, 0, 0, 0])?;
            self.conn.flush()?;
            nice_plug::nice_log!("Latent Groove: drag-out: window {target:#x} refused the .mid file");
            return Ok(());
        }
        self.send(target, self.atoms.XdndDrop, [self.window, 0, self.now(), 0, 0])?;
        self.conn.flush()?;
        // The target asks for the data, then says it is done.
        let start = Instant::now();
        let mut done = false;
        while !done && start.elapsed() < FINISH_TIMEOUT {
            let mut ignored = true;
            done = self.serve_events(&mut ignored, Some(target))?;
            std::thread::sleep(Duration::from_millis(5));
        }
        let outcome = if done { "took the .mid file" } else { "did not confirm the drop" };
        nice_plug::nice_log!("Latent Groove: drag-out: window {target:#x} {outcome}");
        Ok(())
    }

    /// Answers requests for the data and reads the target's status; true once it finished.
    fn serve_events(&self, accepted: &mut bool, target: Option<Window>) -> Result<bool, Error> {
        let mut finished = false;
        while let Some(event) = self.conn.poll_for_event()? {
            match event {
                Event::ClientMessage(m) if m.type_ == self.atoms.XdndStatus => {
                    let d = m.data.as_data32();
                    if Some(d[0]) == target && *accepted != (d[1] & 1 == 1) {
                        *accepted = d[1] & 1 == 1;
                        let says = if *accepted { "accepts" } else { "refuses" };
                        nice_plug::nice_log!("Latent Groove: drag-out: window {:#x} {says} the file here", d[0]);
                    }
                }
                Event::ClientMessage(m) if m.type_ == self.atoms.XdndFinished => finished = true,
                Event::SelectionRequest(r) if r.selection == self.atoms.XdndSelection => {
                    let property = if r.property == NONE { r.target } else { r.property };
                    let ok = r.target == self.atoms.UriList || r.target == self.atoms.TextPlain;
                    nice_plug::nice_log!(
                        "Latent Groove: drag-out: window {:#x} asked for the data as atom {} ({})",
                        r.requestor,
                        r.target,
                        if ok { "sent" } else { "a type we do not offer" }
                    );
                    if ok {
                        self.conn.change_property8(
                            PropMode::REPLACE,
                            r.requestor,
                            property,
                            r.target,
                            self.data.as_bytes(),
                        )?;
                    }
                    let notify = SelectionNotifyEvent {
                        response_type: SELECTION_NOTIFY_EVENT,
                        sequence: 0,
                        time: r.time,
                        requestor: r.requestor,
                        selection: r.selection,
                        target: r.target,
                        property: if ok { property } else { NONE },
                    };
                    self.conn.send_event(false, r.requestor, EventMask::NO_EVENT, notify)?;
                    self.conn.flush()?;
                }
                _ => {}
            }
        }
        Ok(finished)
    }

    /// The XDND-aware window under the pointer (the deepest top-level or frame carrying
    /// `XdndAware` of a version we speak), if any.
    fn xdnd_window_at(&self) -> Result<Option<Window>, Error> {
        let mut window = self.root;
        for _ in 0..16 {
            let child = self.conn.query_pointer(window)?.reply()?.child;
            if child == NONE {
                return Ok(None);
            }
            let aware = self.conn.get_property(false, child, self.atoms.XdndAware, AtomEnum::ATOM, 0, 1)?.reply()?;
            if aware.value32().and_then(|mut v| v.next()).is_some_and(|v| v >= 3) {
                return Ok(Some(child));
            }
            window = child;
        }
        Ok(None)
    }

    fn send(&self, to: Window, kind: u32, data: [u32; 5]) -> Result<(), Error> {
        let message = ClientMessageEvent::new(32, to, kind, data);
        self.conn.send_event(false, to, EventMask::NO_EVENT, message)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            uri_list(Path::new("/tmp/Latent Groove/seed1 #2.mid")),
            "file:///tmp/Latent%20Groove/seed1%20%232.mid\r\n"
        );
    }
}
