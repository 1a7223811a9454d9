# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenes, materials and measurements for the add-on tests (`run.py`)."""

import os
import struct
from pathlib import Path

import bpy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "materials" / "stone_tiles"


def _plane(material):
    bpy.ops.mesh.primitive_plane_add(size=2)
    plane = bpy.context.object
    plane.data.materials.append(material)
    return plane


def _image(tree, name, location, data=False):
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.load(str(FIXTURES / f"stone_tiles_{name}.png"))
    node.name = name
    node.location = location
    if data:
        node.image.colorspace_settings.name = "Non-Color"
    return node


def stone_material_on_plane():
    """The stone_tiles set as Blender users wire it: colour into Base Color, the normal map through
    a node group holding the Normal Map node, the height image inside a group into a Bump node."""
    material = bpy.data.materials.new("Stone")
    material.use_nodes = True
    tree = material.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    colour = _image(tree, "Color", (-700, 300))
    tree.links.new(colour.outputs["Color"], bsdf.inputs["Base Color"])

    normal_group = bpy.data.node_groups.new("NormalFromMap", "ShaderNodeTree")
    _group_socket(normal_group, "Color", "INPUT", "NodeSocketColor")
    _group_socket(normal_group, "Normal", "OUTPUT", "NodeSocketVector")
    g_in, g_out = normal_group.nodes.new("NodeGroupInput"), normal_group.nodes.new("NodeGroupOutput")
    normal_map = normal_group.nodes.new("ShaderNodeNormalMap")
    normal_group.links.new(g_in.outputs[0], normal_map.inputs["Color"])
    normal_group.links.new(normal_map.outputs["Normal"], g_out.inputs[0])
    normal = _image(tree, "Normal", (-700, -100), data=True)
    group_node = tree.nodes.new("ShaderNodeGroup")
    group_node.node_tree, group_node.name = normal_group, "NormalGroup"
    tree.links.new(normal.outputs["Color"], group_node.inputs[0])

    height_group = bpy.data.node_groups.new("HeightSource", "ShaderNodeTree")
    _group_socket(height_group, "Height", "OUTPUT", "NodeSocketFloat")
    h_out = height_group.nodes.new("NodeGroupOutput")
    height = _image(height_group, "Height", (0, 0), data=True)
    height_group.links.new(height.outputs["Color"], h_out.inputs[0])
    height_node = tree.nodes.new("ShaderNodeGroup")
    height_node.node_tree, height_node.name = height_group, "HeightGroup"
    bump = tree.nodes.new("ShaderNodeBump")
    tree.links.new(height_node.outputs[0], bump.inputs["Height"])
    tree.links.new(group_node.outputs[0], bump.inputs["Normal"])
    tree.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    plane = _plane(material)
    return material, plane


def _group_socket(group, name, in_out, socket_type):
    if hasattr(group, "interface"):  # Blender 4.0+
        group.interface.new_socket(name, in_out=in_out, socket_type=socket_type)
    elif in_out == "INPUT":
        group.inputs.new(socket_type, name)
    else:
        group.outputs.new(socket_type, name)


def colour_only_material():
    """Colour into Base Color through a Mapping node, a Value node into Roughness."""
    material = bpy.data.materials.new("Painted")
    material.use_nodes = True
    tree = material.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    colour = _image(tree, "Color", (-700, 300))
    coords, mapping = tree.nodes.new("ShaderNodeTexCoord"), tree.nodes.new("ShaderNodeMapping")
    tree.links.new(coords.outputs["UV"], mapping.inputs["Vector"])
    tree.links.new(mapping.outputs["Vector"], colour.inputs["Vector"])
    tree.links.new(colour.outputs["Color"], bsdf.inputs["Base Color"])
    value = tree.nodes.new("ShaderNodeValue")
    value.outputs[0].default_value = 0.7
    tree.links.new(value.outputs[0], bsdf.inputs["Roughness"])
    return material, _plane(material)


def add_roughness(material, side):
    """A generated (unsaved) roughness image of `side` pixels into the material's Roughness."""
    tree = material.node_tree
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.new("rough", side, side)
    tree.links.new(node.outputs["Color"], tree.nodes["Principled BSDF"].inputs["Roughness"])


def udim_material():
    """A material whose colour is a UDIM (tiled) image, on a new plane."""
    material = bpy.data.materials.new("Tiled")
    material.use_nodes = True
    tree = material.node_tree
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.new("udim_Color", 32, 32, tiled=True)
    tree.links.new(node.outputs["Color"], tree.nodes["Principled BSDF"].inputs["Base Color"])
    return material, _plane(material)


