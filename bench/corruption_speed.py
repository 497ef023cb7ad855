"""Throughput of lkadv's 19 corruptions over the reference imagecorruptions, side by side, at 224 px.

    python bench/corruption_speed.py [--batch 64] [--ref-images 2] [--device cpu] [--threads N]

The reference runs in its own venv (built by bench/corruption_fixture.py) in a
subprocess, one image at a time over severities 1..5, on the two fixture images;
lkadv runs on a batch of those images (repeated) on the chosen device. Both run
in the same invocation, one after the other, with the same thread count, and
each figure is the best of two rounds.
Prints images/s of each and the ratio (lkadv / reference) per corruption, for
glass blur, and overall (total time of the whole set per image).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))


def reference_times(venv: Path, images: int, threads: int) -> dict[str, float]:
    from corruption_fixture import ensure_venv, find_python

    exe = ensure_venv(venv, find_python())
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speed.json"
        subprocess.run(
            [str(exe), str(HERE / "_icref_worker.py"), "speed", "-", str(out), str(images)], check=True, env=env
        )
        data = json.loads(out.read_text())
    return {name: v["seconds"] / v["images"] for name, v in data.items()}


def lkadv_times(batch: int, device: str) -> dict[str, float]:
    import numpy as np
    import torch

    from lkadv.corruptions import CATALOG, get_corruption

    fixture = ROOT / "tests" / "corruptions" / "data" / "icref_fixture.npz"
    natural = (
        np.load(fixture)["natural"] if fixture.exists() else np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3))
    )
    x = torch.from_numpy(np.asarray(natural, dtype=np.float32) / 255).permute(0, 3, 1, 2)
    x = x.repeat((batch + 1) // 2, 1, 1, 1)[:batch].contiguous().to(device)
    out = {}
    for entry in CATALOG:
        fn = get_corruption(entry.name)
        gen = torch.Generator(device=x.device).manual_seed(0)
        fn(x[:2], 1, gen)  # warm caches (kernels, frost photographs)
        best = float("inf")
        for _ in range(2):  # best of two rounds, as for the reference
            if x.device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for severity in range(1, 6):
                fn(x, severity, gen)
            if x.device.type == "cuda":
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        out[entry.name] = best / (5 * batch)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--ref-images", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")))
    parser.add_argument("--venv", type=Path, default=HERE / ".icref-venv")
    parser.add_argument("--skip-reference", type=Path, default=None, help="reuse reference timings from a JSON file")
    parser.add_argument("--save-reference", type=Path, default=None, help="write the reference timings to a JSON file")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.skip_reference:
        ref = json.loads(args.skip_reference.read_text())
    else:
        ref = reference_times(args.venv, args.ref_images, args.threads)
        if args.save_reference:
            args.save_reference.write_text(json.dumps(ref))
    ours = lkadv_times(args.batch, args.device)
    print(f"224 px, severities 1-5, {args.threads} thread(s); lkadv on {args.device}, batch {args.batch}")
    print(f"{'corruption':20s} {'ref img/s':>10s} {'lkadv img/s':>12s} {'ratio':>8s}")
    for name in ours:
        print(f"{name:20s} {1 / ref[name]:10.2f} {1 / ours[name]:12.1f} {ref[name] / ours[name]:8.1f}")
    total_ref, total_ours = sum(ref.values()), sum(ours.values())
    print(f"{'whole set (19)':20s} {1 / total_ref:10.3f} {1 / total_ours:12.2f} {total_ref / total_ours:8.1f}")
    print(
        f"ratio overall: {total_ref / total_ours:.1f}   ratio glass_blur: {ref['glass_blur'] / ours['glass_blur']:.1f}"
    )


if __name__ == "__main__":
    main()
