"""Runs INSIDE the reference venv (imagecorruptions 1.1.2, old NumPy/scikit-image): never imported by lkadv.

Usage (called by bench/corruption_fixture.py and bench/corruption_speed.py):
    python _icref_worker.py fixture INPUTS.npz OUT.npz OUT.json
    python _icref_worker.py speed INPUTS.npz OUT.json REPEATS

The fixture mode writes the reference's outputs and the random draws it made
(recorded by wrapping numpy's random functions), plus statistics of the random
corruptions measured on the reference outputs.
"""

import json
import sys
import time
import warnings

import numpy as np

warnings.simplefilter("ignore")

import imagecorruptions  # noqa: E402
from imagecorruptions import corrupt  # noqa: E402
from imagecorruptions import corruptions as C  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.filters import gaussian  # noqa: E402

DETERMINISTIC = (
    "brightness",
    "contrast",
    "saturate",
    "pixelate",
    "jpeg_compression",
    "defocus_blur",
    "zoom_blur",
    "gaussian_blur",
)
PER_PIXEL = ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise")
SPATIAL_RANDOM = ("glass_blur", "motion_blur", "snow", "frost", "fog", "spatter", "elastic_transform")
LUMA = np.array([0.2989, 0.5870, 0.1140])
GLASS = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)]
SNOW_KEEP = [0.8, 0.7, 0.7, 0.65, 0.55]
REPEATS = 6
# Crops of the 224-px natural images at other sizes: (image, top, left, height, width).
CROPS = {"160x200": (0, 32, 12, 160, 200), "200x160": (1, 12, 32, 200, 160)}
# Deterministic and relative to the image size, so compared at the crop sizes. Zoom blur would
# qualify too but costs 600 KB of fixture (smooth photo content compresses poorly); checked once
# by hand: within a level at both crops except one row at 160 px, severity 5 (up to 21/255), where
# SciPy's zoom by 1.27 puts the last row's coordinate a rounding error past the edge and returns 0.
SIZED = ("pixelate",)
SPATTER_WATER = (1, 2, 3)
SNOW_OVERSIZE = (1, 4, 5)  # the severities whose zoomed snow layer is 225 px, cropped after the motion blur


class Recorder:
    """Wraps a numpy.random function and records what it returned."""

    def __init__(self, name):
        self.name = name
        self.original = getattr(np.random, name)
        self.values = []

    def __enter__(self):
        def wrapped(*args, **kwargs):
            out = self.original(*args, **kwargs)
            self.values.append(np.asarray(out).tolist())
            return out

        setattr(np.random, self.name, wrapped)
        return self

    def __exit__(self, *exc):
        setattr(np.random, self.name, self.original)


def glass_permutation(h, w, severity, seed):
    """The reference's "swap" loop run on pixel indices with the reference's own draws.

    On an H x W x C array the reference's tuple swap assigns through views: it
    copies ``x[h', w']`` into ``x[h, w]`` and leaves ``x[h', w']`` as it was. An
    H x W x 1 index array keeps those semantics; ``check_glass`` confirms that
    the result reproduces the reference's output.
    """
    _, d, iterations = GLASS[severity - 1]
    np.random.seed(seed)
    perm = np.arange(h * w).reshape(h, w, 1)
    for _ in range(iterations):
        for hh in range(h - d, d, -1):
            for ww in range(w - d, d, -1):
                dx, dy = np.random.randint(-d, d, size=(2,))
                hp, wp = hh + dy, ww + dx
                perm[hh, ww], perm[hp, wp] = perm[hp, wp], perm[hh, ww]
    return perm.reshape(-1)