def material_without_images():
    material = bpy.data.materials.new("Plain")
    material.use_nodes = True
    return material, _plane(material)


def tiny_image_material(folder):
    """A material whose one image (8x8) is too small for the tool to vary: the tool's error."""
    image = bpy.data.images.new("tiny_Color", 8, 8)
    path = str(Path(folder) / "tiny_Color.png")
    image.filepath_raw, image.file_format = path, "PNG"
    image.save()
    material = bpy.data.materials.new("Tiny")
    material.use_nodes = True
    tree = material.node_tree
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.load(path)
    tree.links.new(node.outputs["Color"], tree.nodes["Principled BSDF"].inputs["Base Color"])
    _plane(material)
    return material, path


def image_nodes(material):
    """Image nodes by their place (group node names, then the node's), groups included."""
    found = {}

    def walk(tree, prefix):
        for node in tree.nodes:
            if node.type == "TEX_IMAGE" and node.image:
                found["/".join(prefix + [node.name])] = node
            elif node.type == "GROUP" and node.node_tree:
                walk(node.node_tree, prefix + [node.name])

    walk(material.node_tree, [])
    return found


def link_table(material):
    """Every link of the material and its groups, by node names and socket identifiers."""
    rows = []

    def walk(tree, prefix):
        for link in tree.links:
            rows.append((prefix, link.from_node.name, link.from_socket.identifier, link.to_node.name,
                         link.to_socket.identifier))
        for node in tree.nodes:
            if node.type == "GROUP" and node.node_tree:
                walk(node.node_tree, prefix + "/" + node.name)

    walk(material.node_tree, "")
    return sorted(rows)


def setup_render(width, height, samples):
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = False  # Debian's Blender has no OIDN: we denoise, not Cycles
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    if scene.camera is None:
        bpy.ops.object.camera_add(location=(0, 0, 3))
        scene.camera = bpy.context.object
    if not any(o.type == "LIGHT" for o in scene.objects):
        bpy.ops.object.light_add(type="SUN", location=(1, 1, 4))
        bpy.context.object.data.energy = 3.0
    return scene


def render_plane(plane, material, path):
    """A 64x64, 4 spp Cycles render of the plane with `material`, as RGB floats."""
    plane.active_material = material
    scene = setup_render(64, 64, 4)
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    pixels = list(image.pixels)
    bpy.data.images.remove(image)
    return [v for i, v in enumerate(pixels) if i % 4 != 3]


def spread(values):
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


def mean_abs_diff(a, b):
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def small_animation(folder):
    """Three 32x32 frames at 2 spp of a moving cube over a plane, written to `folder`."""
    scene = setup_render(32, 32, 2)
    bpy.ops.mesh.primitive_plane_add(size=4)
    bpy.ops.mesh.primitive_cube_add(size=0.5, location=(0, 0, 0.3))
    cube = bpy.context.object
    for frame, x in ((1, -0.4), (3, 0.4)):
        cube.location.x = x
        cube.keyframe_insert("location", frame=frame)
    scene.frame_start, scene.frame_end = 1, 3
    os.makedirs(folder, exist_ok=True)
    scene.render.filepath = str(Path(folder) / "frame_")
    return scene


def error_of(call):
    """The message of the ERROR report `call` made (Blender raises it as a RuntimeError)."""
    try:
        call()
    except RuntimeError as e:
        return str(e)
    raise AssertionError("the operator reported no error")


def exr_channels(path):
    """The channel names of a (single-part) EXR's header."""
    data = Path(path).read_bytes()
    assert data[:4] == b"\x76\x2f\x31\x01", f"{path}: not an EXR"
    pos = 8
    while data[pos] != 0:
        name_end = data.index(b"\0", pos)
        name = data[pos:name_end].decode()
        type_end = data.index(b"\0", name_end + 1)
        size = struct.unpack_from("<i", data, type_end + 1)[0]
        value = data[type_end + 5:type_end + 5 + size]
        if name == "channels":
            names, i = [], 0
            while value[i] != 0:
                end = value.index(b"\0", i)
                names.append(value[i:end].decode())
                i = end + 1 + 16
            return sorted(names)
        pos = type_end + 5 + size
    raise AssertionError(f"{path}: no channels attribute")
