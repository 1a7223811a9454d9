"""Builds one random Cycles scene (cycles_scene.py's generator), animates it and renders a frame
sequence with Blender's Vector pass, for temporal denoising (runs inside Blender).

    blender -b --factory-startup --python cycles_sequence.py -- SEED OUT_DIR WxH FRAMES SPP[,SPP...] REF_SPP
REF_SPP 0 renders no references.

Writes OUT_DIR/noisy_{spp}/shot_0001.exr … (a new sampling seed per frame and sample count) and
OUT_DIR/ref/shot_0001.exr …, one-part multilayer EXRs with `ViewLayer.Combined`, Denoising
Data and `ViewLayer.Vector` (Cycles writes the Vector pass only with motion blur off, so this
script turns motion blur and depth of field off). The camera orbits and rises, one object moves,
and in some scenes a light moves, all linearly from the first frame to the last. A frame file is
complete when it exists (rendered under a temporary name), so an interrupted run resumes.
"""
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cycles_scene  # noqa: E402  (Blender puts only the script itself on the path)


def args():
    argv = sys.argv[sys.argv.index("--") + 1:]
    width, _, height = argv[2].partition("x")
    return (int(argv[0]), Path(argv[1]), (int(width), int(height)), int(argv[3]),
            [int(s) for s in argv[4].split(",")], int(argv[5]))


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


def main():
    seed, out, res, frames, spps, ref_spp = args()
    rng = random.Random(seed)
    scene = cycles_scene.setup(res)
    scene.view_layers[0].use_pass_vector = True
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
