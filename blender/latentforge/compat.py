# SPDX-License-Identifier: GPL-3.0-or-later
"""What changed between Blender 3.4 and 4.2 that the add-on touches, in one place: Principled BSDF
socket names (renamed in 4.0), the colour space of data maps, and drawing a progress bar (4.0+)."""

import bpy

#: Principled BSDF inputs by the names 3.x used, with the names 4.0 gave them.
_BSDF_RENAMED = {
    "Subsurface": "Subsurface Weight",
    "Specular": "Specular IOR Level",
    "Transmission": "Transmission Weight",
    "Clearcoat": "Coat Weight",
    "Clearcoat Normal": "Coat Normal",
    "Sheen": "Sheen Weight",
    "Emission": "Emission Color",
}
_BSDF_OLD_NAME = {new: old for old, new in _BSDF_RENAMED.items()}

#: The colour space Blender calls data (normal, roughness, height maps) in 3.4 to 4.2.
NON_COLOR = "Non-Color"


def bsdf_input(node, name):
    """The Principled BSDF input `name` (either version's name), or None."""
    for candidate in (name, _BSDF_RENAMED.get(name), _BSDF_OLD_NAME.get(name)):
        if candidate and candidate in node.inputs:
            return node.inputs[candidate]
    return None


def bsdf_socket_name(socket):
    """A BSDF input's name as 3.x spelt it, so one table of kinds serves every version."""
    return _BSDF_OLD_NAME.get(socket.name, socket.name)


def mark_data(image):
    """Data maps are read as they are, never colour-managed."""
    image.colorspace_settings.name = NON_COLOR


def draw_progress(layout, factor, text):
    """A progress bar where Blender has one (4.0+), else the text with a percentage."""
    if hasattr(layout, "progress"):
        layout.progress(factor=factor, type="BAR", text=text)
    else:
        layout.label(text=f"{text} {factor * 100:.0f}%")


def is_background():
    """True under `blender -b`: operators then run their job to the end before returning."""
    return bpy.app.background