def check_glass(img, severity, seed):
    """The permutation reproduces the reference's glass blur (else the statistics would be wrong)."""
    sigma = GLASS[severity - 1][0]
    np.random.seed(seed)
    ref = corrupt(img, severity=severity, corruption_name="glass_blur").astype(np.float64)
    perm = glass_permutation(img.shape[0], img.shape[1], severity, seed)
    q = np.uint8(gaussian(img / 255.0, sigma=sigma, multichannel=True) * 255)
    shuffled = q.reshape(-1, 3)[perm].reshape(q.shape)
    mine = np.clip(gaussian(shuffled / 255.0, sigma=sigma, multichannel=True), 0, 1) * 255
    err = np.abs(np.uint8(mine).astype(np.float64) - ref).max()
    assert err <= 1, f"glass permutation does not reproduce the reference (max error {err})"


def displacement_stats(perm, h, w):
    src_r, src_c = np.divmod(perm, w)
    dst_r, dst_c = np.divmod(np.arange(h * w), w)
    dr, dc = dst_r - src_r, dst_c - src_c
    return {
        "moved": float(np.mean((dr != 0) | (dc != 0))),
        "distinct": float(len(np.unique(perm)) / perm.size),
        "mean_dist": float(np.mean(np.hypot(dr, dc))),
        "mean_dr": float(np.mean(dr)),
        "mean_dc": float(np.mean(dc)),
        "rms": float(np.sqrt(np.mean(dr**2 + dc**2))),
    }


def snow_base(x, severity):
    keep = SNOW_KEEP[severity - 1]
    gray = x @ np.array([0.299, 0.587, 0.114])
    return keep * x + (1 - keep) * np.maximum(x, gray[..., None] * 1.5 + 0.5)


def stats_224(images):
    """Statistics of the random corruptions on the 224-px images, averaged over REPEATS draws."""
    out = {}
    for name in ("gaussian_noise", "shot_noise", "speckle_noise", "impulse_noise", "snow", "spatter"):
        out[name] = {}
        for sev in range(1, 6):
            rows = []
            for i, img in enumerate(images):
                x = img / 255.0
                for r in range(REPEATS):
                    np.random.seed(1000 * sev + 10 * i + r)
                    y = corrupt(img, severity=sev, corruption_name=name) / 255.0
                    rows.append(_stat(name, x, y, sev))
            out[name][str(sev)] = {k: float(np.mean([row[k] for row in rows])) for k in rows[0]}
    out["glass_blur"] = {}
    for sev in range(1, 6):
        check_glass(images[0], sev, seed=sev)
        rows = [displacement_stats(glass_permutation(224, 224, sev, 50 + r), 224, 224) for r in range(3)]
        out["glass_blur"][str(sev)] = {k: float(np.mean([row[k] for row in rows])) for k in rows[0]}
    return out


def _stat(name, x, y, sev):
    if name == "impulse_noise":
        return {"replaced": float(np.mean(y != x))}
    if name == "snow":
        extra = y - snow_base(x, sev)
        return {"mean_added": float(extra.mean()), "coverage": float(np.mean(extra.mean(-1) > 0.1))}
    if name == "spatter":
        diff = np.abs(y - x).max(-1)
        return {"coverage": float(np.mean(diff > 3 / 255)), "mean_change": float(np.abs(y - x).mean())}
    added = y - x
    return {"mean": float(added.mean()), "std": float(added.std())}


