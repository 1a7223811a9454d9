"""Builds one random Cycles scene and renders it the way artists' frames arrive (runs inside Blender).

    blender -b --factory-startup --python cycles_scene.py -- SEED OUT_DIR SIZE SPP[,SPP...] REF_SPP
SIZE is N (square) or WxH.

Writes OUT_DIR/noisy_{spp}.exr (one per SPP, each with its own sampling seed) and OUT_DIR/ref.exr:
one-part multilayer EXRs with `ViewLayer.Combined` and Cycles' "Denoising Data" passes (albedo,
normal), Blackman-Harris pixel filter as Cycles ships, no adaptive sampling, no denoiser.

Scenes vary: primitives and a Suzanne on a ground plane, diffuse / glossy / metal / glass /
textured materials, a volume box, a hair ball, a sky or a dark world with small bright lights,
depth of field and motion blur on some frames. Everything follows from SEED.
"""
import math
import random
import sys
from pathlib import Path

import bpy


def args():
    argv = sys.argv[sys.argv.index("--") + 1:]
    seed, out, size, spps, ref = int(argv[0]), Path(argv[1]), argv[2], argv[3], int(argv[4])
    width, _, height = size.partition("x")
    return seed, out, (int(width), int(height or width)), [int(s) for s in spps.split(",")], ref


def clear():
    bpy.ops.object.select_all(action="SELECT")
    bpy.ops.object.delete()
    for block in (bpy.data.meshes, bpy.data.materials, bpy.data.lights, bpy.data.cameras):
        for item in list(block):
            block.remove(item)


def principled(rng, name):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    kind = rng.choice(["diffuse", "diffuse", "glossy", "metal", "glass", "textured", "textured"])
    color = [rng.uniform(0.05, 0.9) for _ in range(3)] + [1.0]
    bsdf.inputs["Base Color"].default_value = color
    bsdf.inputs["Roughness"].default_value = rng.uniform(0.3, 0.9)
    if kind == "glossy":
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.02, 0.3)
        bsdf.inputs["Specular"].default_value = rng.uniform(0.5, 1.0)
    elif kind == "metal":
        bsdf.inputs["Metallic"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = rng.uniform(0.0, 0.4)
    elif kind == "glass":
        bsdf.inputs["Transmission"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = rng.choice([0.0, 0.0, rng.uniform(0.05, 0.3)])
        bsdf.inputs["IOR"].default_value = rng.uniform(1.3, 1.6)
        bsdf.inputs["Base Color"].default_value = [rng.uniform(0.7, 1.0) for _ in range(3)] + [1.0]
    elif kind == "textured":
        tex_kind = rng.choice(["ShaderNodeTexChecker", "ShaderNodeTexVoronoi", "ShaderNodeTexNoise",
                               "ShaderNodeTexBrick"])
        tex = nodes.new(tex_kind)
        tex.inputs["Scale"].default_value = rng.uniform(2, 25)
        ramp = nodes.new("ShaderNodeValToRGB")
        ramp.color_ramp.elements[0].color = [rng.uniform(0, 0.4) for _ in range(3)] + [1.0]
        ramp.color_ramp.elements[1].color = [rng.uniform(0.4, 0.95) for _ in range(3)] + [1.0]
        links.new(tex.outputs[1 if tex_kind == "ShaderNodeTexChecker" else 0], ramp.inputs["Fac"])
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def add_objects(rng):
    ops = [bpy.ops.mesh.primitive_uv_sphere_add, bpy.ops.mesh.primitive_cube_add,
           bpy.ops.mesh.primitive_torus_add, bpy.ops.mesh.primitive_cylinder_add,
           bpy.ops.mesh.primitive_monkey_add, bpy.ops.mesh.primitive_cone_add,
           bpy.ops.mesh.primitive_ico_sphere_add]
    moving = None
    for i in range(rng.randint(3, 8)):
        rng.choice(ops)(location=(rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0.4, 1.6)))
        obj = bpy.context.object
        obj.scale = [rng.uniform(0.4, 1.1)] * 3
        obj.rotation_euler = [rng.uniform(0, math.pi) for _ in range(3)]
        if obj.type == "MESH" and len(obj.data.polygons) > 6:
            bpy.ops.object.shade_smooth()
        obj.data.materials.append(principled(rng, f"m{i}"))
        if moving is None and rng.random() < 0.35:
            moving = obj
    bpy.ops.mesh.primitive_plane_add(size=40)
    bpy.context.object.data.materials.append(principled(rng, "ground"))
    if rng.random() < 0.35:
        add_volume(rng)
    if rng.random() < 0.3:
        add_hair(rng)
    return moving


def add_volume(rng):
    bpy.ops.mesh.primitive_cube_add(location=(rng.uniform(-2, 2), rng.uniform(-2, 2), 1.0))
    obj = bpy.context.object
    obj.scale = [rng.uniform(0.6, 1.4)] * 3
    mat = bpy.data.materials.new("volume")
    mat.use_nodes = True
    nodes = mat.node_tree.nodes
    nodes.remove(nodes["Principled BSDF"])
    vol = nodes.new("ShaderNodeVolumePrincipled")
    vol.inputs["Density"].default_value = rng.uniform(0.2, 2.0)
    vol.inputs["Color"].default_value = [rng.uniform(0.5, 1.0) for _ in range(3)] + [1.0]
    mat.node_tree.links.new(vol.outputs[0], nodes["Material Output"].inputs["Volume"])
    obj.data.materials.append(mat)


def add_hair(rng):
    bpy.ops.mesh.primitive_uv_sphere_add(location=(rng.uniform(-2, 2), rng.uniform(-2, 2), 0.8), radius=0.6)
    obj = bpy.context.object
    obj.data.materials.append(principled(rng, "hair"))
    mod = obj.modifiers.new("hair", "PARTICLE_SYSTEM")
    settings = mod.particle_system.settings
    settings.type = "HAIR"
    settings.count = 3000
    settings.hair_length = rng.uniform(0.2, 0.6)
    settings.use_advanced_hair = False


def add_lights(rng):
    world = bpy.context.scene.world
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    if rng.random() < 0.6:
        sky = world.node_tree.nodes.new("ShaderNodeTexSky")
        sky.sky_type = "NISHITA"
        sky.sun_elevation = rng.uniform(0.05, 1.2)
        sky.sun_rotation = rng.uniform(0, 2 * math.pi)
        world.node_tree.links.new(sky.outputs[0], bg.inputs["Color"])
        bg.inputs["Strength"].default_value = rng.uniform(0.05, 0.4)
    else:
        bg.inputs["Color"].default_value = [rng.uniform(0, 0.05) for _ in range(3)] + [1.0]
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["POINT", "POINT", "AREA", "SPOT"])
        light = bpy.data.lights.new("light", kind)
        light.energy = rng.uniform(200, 3000)
        light.color = [rng.uniform(0.6, 1.0) for _ in range(3)]
        if kind == "POINT":
            light.shadow_soft_size = rng.choice([0.02, 0.05, rng.uniform(0.1, 0.6)])
        elif kind == "AREA":
            light.size = rng.uniform(0.2, 2.0)
        obj = bpy.data.objects.new("light", light)
        obj.location = (rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(1.5, 6))
        obj.rotation_euler = (rng.uniform(0, 0.8), rng.uniform(-0.8, 0.8), rng.uniform(0, 2 * math.pi))
        bpy.context.collection.objects.link(obj)


