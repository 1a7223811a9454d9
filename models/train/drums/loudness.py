"""How loud each lane sits in the real kits, so a generated kit can be balanced like one.

Per kit, a lane's level is its loudest one-shot: the RMS of the first 200 ms after the onset,
times the gain Hydrogen plays it at (instrument volume, instrument gain, layer gain), in dB
relative to the kit's median lane. A lane's figure is the median over the kits that have it.
The engine brings each generated one-shot to the same measure (src/drums/model.rs)."""
import numpy as np
import soundfile as sf

import config
import dataset

WINDOW_S = 0.2


def onset_rms_db(x, sr):
    """dB RMS of the `WINDOW_S` after the first sample within 40 dB of the peak."""
    start = int(np.argmax(np.abs(x) > 0.01 * np.abs(x).max()))
    w = x[start:start + int(WINDOW_S * sr)]
    return 10 * np.log10(np.mean(w ** 2) + 1e-20)


def lane_levels_db():
    """{lane: dB relative to the kit's median lane}, median over every kit the model trains on."""
    per_lane = {lane: [] for lane in config.LANES}
    for kit, (_license, _author, use) in config.KITS.items():
        if not use:
            continue
        loudest = {}
        for name, path, gain in dataset.instruments(config.KITS_DIR / kit):
            lane = dataset.lane_of(name)
            if lane is None or not path.exists():
                continue
            x, sr = sf.read(str(path), dtype="float64", always_2d=True)
            x = x.mean(1)
            if np.abs(x).max() < 1e-4:
                continue
            db = onset_rms_db(x, sr) + 20 * np.log10(gain)
            loudest[lane] = max(loudest.get(lane, -np.inf), db)
        if len(loudest) < 3:
            continue
        mid = np.median(list(loudest.values()))
        for lane, db in loudest.items():
            per_lane[lane].append(db - mid)
    return {lane: round(float(np.median(v)), 1) for lane, v in per_lane.items()}


if __name__ == "__main__":
    print(lane_levels_db())
