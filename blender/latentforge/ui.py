# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the operators are: the Shader Editor's sidebar tab and the material context menu, the
Render Properties panel, the Image Editor's Image menu, and the running jobs' progress with a
Cancel button in the status bar."""

import bpy

from . import cli, compat


class LATENTFORGE_PT_material(bpy.types.Panel):
    bl_label = "Latentforge"
    bl_space_type = "NODE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Latentforge"

    @classmethod
    def poll(cls, context):
        return context.space_data.tree_type == "ShaderNodeTree"

    def draw(self, context):
        col = self.layout.column(align=True)
        col.operator("latentforge.vary_material", icon="MATERIAL")
        col.operator("latentforge.maps_from_color", icon="IMAGE_RGB")
        row = col.row(align=True)
        row.operator("latentforge.upscale_material", text="Upscale 2x").scale = "2"
        row.operator("latentforge.upscale_material", text="Upscale 4x").scale = "4"


class LATENTFORGE_PT_render(bpy.types.Panel):
    bl_label = "Latentforge Denoising"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "render"

    def draw(self, context):
        s = context.scene.latentforge
        layout = self.layout
        row = layout.row(align=True)
        row.operator("latentforge.prepare_scene")
        row.operator("latentforge.restore_scene")
        layout.prop(s, "denoise_while_rendering")
        row = layout.row(align=True)
        row.prop(s, "temporal")
        sub = row.row()
        sub.enabled = s.temporal
        sub.prop(s, "window")
        layout.operator("latentforge.denoise_sequence")


def draw_material_menu(self, context):
    self.layout.separator()
    self.layout.operator("latentforge.vary_material")


def draw_image_menu(self, context):
    self.layout.separator()
    self.layout.operator("latentforge.denoise_render")


def draw_status(self, context):
    """The running jobs: a bar each (a percentage before Blender 4.0) and one Cancel."""
    jobs = cli.running()
    if not jobs:
        return
    row = self.layout.row(align=True)
    for job in jobs:
        compat.draw_progress(row, job.fraction, job.title)
    row.operator("latentforge.cancel", text="", icon="CANCEL")


_CLASSES = (LATENTFORGE_PT_material, LATENTFORGE_PT_render)
_MENUS = (
    (bpy.types.NODE_MT_context_menu, draw_material_menu),
    (bpy.types.IMAGE_MT_image, draw_image_menu),
    (bpy.types.STATUSBAR_HT_header, draw_status),
)


_register_classes, _unregister_classes = bpy.utils.register_classes_factory(_CLASSES)


def register():
    _register_classes()
    for menu, fn in _MENUS:
        menu.append(fn)


def unregister():
    for menu, fn in _MENUS:
        menu.remove(fn)
    _unregister_classes()
