"""Identity of the shipped weights (kept free of torch: registering must stay cheap)."""

__all__ = ["WEIGHTS_FILE", "WEIGHTS_SHA256"]

WEIGHTS_FILE = "example-repcnn.safetensors"
# Printed by `python -m lkadv_example.train` (3 epochs, seed 0: 0.8466 on the 10k test split);
# checked before every load.
WEIGHTS_SHA256 = "24ffbef247632382f744e364890774f98c559b7a4d2bd7764a41e32d9afe3ef6"
