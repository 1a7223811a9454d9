# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-on in a real Blender, headless, with the real `latentforge` of the built release:

    blender -b --factory-startup --python-exit-code 1 --python tests/blender/run.py

`cargo xtask test` runs it with LATENTFORGE_ADDON_ZIP (the built add-on), LATENTFORGE_RELEASE (the
unpacked release) and LATENTFORGE_TEST_OUT (a scratch folder) set, and Blender's user folders in
that scratch folder. Each `test_*` function runs on a fresh scene; the run exits 1 naming every
test that failed. Blender-specific checks (materials, renders) live in `scenes.py`.
"""

import os
import sys
import threading
import time
import tomllib
import traceback
import zipfile
from pathlib import Path

import addon_utils
import bpy

sys.path.insert(0, str(Path(__file__).parent))
import scenes  # noqa: E402

ZIP = Path(os.environ["LATENTFORGE_ADDON_ZIP"])
RELEASE = Path(os.environ["LATENTFORGE_RELEASE"])
OUT = Path(os.environ["LATENTFORGE_TEST_OUT"])
TOOL = RELEASE / "bin" / "latentforge"


def prefs():
    return bpy.context.preferences.addons["latentforge"].preferences


def test_manifest_and_bl_info():
    with zipfile.ZipFile(ZIP) as z:
        names = z.namelist()
        manifest = tomllib.loads(z.read("latentforge/blender_manifest.toml").decode())
        init = z.read("latentforge/__init__.py").decode()
    assert "latentforge/__init__.py" in names and "latentforge/LICENSE" in names, names
    for key in ("schema_version", "id", "version", "name", "tagline", "maintainer", "type", "blender_version_min",
                "license"):
        assert key in manifest, f"blender_manifest.toml lacks {key}"
    assert manifest["type"] == "add-on" and manifest["id"] == "latentforge"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"], manifest["license"]
    assert tuple(int(v) for v in manifest["blender_version_min"].split(".")) >= (4, 2, 0)
    assert len(manifest["tagline"]) <= 64 and not manifest["tagline"].endswith(".")
    assert '"blender": (3, 4, 0)' in init, "bl_info must name Blender 3.4"


def test_register_and_unregister_twice():
    for _ in range(2):
        addon_utils.disable("latentforge", default_set=True)
        assert not hasattr(bpy.ops.latentforge, "vary_material") or "vary_material" not in dir(bpy.ops.latentforge)
        assert not hasattr(bpy.types.Scene, "latentforge")
        addon_utils.enable("latentforge", default_set=True)
        assert "vary_material" in dir(bpy.ops.latentforge)
        assert hasattr(bpy.types.Scene, "latentforge")
    prefs().executable = str(TOOL)
    prefs().device = "CPU"


def test_check_says_what_it_found():
    assert bpy.ops.latentforge.check() == {"FINISHED"}
    assert "ONNX Runtime" in prefs().last_check, prefs().last_check


def test_vary_material_makes_copies_with_new_images():
    material, plane = scenes.stone_material_on_plane()
    before = scenes.link_table(material)
    originals = {s: n.image.filepath for s, n in scenes.image_nodes(material).items()}
    assert bpy.ops.latentforge.vary_material(count=2, seed=3) == {"FINISHED"}
    variations = [bpy.data.materials.get(f"{material.name}_v{seed}") for seed in (3, 4)]
    assert all(variations), [m.name for m in bpy.data.materials]
    for variation in variations:
        assert scenes.link_table(variation) == before, "the variation's links differ from the original's"
        for key, node in scenes.image_nodes(variation).items():
            assert node.image.filepath != originals[key], f"{key}: image not swapped"
            assert os.path.isfile(bpy.path.abspath(node.image.filepath)), node.image.filepath
            assert tuple(node.image.size) == (256, 256), (key, tuple(node.image.size))
            data = "Color" not in key
            assert (node.image.colorspace_settings.name == "Non-Color") == data, (key, node.image.colorspace_settings.name)
    assert {k: n.image.filepath for k, n in scenes.image_nodes(material).items()} == originals, "original changed"
    original = scenes.render_plane(plane, material, OUT / "vary_original.png")
    renders = [scenes.render_plane(plane, variation, OUT / f"vary_{i}.png") for i, variation in enumerate(variations)]
    for pixels in renders:
        assert scenes.spread(pixels) > 0.02, "a variation renders flat"
        assert scenes.mean_abs_diff(pixels, original) > 0.01, "a variation renders as the original"
    assert scenes.mean_abs_diff(*renders) > 0.01, "the two variations render the same"


def test_maps_wire_only_free_sockets():
    material, _ = scenes.colour_only_material()
    bsdf = next(n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    value = bsdf.inputs["Roughness"].links[0].from_node
    # A packed image has no file of its own: it is saved to one first.
    colour = bsdf.inputs["Base Color"].links[0].from_node.image
    colour.pack()
    colour.filepath = "//nowhere/packed_colour.png"
    assert bpy.ops.latentforge.maps_from_color(method="heuristic") == {"FINISHED"}
    assert bsdf.inputs["Roughness"].links[0].from_node == value, "a linked Roughness was rewired"
    bump = bsdf.inputs["Normal"].links[0].from_node
    assert bump.type == "BUMP", bump.type
    height = bump.inputs["Height"].links[0].from_node
    normal_map = bump.inputs["Normal"].links[0].from_node
    assert normal_map.type == "NORMAL_MAP"
    normal = normal_map.inputs["Color"].links[0].from_node
    for node in (height, normal):
        assert node.type == "TEX_IMAGE" and node.image.colorspace_settings.name == "Non-Color", node.name
        assert node.inputs["Vector"].is_linked, "the new maps do not share the colour's texture coordinates"


def test_upscale_doubles_every_image_and_keeps_links():
    material, _ = scenes.stone_material_on_plane()
    before = scenes.link_table(material)
    assert bpy.ops.latentforge.upscale_material(scale="2", into_copy=True) == {"FINISHED"}
    copy = bpy.data.materials[f"{material.name}_x2"]
    assert scenes.link_table(copy) == before
    assert all(tuple(n.image.size) == (512, 512) for n in scenes.image_nodes(copy).values())
    assert all(tuple(n.image.size) == (256, 256) for n in scenes.image_nodes(material).values()), "original changed"
    assert bpy.ops.latentforge.upscale_material(scale="2") == {"FINISHED"}
    assert scenes.link_table(material) == before
    assert all(tuple(n.image.size) == (512, 512) for n in scenes.image_nodes(material).values())


def test_denoise_while_rendering_keeps_every_pass():
    for temporal in (False, True):
        folder = OUT / f"frames_{'temporal' if temporal else 'single'}"
        scenes.small_animation(folder)
        bpy.context.scene.latentforge.temporal = temporal
        bpy.context.scene.latentforge.window = 3
        assert bpy.ops.latentforge.prepare_scene() == {"FINISHED"}
        bpy.context.scene.latentforge.denoise_while_rendering = True
        bpy.ops.render.render(animation=True)
        frames = sorted(folder.glob("*.exr"))
        denoised = sorted(Path(f"{folder}_dn").glob("*.exr"))
        assert len(frames) == 3, frames
        assert [d.name for d in denoised] == [f.name for f in frames], (denoised, frames)
        for frame, out in zip(frames, denoised, strict=True):
            assert scenes.exr_channels(out) == scenes.exr_channels(frame), f"{out.name}: passes differ"
        assert bpy.ops.latentforge.restore_scene() == {"FINISHED"}


def test_denoise_sequence_opens_the_result():
    folder = OUT / "sequence"
    scenes.small_animation(folder)
    bpy.context.scene.latentforge.temporal = True
    assert bpy.ops.latentforge.prepare_scene() == {"FINISHED"}
    bpy.ops.render.render(animation=True)
    assert bpy.ops.latentforge.denoise_sequence(path=str(folder), temporal=True, window=3) == {"FINISHED"}
    denoised = sorted(p.name for p in Path(f"{folder}_dn").glob("*.exr"))
    assert denoised == ["frame_0001.exr", "frame_0002.exr", "frame_0003.exr"], denoised
    opened = [i for i in bpy.data.images if i.source == "SEQUENCE"]
    assert len(opened) == 1 and "_dn" in opened[0].filepath, [(i.name, i.filepath) for i in opened]


def test_denoise_render_result():
    scenes.small_animation(OUT / "still")
    assert bpy.ops.latentforge.prepare_scene() == {"FINISHED"}
    bpy.ops.render.render()
    assert bpy.ops.latentforge.denoise_render() == {"FINISHED"}
    image = bpy.data.images[f"{bpy.context.scene.name} (denoised)"]
    denoised = Path(bpy.path.abspath(image.filepath))
    source = denoised.with_name("render.exr")
    channels = scenes.exr_channels(denoised)
    assert channels == scenes.exr_channels(source), "the denoised render lost passes"
    assert any(c.endswith("Denoising Albedo.R") for c in channels), channels


def test_bad_input_is_a_report_not_a_crash():
    blend_dir = OUT / "blend"
    blend_dir.mkdir(exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(blend_dir / "bad.blend"))
    empty, _ = scenes.material_without_images()
    message = scenes.error_of(lambda: bpy.ops.latentforge.vary_material(count=1))
    assert "no image texture" in message, message
    tiny, path = scenes.tiny_image_material(blend_dir)
    message = scenes.error_of(lambda: bpy.ops.latentforge.vary_material(count=1))
    assert Path(path).name in message, message
    scenes.udim_material()
    message = scenes.error_of(lambda: bpy.ops.latentforge.vary_material(count=1))
    assert "UDIM" in message, message
    uneven, _ = scenes.stone_material_on_plane()
    scenes.add_roughness(uneven, 128)
    message = scenes.error_of(lambda: bpy.ops.latentforge.vary_material(count=1))
    assert "differ in size" in message and "128x128" in message, message
    prefs().executable = str(OUT / "nowhere" / "latentforge")
    message = scenes.error_of(lambda: bpy.ops.latentforge.vary_material(count=1))
    assert "nowhere" in message and "preferences" in message, message
    prefs().executable = str(TOOL)
    partial = [p for p in blend_dir.rglob("*") if p.name.endswith(".partial") or p.name.startswith(".latentforge-")]
    assert not partial, partial


def test_runner_drains_on_the_main_thread_without_blocking():
    from latentforge import cli

    material, _ = scenes.stone_material_on_plane()
    sources = [str(scenes.FIXTURES / f"stone_tiles_{k}.png") for k in ("Color", "Normal", "Height")]
    argv = [str(TOOL), "texture", "vary", "--map", f"color={sources[0]}", "--map", f"normal-gl={sources[1]}",
            "--map", f"height={sources[2]}", "--count", "4", "--size", "512", "--out-dir", str(OUT / "runner"),
            "--force", "--json"]
    seen = []
    job = cli.Job("runner test", [argv], on_file=lambda job, path, kind, item: seen.append(threading.current_thread()))
    cli._JOBS.append(job.start())
    slowest, ticks, start = 0.0, 0, time.monotonic()
    while cli.running():
        t = time.monotonic()
        cli.tick()
        slowest = max(slowest, time.monotonic() - t)
        ticks += 1
        time.sleep(cli.TICK_S)
        assert time.monotonic() - start < 600, "the job did not finish in 10 minutes"
    assert job.returncode == 0 and not job.errors, job.errors
    assert len(seen) == 12 and all(t is threading.main_thread() for t in seen), seen
    assert job.queue.empty()
    assert slowest < 0.25, f"a timer call took {slowest:.3f} s"
    print(f"runner: {ticks} timer calls over {time.monotonic() - start:.1f} s, the slowest {slowest * 1000:.0f} ms")


def main():
    bpy.ops.preferences.addon_install(filepath=str(ZIP), overwrite=True)
    addon_utils.enable("latentforge", default_set=True)
    prefs().executable = str(TOOL)
    failed = []
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    for name, fn in tests:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        addon_utils.enable("latentforge", default_set=True)
        prefs().executable = str(TOOL)
        start = time.monotonic()
        try:
            fn()
            print(f"ok   {name} ({time.monotonic() - start:.1f} s)")
        except Exception:
            failed.append(name)
            print(f"FAIL {name}\n{traceback.format_exc()}")
    print(f"\nblender tests: {len(tests) - len(failed)} passed, {len(failed)} failed {failed or ''}")
    sys.exit(1 if failed else 0)


main()
