# SPDX-License-Identifier: GPL-3.0-or-later
"""Running the `latentforge` tool without ever freezing Blender.

A [`Job`] runs one or more command lines one after another with `subprocess.Popen`, each with
`--json`. A reader thread puts every line it prints into a queue and nothing else: `bpy` is only
touched on the main thread, where a `bpy.app.timers` function ([`tick`]) drains the queues of the
running jobs a little at a time and hands each event to the job's callbacks. Cancel sends SIGTERM
(the tool then removes the file it was writing and exits 143). Under `blender -b` the same job
runs to the end before the operator returns ([`Job.run_blocking`]).
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import bpy

#: How often the timer drains the queues (seconds), and the most it spends per call.
TICK_S = 0.1
TICK_BUDGET_S = 0.02

_JOBS = []


class ToolMissing(Exception):
    """`latentforge` was not found; the message says where it was looked for and what to do."""


def addon_preferences():
    addon = bpy.context.preferences.addons.get(__package__)
    return addon.preferences if addon else None


def find_tool():
    """The `latentforge` to run: the path set in the preferences, else the one of the release
    this add-on was unpacked with (`<release>/blender/latentforge` -> `<release>/bin`), else PATH."""
    prefs = addon_preferences()
    named = bpy.path.abspath(prefs.executable) if prefs and prefs.executable else ""
    if named:
        if os.path.isfile(named) and os.access(named, os.X_OK):
            return named
        raise ToolMissing(f"{named}: not an executable file; fix the path in the Latentforge preferences")
    beside = Path(__file__).resolve().parents[2] / "bin" / "latentforge"
    if beside.is_file():
        return str(beside)
    found = shutil.which("latentforge")
    if found:
        return found
    raise ToolMissing(
        "latentforge not found (not set in the preferences, not beside this add-on, not on PATH); "
        "unpack the release and set its bin/latentforge in Edit > Preferences > Add-ons > Latentforge"
    )


def run_args():
    """The flags every run gets: the device from the preferences, and one thread fewer than the
    machine has, so Blender's own thread keeps a core while the tool works."""
    prefs = addon_preferences()
    device = ["--device", prefs.device.lower()] if prefs else []
    return [*device, "--threads", str(max(1, (os.cpu_count() or 2) - 1))]


class Job:
    """One or more command lines run in order; `on_file(job, path, kind, item)` is called on the
    main thread for every file the tool reports written, `on_finish(job)` once at the end when
    every command succeeded, returning what to tell the user: (level, message) or None."""

    def __init__(self, title, commands, on_file=None, on_finish=None):
        self.title = title
        self.commands = [list(c) for c in commands]
        self.on_file = on_file
        self.on_finish = on_finish
        self.queue = queue.Queue()
        self.total = 0
        self.done = 0
        self.files = []
        self.errors = []
        self.returncode = None
        self.outcome = None
        self.cancelled = False
        self.finished = False
        self.started = time.monotonic()
        self._process = None
        self._lock = threading.Lock()

    # --- the reader thread: processes and the queue only, never bpy ---

    def start(self):
        threading.Thread(target=self._run_all, name=f"latentforge: {self.title}", daemon=True).start()
        return self

    def _run_all(self):
        try:
            for argv in self.commands:
                code, stderr = self._run_one(argv)
                self.queue.put(("exit", code, stderr))
                if code != 0 or self.cancelled:
                    break
        except OSError as e:
            self.queue.put(("exit", -1, f"{self.commands[0][0]}: cannot run it: {e}"))
        self.queue.put(("finished",))

    def _run_one(self, argv):
        with self._lock:
            if self.cancelled:
                return 143, ""
            self._process = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, stdin=subprocess.DEVNULL
            )
        stderr = []
        drain = threading.Thread(target=lambda: stderr.extend(self._process.stderr), daemon=True)
        drain.start()
        for line in self._process.stdout:
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.queue.put(("event", json.loads(line)))
                except json.JSONDecodeError:
                    pass
        code = self._process.wait()
        drain.join()
        return code, "".join(stderr)

    def cancel(self):
        """Stops the job: SIGTERM to the running tool, no further command started."""
        with self._lock:
            self.cancelled = True
            if self._process and self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)

    # --- the main thread ---

    @property
    def fraction(self):
        return min(1.0, self.done / self.total) if self.total else 0.0

    def pump(self, budget_s=TICK_BUDGET_S):
        """Applies what the tool printed since the last call, for at most `budget_s` seconds;
        returns True while the job runs."""
        until = time.monotonic() + budget_s
        while not self.finished and time.monotonic() < until:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            self._apply(item)
        return not self.finished

    def _apply(self, item):
        if item[0] == "event":
            self._event(item[1])
        elif item[0] == "exit":
            code, stderr = item[1], item[2]
            self.returncode = code
            if code not in (0, None) and not self.cancelled and not self.errors:
                lines = [line for line in stderr.splitlines() if line.strip()]
                last = lines[-1].removeprefix("error: ") if lines else f"latentforge exited with status {code}"
                self.errors.append(last)
        elif item[0] == "finished":
            self.finished = True
            self.outcome = self._finish()

    def _finish(self):
        """What the user is told at the end: `on_finish`'s (level, message), else the first error."""
        if self.cancelled:
            return ("WARNING", f"{self.title}: cancelled")
        if self.errors:
            return ("ERROR", f"{self.title}: {self.errors[0]}")
        try:
            return self.on_finish(self) if self.on_finish else None
        except Exception as e:  # a job's result must never take the timer down
            return ("ERROR", f"{self.title}: applying the result failed: {e!r}")

    def _event(self, e):
        kind = e.get("event")
        if "plan" in e:
            self.total += len(e["plan"])
        elif kind == "started":
            self.total += e.get("total", 0)
        elif kind == "progress":
            self.done = max(self.done, e.get("done", 0))
        elif kind == "done":
            pass
        elif kind == "file":
            self._file(e["file"], e.get("kind"), e.get("input"))
        elif kind == "error" or "error" in e:
            self.errors.append(e.get("message") or e.get("error"))
        elif "files" in e:
            self.done += 1
            for f in e["files"]:
                self._file(f["file"], f.get("kind"), e.get("item"))
        elif "output" in e and e.get("item"):
            self.done += 1
            self._file(e["output"], "denoised", e["item"])

    def _file(self, path, kind, item):
        self.files.append((path, kind, item))
        if self.on_file:
            self.on_file(self, path, kind, item)

    def run_blocking(self):
        """Runs the job to the end (background mode, tests), pumping on this thread."""
        self.start()
        while self.pump(budget_s=1.0):
            time.sleep(0.01)
        return self


