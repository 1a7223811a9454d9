"""A sheet of log spectrograms, one row per set of sounds and one column per lane, with labels:
how the card shows a generated kit next to a real one."""
import numpy as np
from PIL import Image, ImageDraw

N_FFT, HOP = 1024, 256
HEIGHT = 160          # pixels per spectrogram (log-frequency, 30 Hz .. 24 kHz)
WIDTH = 188           # one 1 s one-shot at HOP
LABEL = 16


def log_spectrogram(x, sr):
    """dB magnitude on a log-frequency axis, top = high, 80 dB of range below the sound's peak."""
    n = 1 + (len(x) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None] + HOP * np.arange(n)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * np.hanning(N_FFT), axis=1)).T
    freqs = np.fft.rfftfreq(N_FFT, 1 / sr)
    rows = np.geomspace(30, sr / 2, HEIGHT)
    db = 20 * np.log10(np.stack([np.interp(rows, freqs, col) for col in mag.T], 1) + 1e-9)
    db = np.clip((db - db.max() + 80) / 80, 0, 1)
    return (db[::-1] * 255).astype(np.uint8)


def sheet(rows, lanes, row_names, path, sr=48000):
    img = Image.new("L", (LABEL * 8 + WIDTH * len(lanes), (HEIGHT + LABEL) * len(rows) + LABEL), 0)
    draw = ImageDraw.Draw(img)
    for c, lane in enumerate(lanes):
        draw.text((LABEL * 8 + c * WIDTH + 4, 2), lane, fill=255)
    for r, (sounds, name) in enumerate(zip(rows, row_names, strict=True)):
        y = LABEL + r * (HEIGHT + LABEL)
        draw.text((4, y + HEIGHT // 2), name, fill=255)
        for c, x in enumerate(sounds):
            spec = Image.fromarray(log_spectrogram(np.asarray(x, np.float64), sr)).resize((WIDTH - 2, HEIGHT))
            img.paste(spec, (LABEL * 8 + c * WIDTH, y))
    img.save(path)
