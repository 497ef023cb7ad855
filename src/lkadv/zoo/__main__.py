"""``python -m lkadv.zoo``: retrain the mini zoo and rewrite its manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from lkadv.zoo._train import train_zoo


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and train."""
    parser = argparse.ArgumentParser(prog="python -m lkadv.zoo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--download", action="store_true", help="fetch the train split if missing")
    parser.add_argument("names", nargs="*", help="zoo entries to train (default: all)")
    args = parser.parse_args(argv)
    train_zoo(args.out, args.names, seed=args.seed, download=args.download)


if __name__ == "__main__":
    main()
