"""The model contract at run time: the Classifier wrapper, safe checkpoints, merging, identity."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.models._build import BuildReport, build_classifier, reparameterize
    from lkadv.models._built import Identified, identify_models
    from lkadv.models._checkpoints import load_into, read_state_dict, state_dict_misfit
    from lkadv.models._classifier import Classifier, adapt_output, autocast_dtype
    from lkadv.models._fusion import bn_affine, fuse_conv_bn, pad_kernel_to
    from lkadv.models._gradients import LOSS_SCALE_TARGET, GradStats
    from lkadv.models._headed import HeadedClassifier
    from lkadv.models._identity import ModelIdentity, identify_network

__all__ = [
    "LOSS_SCALE_TARGET",
    "BuildReport",
    "Classifier",
    "GradStats",
    "HeadedClassifier",
    "Identified",
    "ModelIdentity",
    "adapt_output",
    "autocast_dtype",
    "bn_affine",
    "build_classifier",
    "fuse_conv_bn",
    "identify_models",
    "identify_network",
    "load_into",
    "pad_kernel_to",
    "read_state_dict",
    "reparameterize",
    "state_dict_misfit",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Classifier": "lkadv.models._classifier",
        "adapt_output": "lkadv.models._classifier",
        "autocast_dtype": "lkadv.models._classifier",
        "LOSS_SCALE_TARGET": "lkadv.models._gradients",
        "GradStats": "lkadv.models._gradients",
        "BuildReport": "lkadv.models._build",
        "build_classifier": "lkadv.models._build",
        "reparameterize": "lkadv.models._build",
        "Identified": "lkadv.models._built",
        "identify_models": "lkadv.models._built",
        "load_into": "lkadv.models._checkpoints",
        "read_state_dict": "lkadv.models._checkpoints",
        "state_dict_misfit": "lkadv.models._checkpoints",
        "bn_affine": "lkadv.models._fusion",
        "fuse_conv_bn": "lkadv.models._fusion",
        "pad_kernel_to": "lkadv.models._fusion",
        "HeadedClassifier": "lkadv.models._headed",
        "ModelIdentity": "lkadv.models._identity",
        "identify_network": "lkadv.models._identity",
    },
)
