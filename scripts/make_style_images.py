"""Regenerate examples/images/content.png and style.png, the two images of
examples/neural_style.py.

Both are drawn here from formulas (no photograph or artwork is involved), so they are the
project's own work under its licence (examples/images/README.md). Deterministic: the same
NumPy/Pillow versions write the same bytes.

* content.png: a small landscape — sky gradient, a sun, two ranges of hills, a house with a
  roof, a door and a window, and a tree: large flat regions and clear edges for the content
  loss to keep.
* style.png: "waves" — warped sine bands of a blue/teal/orange palette with fine
  brush-stroke streaks: strong textures and colours for the style loss (Gram matrices) to carry.

    python scripts/make_style_images.py [--size 128]
"""
import argparse
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "examples", "images")


def _grid(n):
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) / (n - 1)
    return x, y


def content(n):
    x, y = _grid(n)
    img = np.zeros((n, n, 3))
    # Sky: light blue at the horizon to deeper blue at the top.
    t = y[..., None]
    img[:] = (1 - t) * np.array([0.25, 0.45, 0.85]) + t * np.array([0.75, 0.88, 0.98])
    # Sun.
    sun = (x - 0.78) ** 2 + (y - 0.2) ** 2 < 0.09 ** 2
    img[sun] = [1.0, 0.85, 0.3]
    # Far hills, then near hills.
    far = y > 0.55 + 0.08 * np.sin(6.0 * x + 0.5)
    img[far] = [0.35, 0.55, 0.35]
    near = y > 0.7 + 0.05 * np.sin(9.0 * x + 2.0)
    img[near] = [0.2, 0.6, 0.2]
    # House: walls, roof (triangle), door, window.
    walls = (x > 0.2) & (x < 0.45) & (y > 0.55) & (y < 0.8)
    img[walls] = [0.85, 0.75, 0.6]
    roof = (y > 0.4) & (y <= 0.55) & (np.abs(x - 0.325) < (y - 0.4) / 0.15 * 0.16)
    img[roof] = [0.6, 0.15, 0.1]
    door = (x > 0.29) & (x < 0.35) & (y > 0.67) & (y < 0.8)
    img[door] = [0.35, 0.2, 0.1]
    window = (x > 0.37) & (x < 0.42) & (y > 0.6) & (y < 0.65)
    img[window] = [0.95, 0.95, 0.6]
    # Tree: trunk and round crown.
    trunk = (x > 0.64) & (x < 0.68) & (y > 0.6) & (y < 0.82)
    img[trunk] = [0.4, 0.25, 0.1]
    crown = (x - 0.66) ** 2 + (y - 0.55) ** 2 < 0.09 ** 2
    img[crown] = [0.1, 0.4, 0.15]
    return img


def style(n):
    x, y = _grid(n)
    # Warped coordinates give wave-like bands.
    u = y + 0.08 * np.sin(7.0 * x + 3.0 * np.sin(4.0 * y))
    bands = 0.5 + 0.5 * np.sin(18.0 * u + 2.0 * np.sin(5.0 * x))
    palette = np.array([[0.05, 0.15, 0.45], [0.1, 0.55, 0.65], [0.95, 0.95, 0.85], [0.95, 0.55, 0.15]])
    pos = bands * (len(palette) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(palette) - 2)
    frac = (pos - lo)[..., None]
    img = (1 - frac) * palette[lo] + frac * palette[lo + 1]
    # Brush-stroke streaks along the bands: a fixed-seed noise smeared horizontally.
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((n, n))
    kernel = np.ones(9) / 9.0
    streaks = np.apply_along_axis(lambda r: np.convolve(np.tile(r, 3), kernel, "same")[n:2 * n], 1, noise)
    img = img * (1.0 + 0.25 * streaks[..., None])
    return img


def save(img, path):
    arr = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    Image.fromarray(arr, "RGB").save(path, optimize=True)
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    save(content(args.size), os.path.join(OUT, "content.png"))
    save(style(args.size), os.path.join(OUT, "style.png"))


if __name__ == "__main__":
    main()
