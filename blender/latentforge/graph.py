# SPDX-License-Identifier: GPL-3.0-or-later
"""Which image feeds which socket of a material, and swapping images in a copy of it.

An image node's map kind is read from where its output goes, not from its name: Base Color is
colour (ambient occlusion when the image is named so), Roughness, Metallic and Alpha are what they
say, a Normal Map node means a normal map (OpenGL, Blender's convention), a Bump or Displacement
node or the output's Displacement means height. Reroutes, mix and math nodes are passed through,
node groups entered and left, at any depth.
"""

import re

import bpy

from . import compat

#: Principled BSDF inputs (3.x names) and the map kind an image feeding them holds.
BSDF_KINDS = {
    "Base Color": "color",
    "Roughness": "roughness",
    "Metallic": "metalness",
    "Alpha": "opacity",
}
#: The kind as `--map KIND=FILE` spells it, and as the tool's events spell it.
FLAG = {"color": "color", "normal": "normal-gl", "roughness": "roughness", "height": "height",
        "metalness": "metalness", "opacity": "opacity", "ao": "ao"}
EVENT_KIND = {"normal": "normal_gl"}
_AO_NAME = re.compile(r"(^|[^a-z])(ao|ambient[ _-]?occlusion|occlusion)([^a-z]|$)", re.IGNORECASE)
_MAX_DEPTH = 64


class Slot:
    """One image node of a material: where it is (the group nodes above it), and its kind."""

    def __init__(self, path, node, kind):
        self.path = path
        self.node = node
        self.kind = kind

    @property
    def key(self):
        return tuple(n.name for n in self.path) + (self.node.name,)


def image_slots(material):
    """Every image node of `material` with a kind, inside node groups too."""
    if not material or not material.use_nodes or not material.node_tree:
        return []
    slots = []
    _collect(material.node_tree, [], slots)
    return slots


def _collect(tree, path, slots):
    for node in tree.nodes:
        if node.type == "GROUP" and node.node_tree and len(path) < _MAX_DEPTH:
            _collect(node.node_tree, path + [node], slots)
        elif node.type == "TEX_IMAGE" and node.image:
            kind = _kind_fed(tree, path, node)
            if kind:
                slots.append(Slot(path, node, kind))


def _kind_fed(tree, path, node):
    for output in node.outputs:
        kind = _follow(tree, path, output, via=None, depth=0)
        if kind:
            if kind == "color" and _AO_NAME.search(node.image.name or ""):
                return "ao"
            return kind
    return None


def _follow(tree, path, socket, via, depth):
    """The kind the first terminal downstream of `socket` says, or None."""
    if depth > _MAX_DEPTH:
        return None
    for link in tree.links:
        if link.from_socket != socket or not link.is_valid:
            continue
        kind = _arrive(tree, path, link.to_node, link.to_socket, via, depth)
        if kind:
            return kind
    return None


def _arrive(tree, path, node, socket, via, depth):
    t = node.type
    if t == "BSDF_PRINCIPLED":
        name = compat.bsdf_socket_name(socket)
        if name == "Normal":
            return via
        return BSDF_KINDS.get(name)
    if t == "NORMAL_MAP" and socket.name == "Color":
        return _follow(tree, path, node.outputs["Normal"], "normal", depth + 1)
    if t in ("BUMP", "DISPLACEMENT") and socket.name == "Height":
        return "height"
    if t == "OUTPUT_MATERIAL":
        return "height" if socket.name == "Displacement" else None
    if t == "GROUP" and node.node_tree:
        inner = node.node_tree
        for n in inner.nodes:
            if n.type == "GROUP_INPUT":
                out = next((o for o in n.outputs if o.identifier == socket.identifier), None)
                kind = out and _follow(inner, path + [node], out, via, depth + 1)
                if kind:
                    return kind
        return None
    if t == "GROUP_OUTPUT" and path:
        group = path[-1]
        parent = group.id_data
        out = next((o for o in group.outputs if o.identifier == socket.identifier), None)
        return out and _follow(parent, path[:-1], out, via, depth + 1)
    # Reroutes, mixes, maths, colour ramps: what comes out is still this map.
    for out in node.outputs:
        kind = _follow(tree, path, out, via, depth + 1)
        if kind:
            return kind
    return None


def find_slot(material, key):
    """The slot of `material` at `key` (group node names, then the image node's name)."""
    return next((s for s in image_slots(material) if s.key == key), None)


def copy_material(material, name):
    """A copy of `material` named `name` whose node groups are copies too, so swapping an image
    inside a group of the copy leaves the original untouched."""
    copy = material.copy()
    copy.name = name
    _copy_groups(copy.node_tree, 0)
    return copy


def _copy_groups(tree, depth):
    for node in tree.nodes:
        if node.type == "GROUP" and node.node_tree and depth < _MAX_DEPTH:
            node.node_tree = node.node_tree.copy()
            _copy_groups(node.node_tree, depth + 1)


def load_image(path, kind):
    """`path` as an image datablock, data maps marked Non-Color."""
    image = bpy.data.images.load(path, check_existing=True)
    if kind not in ("color", None):
        compat.mark_data(image)
    return image


def principled(material):
    """The Principled BSDF the material output shows, else the first one."""
    tree = material.node_tree
    for node in tree.nodes:
        if node.type == "OUTPUT_MATERIAL" and node.is_active_output:
            surface = node.inputs["Surface"]
            if surface.is_linked and surface.links[0].from_node.type == "BSDF_PRINCIPLED":
                return surface.links[0].from_node
    return next((n for n in tree.nodes if n.type == "BSDF_PRINCIPLED"), None)


def material_output(material):
    nodes = material.node_tree.nodes
    return next((n for n in nodes if n.type == "OUTPUT_MATERIAL" and n.is_active_output), None) or next(
        (n for n in nodes if n.type == "OUTPUT_MATERIAL"), None
    )
