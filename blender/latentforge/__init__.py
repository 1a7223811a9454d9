# SPDX-License-Identifier: GPL-3.0-or-later
"""Latentforge for Blender: vary a material, make maps for a colour texture, upscale a material's
textures and denoise renders, by running the `latentforge` command-line tool as a separate
process. Blender's window never waits on it: its output is read on a thread and applied on the
main thread by a timer (`cli.py`). Modules: `compat` (what changed between Blender 3.4 and 4.2),
`cli` (finding and running the tool), `graph` (which image feeds which socket), `ops_material`,
`ops_render` (operators), `prefs`, `ui` (panels, menus, the status-bar progress)."""

bl_info = {
    "name": "Latentforge",
    "author": "The Latentforge authors",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "Shader Editor > Sidebar > Latentforge; Render Properties; Image Editor > Image",
    "description": "Texture variations, material maps, upscaling and render denoising",
    "category": "Material",
}

from . import cli, ops_material, ops_render, prefs, ui  # noqa: E402

_MODULES = (prefs, cli, ops_material, ops_render, ui)


def register():
    for module in _MODULES:
        module.register()


def unregister():
    for module in reversed(_MODULES):
        module.unregister()
