# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-on's preferences: where `latentforge` is, CPU or CUDA, and a Check button that runs
`latentforge --version` and `latentforge models` and says what is missing."""

import subprocess

import bpy

from . import cli


class LatentforgePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    executable: bpy.props.StringProperty(
        name="latentforge",
        subtype="FILE_PATH",
        description="The latentforge program (default: the release's bin/latentforge beside the add-on, else PATH)",
    )
    device: bpy.props.EnumProperty(
        name="Device",
        default="CPU",
        items=[("CPU", "CPU", "Run on the processor"),
               ("CUDA", "CUDA", "Run on an NVIDIA GPU (falls back to the CPU, saying why)")],
    )
    last_check: bpy.props.StringProperty(name="Last check", default="")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "executable")
        layout.prop(self, "device", expand=True)
        layout.operator(LATENTFORGE_OT_check.bl_idname, icon="CHECKMARK")
        for line in self.last_check.splitlines():
            layout.label(text=line)


def check():
    """(ok, lines): what `--version` and `models` say, or what is missing and how to fix it."""
    try:
        tool = cli.find_tool()
    except cli.ToolMissing as e:
        return False, [str(e)]
    lines, ok = [], True
    for args in (["--version"], ["models"]):
        try:
            done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, [f"{tool}: cannot run it: {e}"]
        lines += [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        ok = ok and done.returncode == 0
    if not ok:
        lines.append("Something is missing: see the lines above (ONNX Runtime, a model)")
    return ok, lines


class LATENTFORGE_OT_check(bpy.types.Operator):
    """Run `latentforge --version` and `latentforge models` and show what they say"""

    bl_idname = "latentforge.check"
    bl_label = "Check"

    def execute(self, context):
        ok, lines = check()
        prefs = cli.addon_preferences()
        if prefs:
            prefs.last_check = "\n".join(lines[:12])
        self.report({"INFO" if ok else "ERROR"}, lines[0] if ok else lines[-1])
        return {"FINISHED"} if ok else {"CANCELLED"}


_CLASSES = (LatentforgePreferences, LATENTFORGE_OT_check)

register, unregister = bpy.utils.register_classes_factory(_CLASSES)
