"""``python -m lkadv``."""

from lkadv.cli import main

main(prog_name="lkadv")
