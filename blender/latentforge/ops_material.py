# SPDX-License-Identifier: GPL-3.0-or-later
"""The material operators: `latentforge.vary_material`, `latentforge.maps_from_color` and
`latentforge.upscale_material`. Each reads the active material's images by the socket they feed
(`graph`), runs the tool as a `cli.Job`, and changes the material only when the job has finished,
on the main thread: a failed or cancelled job leaves the material as it was."""

import os
import random
import re
import tempfile

import bpy

from . import cli, compat, graph


class Refusal(Exception):
    """A material the operator cannot work on; the message says why and what to do."""


def work_dir(material, what):
    """Where outputs go: `//latentforge/<material>/<what>` beside a saved blend file, else a new
    temporary folder (never the blend's own folder, never an input's)."""
    if bpy.data.filepath:
        base = bpy.path.abspath(f"//latentforge/{bpy.path.clean_name(material.name)}/{what}")
        os.makedirs(base, exist_ok=True)
        return base
    return tempfile.mkdtemp(prefix=f"latentforge-{what}-")


def image_file(image, kind, folder):
    """A file holding `image`: its own file when it has one on disk and unchanged, else (packed,
    generated or edited) a copy saved into `folder`. UDIM tiles are refused."""
    if image.source == "TILED":
        raise Refusal(f"{image.name}: UDIM tiles are not supported; bake them to one image first")
    path = bpy.path.abspath(image.filepath, library=image.library) if image.filepath else ""
    if path and os.path.isfile(path) and not image.packed_file and not image.is_dirty and image.source == "FILE":
        return path
    width, height = image.size
    if width == 0 or height == 0:
        raise Refusal(f"{image.name}: the image has no pixels (is its file missing?)")
    ext = "exr" if image.is_float else "png"
    out = os.path.join(folder, f"{bpy.path.clean_name(image.name)}_{kind}.{ext}")
    copy = bpy.data.images.new(f"{image.name} (export)", width, height, alpha=True, float_buffer=image.is_float)
    try:
        copy.colorspace_settings.name = image.colorspace_settings.name
        pixels = [0.0] * (width * height * 4)
        image.pixels.foreach_get(pixels)
        copy.pixels.foreach_set(pixels)
        copy.filepath_raw = out
        copy.file_format = "OPEN_EXR" if image.is_float else "PNG"
        copy.save()
    finally:
        bpy.data.images.remove(copy)
    return out


def material_maps(material, folder):
    """The material's maps as (kind, file, slots of that kind), one file per kind, all one size."""
    slots = graph.image_slots(material)
    if not slots:
        raise Refusal(f"{material.name}: no image texture feeds the material's surface; add one first")
    by_kind = {}
    for slot in slots:
        by_kind.setdefault(slot.kind, []).append(slot)
    sizes = {}
    for kind, group in by_kind.items():
        images = {s.node.image.name: s.node.image for s in group}
        if len(images) > 1:
            raise Refusal(f"{material.name}: two {kind} maps ({', '.join(images)}); keep one per kind")
        sizes[group[0].node.image.name] = tuple(group[0].node.image.size)
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{n} {w}x{h}" for n, (w, h) in sizes.items())
        raise Refusal(f"{material.name}: the maps differ in size ({listed}); resize them to one size first")
    return [(kind, image_file(group[0].node.image, kind, folder), group) for kind, group in by_kind.items()]


def run_operator(op, context, build):
    """Builds the job with `build(context)`, launches it, and reports what can be said now."""
    try:
        job = build(context)
    except (Refusal, cli.ToolMissing) as e:
        op.report({"ERROR"}, str(e))
        return {"CANCELLED"}
    cli.launch(job)
    if not bpy.app.background:
        op.report({"INFO"}, f"{job.title}: started (Cancel in the status bar)")
        return {"FINISHED"}
    if job.outcome:
        op.report({job.outcome[0]}, job.outcome[1])
    return {"CANCELLED"} if job.outcome and job.outcome[0] == "ERROR" else {"FINISHED"}


class MaterialOperator:
    """What the material operators share: they need an active material, and `execute` runs the
    job their `build(context)` makes."""

    @classmethod
    def poll(cls, context):
        return context.object is not None and context.object.active_material is not None

    def execute(self, context):
        return run_operator(self, context, self.build)


