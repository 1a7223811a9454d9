"""Builds one random Cycles scene (cycles_scene.py's generator), animates it and renders a frame
sequence with Blender's Vector pass, for temporal denoising (runs inside Blender).

    blender -b --factory-startup --python cycles_sequence.py -- SEED OUT_DIR WxH FRAMES SPP[,SPP...] REF_SPP [KIND]
REF_SPP 0 renders no references. KIND is `orbit` (the default) or `static`.

Writes OUT_DIR/noisy_{spp}/shot_0001.exr … (a new sampling seed per frame and sample count) and
OUT_DIR/ref/shot_0001.exr …, one-part multilayer EXRs with `ViewLayer.Combined`, Denoising
Data and `ViewLayer.Vector` (Cycles writes the Vector pass only with motion blur off, so this
script turns motion blur and depth of field off). The camera orbits and rises, one object moves,
and in some scenes a light moves, all linearly from the first frame to the last. A frame file is
complete when it exists (rendered under a temporary name), so an interrupted run resumes.

`static` shots are the kind where temporal denoising has to keep edges steady: the camera stands
still over high-contrast textures (a black and white checker floor, a brick or text wall, thin
rods), a cube moves across and a light moves, so nearly every pixel stays put and each frame's
new sample pattern only jitters the anti-aliased edges.
"""
import math
import random
import sys
from pathlib import Path

import bpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cycles_scene  # noqa: E402  (Blender puts only the script itself on the path)


def args():
    argv = sys.argv[sys.argv.index("--") + 1:]
    width, _, height = argv[2].partition("x")
    kind = argv[6] if len(argv) > 6 else "orbit"
    if kind not in ("orbit", "static"):
        sys.exit(f"KIND must be orbit or static, not {kind}")
    return (int(argv[0]), Path(argv[1]), (int(width), int(height)), int(argv[3]),
            [int(s) for s in argv[4].split(",")], int(argv[5]), kind)


def animate(obj, frames, offset):
    """Moves `obj` linearly by `offset` (x, y, z) from frame 1 to frame `frames`."""
    obj.animation_data_clear()
    start = obj.location.copy()
    obj.keyframe_insert("location", frame=1)
    obj.location = start + type(start)(offset)
    obj.keyframe_insert("location", frame=frames)
    for curve in obj.animation_data.action.fcurves:
        for key in curve.keyframe_points:
            key.interpolation = "LINEAR"


def sampling_seed(seed, frame, pass_index):
    """A distinct Cycles seed per scene, frame and render (Cycles takes a 31-bit int)."""
    return ((seed * 1000 + frame) * 16 + pass_index) % 2**31