def launch(job):
    """Runs `job`: to the end under `blender -b`, else in the background, drained by [`tick`]."""
    if bpy.app.background:
        return job.run_blocking()
    _JOBS.append(job.start())
    if not bpy.app.timers.is_registered(tick):
        bpy.app.timers.register(tick, first_interval=TICK_S)
    return job


def running():
    return list(_JOBS)


def tick():
    """The timer: drains every running job a little, redraws the progress; stops when idle."""
    changed = False
    for job in list(_JOBS):
        before = (job.done, job.total)
        if not job.pump():
            _JOBS.remove(job)
            changed = True
            if job.outcome:
                report(*job.outcome)
        changed = changed or (job.done, job.total) != before
    if changed:  # redraws are not free (software drawing on a farm's desktop): only on news
        for window in getattr(bpy.context.window_manager, "windows", []):
            for area in window.screen.areas:
                area.tag_redraw()
    return TICK_S if _JOBS else None


def push_undo(message):
    """One undo step for what a finished job changed (timers run outside any window, so the step
    is pushed in the first window's context); nothing under `blender -b`, which has no undo."""
    windows = getattr(bpy.context.window_manager, "windows", [])
    if bpy.app.background or not windows:
        return
    with bpy.context.temp_override(window=windows[0], screen=windows[0].screen):
        bpy.ops.ed.undo_push(message=message)


def report(level, message):
    """A report in Blender's status bar and Info log, from anywhere on the main thread."""
    print(f"Latentforge: {level}: {message}")
    try:
        bpy.ops.latentforge.report(level=level, message=message)
    except (RuntimeError, AttributeError):
        pass


class LATENTFORGE_OT_report(bpy.types.Operator):
    """Shows a message of a finished job as a report"""

    bl_idname = "latentforge.report"
    bl_label = "Latentforge Report"
    bl_options = {"INTERNAL"}

    level: bpy.props.EnumProperty(items=[(k, k.title(), "") for k in ("INFO", "WARNING", "ERROR")])
    message: bpy.props.StringProperty()

    def execute(self, context):
        self.report({self.level}, self.message)
        return {"FINISHED"}


class LATENTFORGE_OT_cancel(bpy.types.Operator):
    """Stop the running Latentforge jobs (the tool removes the file it was writing)"""

    bl_idname = "latentforge.cancel"
    bl_label = "Cancel"

    def execute(self, context):
        for job in running():
            job.cancel()
        return {"FINISHED"}


_CLASSES = (LATENTFORGE_OT_report, LATENTFORGE_OT_cancel)


_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_CLASSES)


def register():
    _register_classes()


def unregister():
    for job in running():
        job.cancel()
    _JOBS.clear()
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)
    _unregister_classes()
