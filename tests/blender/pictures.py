# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's pictures of the add-on's operators, made from the test scenes with the release's
real CLI: `cargo xtask blender-pictures` runs

    blender -b --factory-startup --python-exit-code 1 --python tests/blender/pictures.py

with the environment of `run.py` and LATENTFORGE_PICTURES (the folder to write, `blender/docs/`).
Each picture is a row of panels, before on the left:

- `vary.png`: a plane with the stone_tiles material, then two variations (count 2, seed 3);
- `maps.png`: a plane with the colour map alone, then with the maps Maps from Colour wired in,
  lit from a low sun so the relief shows;
- `upscale.png`: a corner of the colour map, then the same corner of Upscale Material's 2x image
  (both shown with nearest-neighbour pixels at the same size on screen);
- `denoise.png`: a Cycles render at 4 samples, then Denoise Render Result's output.
"""

import os
import sys
from pathlib import Path

import addon_utils
import bpy

sys.path.insert(0, str(Path(__file__).parent))
import scenes  # noqa: E402

ZIP = Path(os.environ["LATENTFORGE_ADDON_ZIP"])
TOOL = Path(os.environ["LATENTFORGE_RELEASE"]) / "bin" / "latentforge"
OUT = Path(os.environ["LATENTFORGE_TEST_OUT"])
PICTURES = Path(os.environ["LATENTFORGE_PICTURES"])
SIDE = 192
GAP = 4


def fresh():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("latentforge", default_set=True)
    bpy.context.preferences.addons["latentforge"].preferences.executable = str(TOOL)


def render(plane, material, name, samples=16):
    """The plane with `material`, rendered at SIDE x SIDE in Cycles, as rows of RGB pixels."""
    plane.active_material = material
    scene = scenes.setup_render(SIDE, SIDE, samples)
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "PNG"
    scene.render.filepath = str(OUT / f"{name}.png")
    bpy.ops.render.render(write_still=True)
    bpy.context.view_layer.objects.active = plane  # the operators work on the active object's material
    return load(OUT / f"{name}.png")


def load(path):
    """An image file as rows (top first) of (r, g, b) pixels, 0..1 as stored."""
    image = bpy.data.images.load(str(path))
    w, h = image.size
    flat = list(image.pixels)
    bpy.data.images.remove(image)
    rows = [[tuple(flat[(y * w + x) * 4:(y * w + x) * 4 + 3]) for x in range(w)] for y in range(h)]
    return rows[::-1]


def nearest(rows, side):
    """`rows` enlarged (or kept) to side x side with nearest-neighbour sampling."""
    h, w = len(rows), len(rows[0])
    return [[rows[y * h // side][x * w // side] for x in range(side)] for y in range(side)]


def crop(rows, side):
    return [row[:side] for row in rows[:side]]


def save_row(panels, name):
    """The panels side by side with a white gap, written as PNG to PICTURES/name."""
    height = max(len(p) for p in panels)
    white = (1.0, 1.0, 1.0)
    rows = []
    for y in range(height):
        row = []
        for k, p in enumerate(panels):
            row += [white] * (GAP if k else 0) + (p[y] if y < len(p) else [white] * len(p[0]))
        rows.append(row)
    w = len(rows[0])
    image = bpy.data.images.new(name, w, height)
    image.pixels.foreach_set([c for row in rows[::-1] for px in row for c in (*px, 1.0)])
    image.filepath_raw, image.file_format = str(PICTURES / name), "PNG"
    image.save()
    print(f"pictures: {PICTURES / name} ({w}x{height})")


def vary():
    fresh()
    material, plane = scenes.stone_material_on_plane()
    panels = [render(plane, material, "vary_original")]
    assert bpy.ops.latentforge.vary_material(count=2, seed=3) == {"FINISHED"}
    for seed in (3, 4):
        panels.append(render(plane, bpy.data.materials[f"{material.name}_v{seed}"], f"vary_{seed}"))
    save_row(panels, "vary.png")


def maps():
    fresh()
    material, plane = scenes.colour_only_material()
    scene = scenes.setup_render(SIDE, SIDE, 16)
    light = next(o for o in scene.objects if o.type == "LIGHT")
    light.rotation_euler = (1.25, 0.0, 0.8)  # a low sun: the relief casts light and shade
    bpy.context.view_layer.objects.active = plane
    before = render(plane, material, "maps_before")
    assert bpy.ops.latentforge.maps_from_color(method="network") == {"FINISHED"}
    save_row([before, render(plane, material, "maps_after")], "maps.png")


def upscale():
    fresh()
    material, _ = scenes.stone_material_on_plane()
    original = Path(bpy.path.abspath(scenes.image_nodes(material)["Color"].image.filepath))
    assert bpy.ops.latentforge.upscale_material(scale="2", into_copy=True) == {"FINISHED"}
    copy = bpy.data.materials[f"{material.name}_x2"]
    upscaled = Path(bpy.path.abspath(scenes.image_nodes(copy)["Color"].image.filepath))
    small, large = load(original), load(upscaled)
    corner = 48  # pixels of the original shown
    side = SIDE * 3 // 2
    save_row([nearest(crop(small, corner), side), nearest(crop(large, 2 * corner), side)], "upscale.png")


def denoise():
    fresh()
    scenes.small_animation(OUT / "still")
    scene = scenes.setup_render(SIDE, SIDE, 4)
    scene.view_settings.view_transform = "Standard"
    assert bpy.ops.latentforge.prepare_scene() == {"FINISHED"}
    bpy.ops.render.render()
    assert bpy.ops.latentforge.denoise_render() == {"FINISHED"}
    scene.render.image_settings.file_format = "PNG"  # prepare_scene chose multilayer EXR for renders
    noisy, denoised = OUT / "denoise_noisy.png", OUT / "denoise_denoised.png"
    bpy.data.images["Render Result"].save_render(str(noisy), scene=scene)
    bpy.data.images[f"{scene.name} (denoised)"].save_render(str(denoised), scene=scene)
    panels = [load(noisy), load(denoised)]
    assert all(len(p) == SIDE for p in panels), [len(p) for p in panels]
    save_row(panels, "denoise.png")


def main():
    bpy.ops.preferences.addon_install(filepath=str(ZIP), overwrite=True)
    PICTURES.mkdir(parents=True, exist_ok=True)
    for make in (vary, maps, upscale, denoise):
        make()


main()
