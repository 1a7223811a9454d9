# SPDX-License-Identifier: GPL-3.0-or-later
"""The render operators: `latentforge.prepare_scene` (and its Restore), *Denoise while rendering*
(the `watch` service started on `render_init` and stopped on `render_complete`/`render_cancel`,
then `watch --once` so no frame is left), `latentforge.denoise_render` (the Render Result) and
`latentforge.denoise_sequence` (a folder or `name_####.exr` pattern)."""

import glob
import json
import os
import signal
import subprocess
import tempfile

import bpy
from bpy.app.handlers import persistent

from . import cli

#: The settings `prepare_scene` changes, kept so Restore brings them back.
_PREVIOUS = "latentforge_previous_settings"


class LatentforgeSceneSettings(bpy.types.PropertyGroup):
    denoise_while_rendering: bpy.props.BoolProperty(
        name="Denoise while rendering",
        description="Start `latentforge watch` on the output folder when a render starts; denoised "
        "frames go to <output folder>_dn",
    )
    temporal: bpy.props.BoolProperty(name="Temporal", description="Steady animations: each frame with the ones before it")
    window: bpy.props.IntProperty(name="Window", default=8, min=2, max=64, description="Frames each output depends on")


def settings(scene):
    return scene.latentforge


def _preset(s):
    return "blender-cycles-temporal" if s.temporal else "blender-cycles"


class LATENTFORGE_OT_prepare_scene(bpy.types.Operator):
    """Set the scene up for denoising: Denoising Data passes, the Vector pass for temporal mode,
    OpenEXR Multilayer output, Cycles' own denoiser off (Restore brings the previous settings back)"""

    bl_idname = "latentforge.prepare_scene"
    bl_label = "Prepare Scene"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        scene, layer = context.scene, context.view_layer
        image = scene.render.image_settings
        if _PREVIOUS not in scene:
            scene[_PREVIOUS] = json.dumps({
                "denoising_store_passes": layer.cycles.denoising_store_passes,
                "use_pass_vector": layer.use_pass_vector,
                "file_format": image.file_format,
                "color_depth": image.color_depth,
                "use_denoising": scene.cycles.use_denoising,
            })
        layer.cycles.denoising_store_passes = True
        if settings(scene).temporal:
            layer.use_pass_vector = True
        image.file_format = "OPEN_EXR_MULTILAYER"
        image.color_depth = "32"
        scene.cycles.use_denoising = False
        if scene.render.use_motion_blur:
            self.report({"WARNING"}, "Motion Blur is on: temporal denoising needs it off (the Vector pass is blurred)")
        if scene.use_nodes and scene.render.use_compositing:
            self.report({"WARNING"}, "The compositor is on: the files written are composited, passes may be missing")
        return {"FINISHED"}


class LATENTFORGE_OT_restore_scene(bpy.types.Operator):
    """Bring back the settings the scene had before Prepare Scene"""

    bl_idname = "latentforge.restore_scene"
    bl_label = "Restore"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _PREVIOUS in context.scene

    def execute(self, context):
        scene, layer = context.scene, context.view_layer
        previous = json.loads(scene[_PREVIOUS])
        layer.cycles.denoising_store_passes = previous["denoising_store_passes"]
        layer.use_pass_vector = previous["use_pass_vector"]
        scene.render.image_settings.file_format = previous["file_format"]
        scene.render.image_settings.color_depth = previous["color_depth"]
        scene.cycles.use_denoising = previous["use_denoising"]
        del scene[_PREVIOUS]
        return {"FINISHED"}


def output_folder(scene):
    """The folder the render's frames are written to."""
    return os.path.dirname(bpy.path.abspath(scene.render.frame_path(frame=scene.frame_start)))


def watch_command(scene, once):
    folder = output_folder(scene)
    s = settings(scene)
    argv = [cli.find_tool(), "watch", folder, "--out-dir", folder + "_dn", "--preset", _preset(s), "--json",
            *cli.run_args()]
    if s.temporal:
        argv += ["--window", str(s.window)]
    if once:
        argv.append("--once")
    return argv


_WATCH = {"process": None}


@persistent
def on_render_init(scene, *args):
    if not settings(scene).denoise_while_rendering or _WATCH["process"] is not None:
        return
    try:
        argv = watch_command(scene, once=False)
    except cli.ToolMissing as e:
        cli.report("ERROR", str(e))
        return
    os.makedirs(output_folder(scene), exist_ok=True)
    _WATCH["process"] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         stdin=subprocess.DEVNULL)
    _WATCH["scene"] = scene.name


@persistent
def on_render_end(scene, *args):
    process = _WATCH["process"]
    if process is None:
        return
    _WATCH["process"] = None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait()
    # Frames written after the service's last scan: one batch pass takes them.
    job = cli.Job("Denoise the last frames", [watch_command(scene, once=True)])
    cli.launch(job)