def fixture(inputs_path, out_npz, out_json):
    data = np.load(inputs_path)
    natural = natural_images()  # [2, 224, 224, 3] uint8
    fm = data["fashion"]  # [N, 28, 28] uint8
    glass_n = int(data["glass_n"])
    arrays = {"natural": natural}
    meta = {"imagecorruptions": imagecorruptions.__name__, "versions": versions()}
    for name in DETERMINISTIC:
        arrays[f"det_{name}"] = np.stack(
            [[corrupt(img, severity=s, corruption_name=name) for img in natural] for s in range(1, 6)]
        )
    # Random corruptions whose draws are recorded, so that lkadv can replay them exactly.
    fog_maps, fog_out = [], []
    original = C.plasma_fractal
    for s in range(1, 6):
        captured = []

        def capture(*args, captured=captured, **kwargs):
            m = original(*args, **kwargs)
            captured.append(m.copy())
            return m

        C.plasma_fractal = capture
        np.random.seed(s)
        fog_out.append([corrupt(img, severity=s, corruption_name="fog") for img in natural])
        C.plasma_fractal = original
        fog_maps.append(np.stack([m[:224, :224] for m in captured]).astype(np.float32))
    arrays["det_fog"], arrays["fog_maps"] = np.stack(fog_out), np.stack(fog_maps)
    motion_out, motion_angles = [], []
    frost_out, frost_draws = [], []
    for s in range(1, 6):
        row, angles = [], []
        for img in natural:
            with Recorder("uniform") as rec:
                row.append(corrupt(img, severity=s, corruption_name="motion_blur"))
            angles.append(rec.values[0])
        motion_out.append(row)
        motion_angles.append(angles)
        row, draws = [], []
        for img in natural:
            with Recorder("randint") as rec:
                row.append(corrupt(img, severity=s, corruption_name="frost"))
            draws.append([rec.values[0], rec.values[1], rec.values[2]])
        frost_out.append(row)
        frost_draws.append(draws)
    arrays["det_motion_blur"], arrays["motion_angles"] = np.stack(motion_out), np.array(motion_angles)
    arrays["det_frost"], arrays["frost_draws"] = np.stack(frost_out), np.array(frost_draws)
    arrays.update(sized(natural))
    arrays.update(spatter_water(natural))
    arrays.update(snow_black())
    meta["crops"] = CROPS
    meta["stats_224"] = stats_224(natural)
    # Fashion-MNIST at 28 px: per-pixel corruptions on the 28-px grey image itself; spatial
    # ones at 224 px on the 8x nearest-enlarged image, turned grey (luma) and box-averaged back.
    fm_out = {}
    for name in PER_PIXEL:
        np.random.seed(7)
        fm_out[name] = np.stack(
            [
                [np.uint8(getattr(C, name)(Image.fromarray(img, mode="L"), severity=s)) for img in fm]
                for s in range(1, 6)
            ]
        )
    for name in SPATIAL_RANDOM:
        np.random.seed(11)
        images = fm[:glass_n] if name == "glass_blur" else fm
        sevs = []
        for s in range(1, 6):
            row = []
            for img in images:
                big = np.repeat(np.repeat(img, 8, 0), 8, 1)
                out = corrupt(big, severity=s, corruption_name=name).astype(np.float64) @ LUMA
                row.append(np.clip(np.round(out.reshape(28, 8, 28, 8).mean((1, 3))), 0, 255).astype(np.uint8))
            sevs.append(np.stack(row))
        fm_out[name] = np.stack(sevs)
    for name, arr in fm_out.items():
        arrays[f"fm_{name}"] = arr
    arrays["fashion"] = fm
    np.savez_compressed(out_npz, **arrays)
    with open(out_json, "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)


def sized(natural):
    """The deterministic size-relative corruptions on the crops (``size_<name>_<h>x<w>``: 5 severities)."""
    out = {}
    for key, (i, top, left, h, w) in CROPS.items():
        crop = np.ascontiguousarray(natural[i, top : top + h, left : left + w])
        for name in SIZED:
            out[f"size_{name}_{key}"] = np.stack([corrupt(crop, severity=s, corruption_name=name) for s in range(1, 6)])
    return out


class CannyTap:
    """Records the 8-bit liquid layer the reference hands to cv2.Canny, and the edges Canny returns."""

    def __init__(self):
        self.original = C.cv2.Canny
        self.calls = []

    def __enter__(self):
        def wrapped(image, *args, **kwargs):
            edges = self.original(image, *args, **kwargs)
            self.calls.append((image.copy(), edges.copy()))
            return edges

        C.cv2.Canny = wrapped  # the module object itself: restored on exit
        return self

    def __exit__(self, *exc):
        C.cv2.Canny = self.original


def spatter_water(natural):
    """Water spatter (severities 1-3) on both natural images, with the reference's layers and edge maps.

    The outputs are stored as ``(output - image) mod 256``: water only brightens,
    so the difference is mostly 0 and compresses to little (the output is 8-bit
    and truncated, so an untouched pixel can come out one level lower: 255).
    """
    layers, edges, deltas = [], [], []
    for s in SPATTER_WATER:
        row_l, row_e, row_d = [], [], []
        for i, img in enumerate(natural):
            np.random.seed(200 + 10 * s + i)
            with CannyTap() as tap:
                out = corrupt(img, severity=s, corruption_name="spatter")
            [(layer, edge)] = tap.calls
            row_l.append(layer)
            row_e.append(np.packbits(edge > 0, axis=-1))
            row_d.append((out.astype(np.int16) - img).astype(np.uint8))  # wraps: mod 256
        layers.append(row_l)
        edges.append(row_e)
        deltas.append(row_d)
    return {"spatter_layers": np.array(layers), "spatter_canny": np.array(edges), "spatter_delta": np.array(deltas)}


def snow_black():
    """Snow on a black 224-px image with the draws recorded (seed of the normal field, angle).

    Severities ``SNOW_OVERSIZE`` only: at the others the zoomed layer is exactly
    224 px and the crop changes nothing. On black every channel is the same, and
    the flakes are stored nearly unclipped (the whitened base is 0.1 to 0.225).

    The field is ``np.random.normal`` right after ``np.random.seed(seed)``: NumPy's
    legacy RandomState stream, which NumPy keeps stable, so a test regenerates it
    from the seed; its first values are stored to check that.
    """
    black = np.zeros((224, 224, 3), np.uint8)
    out, seeds, angles, heads = [], [], [], []
    for s in SNOW_OVERSIZE:
        seed = 300 + s
        np.random.seed(seed)
        with Recorder("normal") as normal, Recorder("uniform") as uniform:
            out.append(corrupt(black, severity=s, corruption_name="snow")[..., 0])  # grey: one channel
        seeds.append(seed)
        angles.append(uniform.values[0])
        heads.append(np.asarray(normal.values[0]).ravel()[:8])
    return {
        "snow_black": np.stack(out),
        "snow_severities": np.array(SNOW_OVERSIZE),
        "snow_seeds": np.array(seeds),
        "snow_angles": np.array(angles),
        "snow_field_head": np.array(heads),
    }


def natural_images():
    """scikit-image's astronaut (NASA, public domain) and chelsea (CC0), 224 x 224."""
    from skimage import data

    astronaut = Image.fromarray(data.astronaut()).resize((224, 224), Image.BICUBIC)
    cat = data.chelsea()
    h, w = cat.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    chelsea = Image.fromarray(cat[top : top + side, left : left + side]).resize((224, 224), Image.BICUBIC)
    return np.stack([np.asarray(astronaut), np.asarray(chelsea)])


def versions():
    import cv2
    import PIL
    import scipy
    import skimage

    return {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-image": skimage.__version__,
        "opencv": cv2.__version__,
        "Pillow": PIL.__version__,
        "imagecorruptions": "1.1.2",
    }


def speed(inputs_path, out_json, repeats):
    images = np.load(inputs_path)["natural"] if inputs_path != "-" else natural_images()
    names = imagecorruptions.get_corruption_names("all")
    result = {}
    for name in names:
        best = float("inf")
        for _ in range(2):  # best of two rounds: the least disturbed by other load
            n, t0 = 0, time.perf_counter()
            for s in range(1, 6):
                for img in images[:repeats]:
                    corrupt(img, severity=s, corruption_name=name)
                    n += 1
            best = min(best, time.perf_counter() - t0)
        result[name] = {"seconds": best, "images": n}
    with open(out_json, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    if sys.argv[1] == "fixture":
        fixture(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "speed":
        speed(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
