"""Build the reference venv and (re)write the corruption fixture under tests/corruptions/data/.

The reference ``imagecorruptions`` 1.1.2 no longer imports with current NumPy
(``np.float_``), setuptools (``pkg_resources``) and scikit-image
(``multichannel=``). This script makes a separate virtual environment with the
pins below, runs ``_icref_worker.py`` there (lkadv never imports the reference)
and stores its outputs as test data.

    python bench/corruption_fixture.py [--venv DIR] [--python PYTHON3.10] [--out DIR]

Fixture contents (``icref_fixture.npz.xz``: an .npz, xz-compressed; uint8 unless stated):
  natural                 2 x 224 x 224 x 3: scikit-image's astronaut and chelsea
  det_<name>              5 severities x 1 image (astronaut): the deterministic corruptions
  det_fog, fog_maps       fog, and the plasma maps it drew (float16)
  det_motion_blur, motion_angles, det_frost, frost_draws: outputs and recorded draws
  fashion                 N x 28 x 28 Fashion-MNIST test images (25 a class)
  fm_<name>               5 x N x 28 x 28: the 11 random corruptions at 28 px
                          (glass blur: the first GLASS_N images only)
``icref_fixture.json`` holds the statistics of the random corruptions measured
on the reference outputs at 224 px, and the versions used.
"""

from __future__ import annotations

import argparse
import io
import lzma
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PINS = (
    "numpy==1.26.4",
    "scipy==1.11.4",
    "scikit-image==0.19.3",  # the last release that accepts multichannel=
    "Pillow==10.4.0",
    "opencv-python-headless==4.8.1.78",  # provides cv2 without libGL
    "setuptools==69.5.1",  # pkg_resources (removed in setuptools 81)
)
REFERENCE = "imagecorruptions==1.1.2"  # installed with --no-deps (it asks for opencv-python)
PER_CLASS = 20
GLASS_N = 60


def find_python() -> str:
    candidates = [
        shutil.which("python3.10"),
        *map(str, sorted(Path.home().glob(".pyenv/versions/3.10*/bin/python3.10"))),
    ]
    for path in filter(None, candidates):
        # A pyenv shim exists even where that version is not selected: check it runs.
        if subprocess.run([path, "--version"], capture_output=True).returncode == 0:
            return path
    raise SystemExit("no python3.10 found (scikit-image 0.19.3 has no wheels for newer Pythons); pass --python")


def ensure_venv(venv: Path, python: str) -> Path:
    exe = venv / "bin" / "python"
    marker = venv / "lkadv-pins.txt"
    wanted = "\n".join((*PINS, REFERENCE))
    if exe.exists() and marker.exists() and marker.read_text() == wanted:
        return exe
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", *PINS], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "--no-deps", REFERENCE], check=True)
    marker.write_text(wanted)
    return exe


def fashion_images() -> np.ndarray:
    sys.path.insert(0, str(ROOT / "src"))
    from lkadv.datasets._fashion_mnist import load_split

    images, labels = load_split("test")
    picks = np.concatenate([np.flatnonzero(labels == c)[:PER_CLASS] for c in range(10)])
    return images[np.sort(picks)]


def pack(raw: Path, out: Path) -> None:
    """Keep the first natural image's 224-px outputs, store maps as float16, and xz-compress (size budget)."""
    with np.load(raw) as data:
        arrays = {k: data[k] for k in data.files}
    for key in [k for k in arrays if k.startswith("det_")] + ["motion_angles", "frost_draws", "fog_maps"]:
        arrays[key] = arrays[key][:, :1]
    arrays["fog_maps"] = arrays["fog_maps"].astype(np.float16)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    tmp.replace(out)  # never a half-written fixture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=HERE / ".icref-venv")
    parser.add_argument("--python", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "corruptions" / "data")
    parser.add_argument("--pack-only", type=Path, default=None, help="only pack a raw fixture .npz written earlier")
    args = parser.parse_args()
    if args.pack_only:
        pack(args.pack_only, args.out / "icref_fixture.npz.xz")
        return
    exe = ensure_venv(args.venv, args.python or find_python())
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.npz"
        np.savez(inputs, fashion=fashion_images(), glass_n=GLASS_N)
        npz, js = Path(tmp) / "fixture.npz", Path(tmp) / "fixture.json"
        subprocess.run(
            [str(exe), str(HERE / "_icref_worker.py"), "fixture", str(inputs), str(npz), str(js)], check=True
        )
        pack(npz, args.out / "icref_fixture.npz.xz")
        shutil.move(js, args.out / "icref_fixture.json")
    size = (args.out / "icref_fixture.npz.xz").stat().st_size
    print(f"wrote {args.out / 'icref_fixture.npz.xz'} ({size / 1e6:.2f} MB) and icref_fixture.json")


if __name__ == "__main__":
    main()