class LATENTFORGE_OT_denoise_render(bpy.types.Operator):
    """Denoise the Render Result (with its passes) and show it as '<name> (denoised)'"""

    bl_idname = "latentforge.denoise_render"
    bl_label = "Denoise Render Result"

    @classmethod
    def poll(cls, context):
        return bpy.data.images.get("Render Result") is not None

    def execute(self, context):
        scene = context.scene
        try:
            tool = cli.find_tool()
        except cli.ToolMissing as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        folder = tempfile.mkdtemp(prefix="latentforge-render-")
        source = os.path.join(folder, "render.exr")
        image = scene.render.image_settings
        previous = (image.file_format, image.color_depth)
        image.file_format, image.color_depth = "OPEN_EXR_MULTILAYER", "32"
        try:
            bpy.data.images["Render Result"].save_render(source, scene=scene)
        finally:
            image.file_format, image.color_depth = previous
        output = os.path.join(folder, "render_denoised.exr")
        name = f"{scene.name} (denoised)"
        job = cli.Job("Denoise render", [[tool, "denoise", source, "-o", output, "--json", *cli.run_args()]],
                      on_finish=lambda job: show_denoised(output, name))
        cli.launch(job)
        if bpy.app.background and job.outcome:
            self.report({job.outcome[0]}, job.outcome[1])
            return {"CANCELLED"} if job.outcome[0] == "ERROR" else {"FINISHED"}
        return {"FINISHED"}


def show_denoised(path, name):
    old = bpy.data.images.get(name)
    if old is not None:
        bpy.data.images.remove(old)
    image = bpy.data.images.load(path)
    image.name = name
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == "IMAGE_EDITOR":
                area.spaces.active.image = image
                break
    return ("INFO", f"Denoised: {name}")


class LATENTFORGE_OT_denoise_sequence(bpy.types.Operator):
    """Denoise a rendered sequence (a folder of EXRs or a name_####.exr pattern) into <folder>_dn
    and open the result as an image sequence"""

    bl_idname = "latentforge.denoise_sequence"
    bl_label = "Denoise Sequence"

    path: bpy.props.StringProperty(name="Frames", subtype="FILE_PATH", description="A folder or a name_####.exr pattern")
    temporal: bpy.props.BoolProperty(name="Temporal", default=True)
    window: bpy.props.IntProperty(name="Window", default=8, min=2, max=64)

    def execute(self, context):
        path = bpy.path.abspath(self.path)
        if os.path.isdir(path):
            inputs = sorted(glob.glob(os.path.join(glob.escape(path), "*.exr")))
            folder = path.rstrip(os.sep)
        else:
            inputs = [path] if "#" in os.path.basename(path) else sorted(glob.glob(path))
            folder = os.path.dirname(path)
        if not inputs:
            self.report({"ERROR"}, f"{path}: no EXR frames there")
            return {"CANCELLED"}
        try:
            argv = [cli.find_tool(), "denoise", *inputs, "--out-dir", folder + "_dn", "--json", *cli.run_args()]
        except cli.ToolMissing as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        if self.temporal:
            argv += ["--temporal", "--window", str(self.window)]
        job = cli.Job("Denoise sequence", [argv], on_finish=open_sequence)
        cli.launch(job)
        if bpy.app.background and job.outcome:
            self.report({job.outcome[0]}, job.outcome[1])
            return {"CANCELLED"} if job.outcome[0] == "ERROR" else {"FINISHED"}
        return {"FINISHED"}


def open_sequence(job):
    outputs = sorted(path for path, _, _ in job.files)
    if not outputs:
        return ("WARNING", "Denoise sequence: nothing was written")
    image = bpy.data.images.load(outputs[0])
    image.source = "SEQUENCE"
    return ("INFO", f"Denoise sequence: {len(outputs)} frames, opened as {image.name}")


_CLASSES = (
    LatentforgeSceneSettings,
    LATENTFORGE_OT_prepare_scene,
    LATENTFORGE_OT_restore_scene,
    LATENTFORGE_OT_denoise_render,
    LATENTFORGE_OT_denoise_sequence,
)
_HANDLERS = (
    (bpy.app.handlers.render_init, on_render_init),
    (bpy.app.handlers.render_complete, on_render_end),
    (bpy.app.handlers.render_cancel, on_render_end),
)


_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_CLASSES)


def register():
    _register_classes()
    bpy.types.Scene.latentforge = bpy.props.PointerProperty(type=LatentforgeSceneSettings)
    for handlers, fn in _HANDLERS:
        if fn not in handlers:
            handlers.append(fn)


def unregister():
    for handlers, fn in _HANDLERS:
        if fn in handlers:
            handlers.remove(fn)
    del bpy.types.Scene.latentforge
    _unregister_classes()