def textured(name, kind, scale, dark, light):
    """A matte material whose colour is a black/white `kind` texture node (checker or brick)."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    tex = nodes.new(kind)
    tex.inputs["Scale"].default_value = scale
    if kind == "ShaderNodeTexChecker":
        tex.inputs["Color1"].default_value = (*dark, 1.0)
        tex.inputs["Color2"].default_value = (*light, 1.0)
    else:
        tex.inputs["Color1"].default_value = (*light, 1.0)
        tex.inputs["Color2"].default_value = (*light, 1.0)
        tex.inputs["Mortar"].default_value = (*dark, 1.0)
    links.new(tex.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.8
    return mat


def matte(name, rgb):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*rgb, 1.0)
    return mat


def static_shot(rng, scene, frames):
    """A still camera over a checker floor, a brick or text wall and thin rods; a cube moves
    across and a point light moves over the scene."""
    black, white = (0.02, 0.02, 0.02), (0.85, 0.85, 0.85)
    bpy.ops.mesh.primitive_plane_add(size=30)
    bpy.context.object.data.materials.append(textured("floor", "ShaderNodeTexChecker", rng.uniform(20, 45), black, white))
    if rng.random() < 0.5:
        bpy.ops.mesh.primitive_plane_add(size=8, location=(0, 3, 2), rotation=(math.pi / 2, 0, 0))
        bpy.context.object.data.materials.append(textured("wall", "ShaderNodeTexBrick", rng.uniform(3, 8), black, white))
    else:
        bpy.ops.object.text_add(location=(-3.2, 3, 0.4), rotation=(math.pi / 2, 0, 0))
        text = bpy.context.object
        text.data.body = rng.choice(["LATENTFORGE", "Render 0042", "STEADY EDGES", "frame by frame"])
        text.data.size = rng.uniform(0.6, 0.9)
        text.data.extrude = 0.02
        text.data.materials.append(matte("text", white))
        bpy.ops.mesh.primitive_plane_add(size=8, location=(0, 3.05, 2), rotation=(math.pi / 2, 0, 0))
        bpy.context.object.data.materials.append(matte("board", black))
    for k in range(rng.randint(4, 9)):
        x = -2.5 + k * rng.uniform(0.45, 0.7)
        bpy.ops.mesh.primitive_cylinder_add(radius=rng.uniform(0.008, 0.03), depth=2.5, location=(x, 1.5, 1.25))
        bpy.context.object.data.materials.append(matte(f"rod{k}", white if k % 2 else (0.7, 0.15, 0.05)))
    bpy.ops.mesh.primitive_cube_add(size=0.7, location=(rng.uniform(-2.5, -1.5), rng.uniform(-0.5, 0.5), 0.35))
    cube = bpy.context.object
    cube.data.materials.append(matte("cube", [rng.uniform(0.2, 0.9) for _ in range(3)]))
    animate(cube, frames, (rng.uniform(2.5, 4.0), rng.uniform(-0.5, 0.5), 0))
    world = scene.world
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = rng.uniform(0.05, 0.2)
    light = bpy.data.objects.new("light", bpy.data.lights.new("light", "POINT"))
    light.data.energy = rng.uniform(600, 1500)
    light.data.shadow_soft_size = rng.uniform(0.05, 0.3)
    light.location = (rng.uniform(-3, -1), rng.uniform(-2, 0), rng.uniform(2.5, 4))
    bpy.context.collection.objects.link(light)
    animate(light, frames, (rng.uniform(2, 4), rng.uniform(-1, 1), 0))
    cam = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    cam.location = (rng.uniform(-1, 1), rng.uniform(-8, -6.5), rng.uniform(2.5, 4))
    target = bpy.data.objects.new("target", None)
    target.location = (0, 1, 0.8)
    track = cam.constraints.new("TRACK_TO")
    track.target = target
    for obj in (cam, target):
        bpy.context.collection.objects.link(obj)
    cam.data.lens = rng.uniform(30, 40)
    scene.camera = cam


def main():
    seed, out, res, frames, spps, ref_spp, kind = args()
    rng = random.Random(seed)
    scene = cycles_scene.setup(res)
    scene.view_layers[0].use_pass_vector = True
    if kind == "static":
        static_shot(rng, scene, frames)
        scene.render.use_motion_blur = False
        render_frames(scene, seed, out, frames, spps, ref_spp)
        return
    moving = cycles_scene.add_objects(rng)
    cycles_scene.add_lights(rng)
    cycles_scene.add_camera(rng, moving)
    scene.render.use_motion_blur = False
    scene.camera.data.dof.use_dof = False
    cam = scene.camera
    radius = math.hypot(cam.location.x, cam.location.y)
    turn = rng.choice([-1, 1]) * rng.uniform(0.15, 0.45)   # radians over the shot
    angle = math.atan2(cam.location.y, cam.location.x) + turn
    end = (radius * math.cos(angle), radius * math.sin(angle), cam.location.z + rng.uniform(-0.5, 0.5))
    animate(cam, frames, [e - s for e, s in zip(end, cam.location, strict=True)])
    if moving is None:
        moving = next(o for o in scene.objects if o.type == "MESH" and o.name != "Plane")
    animate(moving, frames, (rng.uniform(-1.2, 1.2), rng.uniform(-1.2, 1.2), rng.uniform(-0.2, 0.2)))
    if rng.random() < 0.5:
        light = rng.choice([o for o in scene.objects if o.type == "LIGHT"])
        animate(light, frames, (rng.uniform(-3, 3), rng.uniform(-3, 3), 0))
    render_frames(scene, seed, out, frames, spps, ref_spp)


def render_frames(scene, seed, out, frames, spps, ref_spp):
    """Every frame at each sample count and the reference, skipping files already written."""
    for frame in range(1, frames + 1):
        scene.frame_set(frame)
        for k, spp in enumerate(spps):
            path = out / f"noisy_{spp}" / f"shot_{frame:04d}.exr"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                cycles_scene.render(path, spp, sampling_seed(seed, frame, k + 1))
        path = out / "ref" / f"shot_{frame:04d}.exr"
        if ref_spp > 0 and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            cycles_scene.render(path, ref_spp, sampling_seed(seed, frame, 0))


if __name__ == "__main__":
    main()
