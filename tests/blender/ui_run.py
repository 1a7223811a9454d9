# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-on in a windowed Blender (on Xvfb), where its jobs run in the background as they do for
artists: `cargo xtask test` runs

    blender --factory-startup --python tests/blender/ui_run.py

with the environment of `run.py`. The steps are driven by a timer, so Blender's own event loop
runs between them: a variation job of about 30 s and an in-place upscale run while the window
keeps handling its timers (the longest gap between two of them is measured), the upscale's result
is one undo step, and one undo restores the images. Exits 0 when every check passed, 1 otherwise (printing why).
"""

import os
import sys
import time
import traceback
from pathlib import Path

import addon_utils
import bpy

sys.path.insert(0, str(Path(__file__).parent))
import scenes  # noqa: E402

ZIP = Path(os.environ["LATENTFORGE_ADDON_ZIP"])
TOOL = Path(os.environ["LATENTFORGE_RELEASE"]) / "bin" / "latentforge"
STEP_S = 0.05


def window_context():
    window = bpy.context.window_manager.windows[0]
    area = next(a for a in window.screen.areas if a.type == "VIEW_3D")
    return bpy.context.temp_override(window=window, area=area, screen=window.screen)


def background_job(label):
    """Yields while the add-on's job runs; checks the event loop kept running, returns the seconds."""
    from latentforge import cli
    assert cli.running(), f"the {label} did not run in the background"
    gaps, last, start = [], time.monotonic(), time.monotonic()
    while cli.running():
        yield
        now = time.monotonic()
        gaps.append(now - last)
        last = now
        assert now - start < 600, f"the {label} did not finish in 10 minutes"
    worst, took = max(gaps), time.monotonic() - start
    print(f"ui: the window ran {len(gaps)} timer steps during the {label} ({took:.1f} s), "
          f"the longest gap {worst * 1000:.0f} ms")
    # A job run on the main thread would stall the loop for all of it; a loaded CI machine (and
    # Xvfb's software drawing) may delay a step by a second or so.
    assert worst < min(5.0, took / 2), f"Blender's event loop stalled for {worst:.2f} s of the {label}'s {took:.1f} s"
    return took


def steps():
    """The checks, as a generator: each `yield` lets Blender run its event loop for a while."""
    bpy.ops.preferences.addon_install(filepath=str(ZIP), overwrite=True)
    addon_utils.enable("latentforge", default_set=True)
    bpy.context.preferences.addons["latentforge"].preferences.executable = str(TOOL)
    with window_context():
        material, _ = scenes.stone_material_on_plane()
        name = material.name
        # A long variation job (eight 512x512 variations of three maps: about 30 s on 2 cores).
        assert bpy.ops.latentforge.vary_material(count=8, seed=1, size=512) == {"FINISHED"}
    took = yield from background_job("variation job")
    made = [m.name for m in bpy.data.materials if m.name.startswith(f"{name}_v")]
    assert len(made) == 8, made
    with window_context():
        bpy.ops.ed.undo_push(message="the stone material")
        assert bpy.ops.latentforge.upscale_material(scale="2") == {"FINISHED"}
    yield from background_job("upscale")
    sizes = {k: tuple(n.image.size) for k, n in scenes.image_nodes(bpy.data.materials[name]).items()}
    assert set(sizes.values()) == {(512, 512)}, sizes
    with window_context():
        bpy.ops.ed.undo()
    yield
    sizes = {k: tuple(n.image.size) for k, n in scenes.image_nodes(bpy.data.materials[name]).items()}
    assert set(sizes.values()) == {(256, 256)}, f"one undo did not restore the images: {sizes}"
    print(f"ui: one undo restored the original images (the variation job took {took:.1f} s)")


_RUN = steps()


def tick():
    try:
        next(_RUN)
        return STEP_S
    except StopIteration:
        print("blender ui tests: passed")
        os._exit(0)
    except Exception:
        print(f"blender ui tests: FAILED\n{traceback.format_exc()}")
        os._exit(1)


bpy.app.timers.register(tick, first_interval=1.0)