def add_camera(rng, moving):
    cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    bpy.context.collection.objects.link(cam)
    angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(6, 10)
    cam.location = (dist * math.cos(angle), dist * math.sin(angle), rng.uniform(1.5, 5))
    target = bpy.data.objects.new("target", None)
    target.location = (rng.uniform(-1, 1), rng.uniform(-1, 1), 0.6)
    bpy.context.collection.objects.link(target)
    track = cam.constraints.new("TRACK_TO")
    track.target = target
    cam.data.lens = rng.uniform(28, 60)
    if rng.random() < 0.4:
        cam.data.dof.use_dof = True
        cam.data.dof.focus_object = target
        cam.data.dof.aperture_fstop = rng.uniform(0.8, 4.0)
    scene = bpy.context.scene
    scene.camera = cam
    if moving is not None:
        scene.render.use_motion_blur = True
        start = moving.location.copy()
        moving.keyframe_insert("location", frame=0)
        moving.location = start + type(start)((rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), 0))
        moving.keyframe_insert("location", frame=2)
        scene.frame_set(1)


def render(path, spp, seed):
    scene = bpy.context.scene
    scene.cycles.samples = spp
    scene.cycles.seed = seed
    tmp = path.with_name(path.stem + ".partial.exr")
    scene.render.filepath = str(tmp)
    bpy.ops.render.render(write_still=True)
    tmp.rename(path)


def setup(res):
    """Empties the scene and sets Cycles up as the renders here use it: CPU, no adaptive
    sampling, no denoiser, Blackman-Harris, 2 threads, one-part multilayer EXR with Denoising Data."""
    clear()
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.use_denoising = False
    scene.cycles.pixel_filter_type = "BLACKMAN_HARRIS"
    scene.render.resolution_x, scene.render.resolution_y = res
    scene.render.resolution_percentage = 100
    scene.render.threads_mode = "FIXED"
    scene.render.threads = 2
    scene.view_layers[0].cycles.denoising_store_passes = True
    settings = scene.render.image_settings
    settings.file_format = "OPEN_EXR_MULTILAYER"
    settings.color_depth = "32"
    settings.exr_codec = "ZIP"
    return scene


def main():
    seed, out, res, spps, ref_spp = args()
    rng = random.Random(seed)
    setup(res)
    moving = add_objects(rng)
    add_lights(rng)
    add_camera(rng, moving)
    out.mkdir(parents=True, exist_ok=True)
    for k, spp in enumerate(spps):
        path = out / f"noisy_{spp}.exr"
        if not path.exists():
            render(path, spp, seed * 16 + k + 1)
    if not (out / "ref.exr").exists():
        render(out / "ref.exr", ref_spp, seed * 16)


if __name__ == "__main__":
    main()