class LATENTFORGE_OT_vary_material(MaterialOperator, bpy.types.Operator):
    """Make seamless variations of the active material: every map varied in step, each variation a
    copy of the material with its images swapped (the node graph is kept)"""

    bl_idname = "latentforge.vary_material"
    bl_label = "Vary Material"
    bl_options = {"REGISTER", "UNDO"}

    count: bpy.props.IntProperty(name="Count", default=3, min=1, max=32)
    seed: bpy.props.IntProperty(name="Seed", default=1, min=0)
    size: bpy.props.IntProperty(name="Size", description="Pixels per side (0: the maps' own size)", default=0, min=0, max=8192)
    variation: bpy.props.FloatProperty(name="Variation", default=0.5, min=0.0, max=1.0,
                                       description="0: the set's own layout, reshuffled locally; 1: freely reassembled")
    assign_random: bpy.props.BoolProperty(name="Assign at random to selected objects", default=False)

    def build(self, context):
        material = context.object.active_material
        tool = cli.find_tool()
        maps = material_maps(material, work_dir(material, "sources"))
        out = work_dir(material, "variations")
        argv = [tool, "texture", "vary", "--count", str(self.count), "--seed", str(self.seed),
                "--variation", str(self.variation), "--out-dir", out, "--force", "--json", *cli.run_args()]
        if self.size:
            argv += ["--size", str(self.size)]
        for kind, path, _ in maps:
            argv += ["--map", f"{graph.FLAG[kind]}={path}"]
        name, objects = material.name, [o for o in context.selected_objects if o.type == "MESH"]
        seed, assign = self.seed, self.assign_random
        return cli.Job(f"Vary {name}", [argv], on_finish=lambda job: make_variations(job, name, maps, objects, seed, assign))


def make_variations(job, name, maps, objects, seed, assign):
    material = bpy.data.materials.get(name)
    if material is None:
        return ("ERROR", f"{name}: the material was removed while its variations were made")
    made = []
    files_by_item = {}
    for path, kind, item in job.files:
        files_by_item.setdefault(item, []).append((path, kind))
    for item, files in files_by_item.items():
        number = re.search(r"_s(\d+)$", item or "")
        copy = graph.copy_material(material, f"{name}_v{number.group(1) if number else len(made)}")
        for path, event_kind in files:
            for kind, _, slots in maps:
                if graph.EVENT_KIND.get(kind, kind) != event_kind:
                    continue
                image = graph.load_image(os.path.abspath(path), kind)
                for slot in slots:
                    found = graph.find_slot(copy, slot.key)
                    if found:
                        found.node.image = image
        made.append(copy)
    if assign and made:
        rng = random.Random(seed)
        for obj in objects:
            if obj.name in bpy.data.objects and obj.material_slots:
                obj.active_material = rng.choice(made)
    cli.push_undo(f"Latentforge: vary {name}")
    return ("INFO", f"Vary {name}: made {', '.join(m.name for m in made)}")


class LATENTFORGE_OT_maps_from_color(MaterialOperator, bpy.types.Operator):
    """Make height, normal and roughness maps from a colour texture and wire them into the sockets
    that are not linked yet (as Node Wrangler's Principled Setup wires them)"""

    bl_idname = "latentforge.maps_from_color"
    bl_label = "Maps from Colour"
    bl_options = {"REGISTER", "UNDO"}

    height_as: bpy.props.EnumProperty(name="Height", default="BUMP", items=[
        ("BUMP", "Bump", "Height through a Bump node into the shader's Normal"),
        ("DISPLACEMENT", "Displacement", "Height through a Displacement node into the output's Displacement"),
    ])
    method: bpy.props.EnumProperty(name="Method", default="network", items=[
        ("network", "Network", "The trained material network"),
        ("heuristic", "Heuristic", "From brightness, no model"),
    ])

    def build(self, context):
        material = context.object.active_material
        source = colour_node(material)
        tool = cli.find_tool()
        path = image_file(source.image, "color", work_dir(material, "sources"))
        argv = [tool, "texture", "maps", path, "--method", self.method, "--out-dir", work_dir(material, "maps"),
                "--force", "--json", *cli.run_args()]
        name, node_name, height_as = material.name, source.name, self.height_as
        return cli.Job(f"Maps for {material.name}", [argv],
                       on_finish=lambda job: wire_maps(job, name, node_name, height_as))


def colour_node(material):
    """The selected image node of the material, else the image feeding Base Color."""
    tree = material.node_tree
    active = tree.nodes.active if tree else None
    if active is not None and active.type == "TEX_IMAGE" and active.image:
        return active
    for slot in graph.image_slots(material):
        if slot.kind == "color" and not slot.path:
            return slot.node
    raise Refusal(f"{material.name}: select an image node, or connect a colour image to Base Color")


