"""An lkadv plugin: the hook implementations lkadv calls when it starts.

The entry point ``example = "lkadv_example"`` (pyproject.toml) points at this
module. Registering is cheap: specs hold references (``"module:attribute"``),
so listing never imports torch or builds a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lkadv import AttackSpec, CorruptionSpec, ModelSpec, Param, hookimpl
from lkadv_example._weights import WEIGHTS_SHA256

if TYPE_CHECKING:
    from lkadv.registries import Registry

__all__ = ["lkadv_register_attacks", "lkadv_register_corruptions", "lkadv_register_models"]

__version__ = "0.1.0"

# Fashion-MNIST train-split statistics: the network was trained on (x - MEAN) / STD,
# and lkadv applies exactly this inside its Classifier wrapper.
MEAN = (0.2860,)
STD = (0.3530,)


@hookimpl
def lkadv_register_models(registry: Registry[ModelSpec]) -> None:
    """Register the example model."""
    registry.register(
        ModelSpec(
            name="example-repcnn",
            family="repcnn",
            factory="lkadv_example._model:load_pretrained",
            label_space="fashion-mnist",
            num_classes=10,
            input_size=(1, 28, 28),
            mean=MEAN,
            std=STD,
            interpolation="bilinear",
            tags=frozenset({"cnn", "large-kernel", "example"}),
            kernel_sizes=(3, 7, 3),
            weights_id=f"sha256:{WEIGHTS_SHA256}",
            description="lkadv-example: small CNN with a re-parameterizable 7x7 block",
            source="lkadv-example (python -m lkadv_example.train)",
        )
    )


@hookimpl
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register the example attack."""
    registry.register(
        AttackSpec(
            name="example-random-noise",
            norms=("linf", "l2"),
            factory="lkadv_example._attack:RandomNoise",
            params={"draws": Param(default=8, type="int", minimum=1, help="random points tried per sample")},
            backend="lkadv-example",
            backend_version=__version__,
            tags=frozenset({"black-box", "random", "example"}),
            description="best of N random points of the eps ball (a baseline)",
        )
    )


@hookimpl
def lkadv_register_corruptions(registry: Registry[CorruptionSpec]) -> None:
    """Register the example corruption."""
    registry.register(
        CorruptionSpec(
            name="example-posterize",
            fn="lkadv_example._corruption:posterize",
            category="digital",
            random=False,
            tags=frozenset({"example"}),
            description="keep 5, 4, 3, 2 or 1 bits per channel",
        )
    )
