"""A plugin whose ModelSpec breaks a field (three mean values for one channel)."""

from lkadv import ModelSpec, hookimpl


@hookimpl
def lkadv_register_models(registry):
    registry.register(
        ModelSpec(
            name="bad-mean",
            family="f",
            factory="m:f",
            label_space="x",
            num_classes=2,
            input_size=(1, 4, 4),
            mean=(0.5, 0.5, 0.5),
            std=(0.5,),
        )
    )