def wire_maps(job, name, node_name, height_as):
    material = bpy.data.materials.get(name)
    if material is None:
        return ("ERROR", f"{name}: the material was removed while its maps were made")
    tree = material.node_tree
    bsdf, source = graph.principled(material), tree.nodes.get(node_name)
    if bsdf is None:
        return ("ERROR", f"{name}: no Principled BSDF to wire the maps into")
    made = {kind: graph.load_image(os.path.abspath(path), kind) for path, kind, _ in job.files}
    x, y = (source.location.x, source.location.y) if source else (bsdf.location.x - 600, bsdf.location.y)
    vector = source.inputs["Vector"].links[0].from_socket if source and source.inputs["Vector"].is_linked else None
    wired = []

    def image_node(kind, row):
        node = tree.nodes.new("ShaderNodeTexImage")
        node.image, node.label, node.location = made[kind], kind.replace("_", " ").title(), (x, y - 300 * row)
        if vector is not None:
            tree.links.new(vector, node.inputs["Vector"])
        return node

    roughness = compat.bsdf_input(bsdf, "Roughness")
    if "roughness" in made and not roughness.is_linked:
        tree.links.new(image_node("roughness", 1).outputs["Color"], roughness)
        wired.append("roughness")
    normal_in = compat.bsdf_input(bsdf, "Normal")
    normal_out = None
    if "normal_gl" in made and not normal_in.is_linked:
        normal_map = tree.nodes.new("ShaderNodeNormalMap")
        normal_map.location = (x + 300, y - 600)
        tree.links.new(image_node("normal_gl", 2).outputs["Color"], normal_map.inputs["Color"])
        normal_out = normal_map.outputs["Normal"]
        wired.append("normal")
    if "height" in made:
        wired += wire_height(material, image_node("height", 3), height_as, normal_in, normal_out)
    elif normal_out is not None:
        tree.links.new(normal_out, normal_in)
    cli.push_undo(f"Latentforge: maps for {name}")
    return ("INFO", f"Maps for {name}: wired {', '.join(wired) or 'nothing (every socket was linked)'}")


def wire_height(material, height, height_as, normal_in, normal_out):
    """Height through Bump (chained after the normal map) or Displacement, into free sockets."""
    tree = material.node_tree
    if height_as == "DISPLACEMENT":
        output = graph.material_output(material)
        if output is None or output.inputs["Displacement"].is_linked:
            return []
        displacement = tree.nodes.new("ShaderNodeDisplacement")
        displacement.location = (height.location.x + 300, height.location.y)
        tree.links.new(height.outputs["Color"], displacement.inputs["Height"])
        tree.links.new(displacement.outputs["Displacement"], output.inputs["Displacement"])
        if normal_out is not None:
            tree.links.new(normal_out, normal_in)
        return ["height (displacement)"]
    if normal_in.is_linked:
        return []
    bump = tree.nodes.new("ShaderNodeBump")
    bump.location = (height.location.x + 300, height.location.y)
    tree.links.new(height.outputs["Color"], bump.inputs["Height"])
    if normal_out is not None:
        tree.links.new(normal_out, bump.inputs["Normal"])
    tree.links.new(bump.outputs["Normal"], normal_in)
    return ["height (bump)"]


class LATENTFORGE_OT_upscale_material(MaterialOperator, bpy.types.Operator):
    """Upscale every image of the active material 2x or 4x, tile-safe, each as the map kind its
    socket says; relinked in place (one undo step) or into a copy of the material"""

    bl_idname = "latentforge.upscale_material"
    bl_label = "Upscale Material"
    bl_options = {"REGISTER", "UNDO"}

    scale: bpy.props.EnumProperty(name="Scale", default="2", items=[("2", "2x", ""), ("4", "4x", "")])
    into_copy: bpy.props.BoolProperty(name="Into a copy", default=False)

    def build(self, context):
        material = context.object.active_material
        tool = cli.find_tool()
        maps = material_maps(material, work_dir(material, "sources"))
        out = work_dir(material, f"x{self.scale}")
        commands = []
        for kind, path, _ in maps:
            stem = os.path.splitext(os.path.basename(path))[0]
            target = os.path.join(out, f"{stem}_x{self.scale}.{'exr' if path.endswith('.exr') else 'png'}")
            commands.append([tool, "upscale", path, "--scale", self.scale, "--kind", graph.FLAG[kind], "-o", target,
                             "--force", "--json", *cli.run_args()])
        name, into_copy, scale = material.name, self.into_copy, self.scale
        return cli.Job(f"Upscale {name}", commands, on_finish=lambda job: relink_upscaled(job, name, maps, into_copy, scale))


def relink_upscaled(job, name, maps, into_copy, scale):
    material = bpy.data.materials.get(name)
    if material is None:
        return ("ERROR", f"{name}: the material was removed while it was upscaled")
    target = graph.copy_material(material, f"{name}_x{scale}") if into_copy else material
    sources = {os.path.abspath(path): (kind, slots) for kind, path, slots in maps}
    for path, _, source in job.files:
        kind, slots = sources[os.path.abspath(source)]
        image = graph.load_image(os.path.abspath(path), kind)
        for slot in slots:
            found = graph.find_slot(target, slot.key)
            if found:
                found.node.image = image
    cli.push_undo(f"Latentforge: upscale {name}")
    return ("INFO", f"Upscale {name}: {len(job.files)} images {scale}x into {target.name}")


_CLASSES = (LATENTFORGE_OT_vary_material, LATENTFORGE_OT_maps_from_color, LATENTFORGE_OT_upscale_material)

register, unregister = bpy.utils.register_classes_factory(_CLASSES)
