"""The model contract at run time: the Classifier wrapper, safe checkpoints, merging, BatchNorm folding, identity."""

from typing import TYPE_CHECKING

from lkadv._lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.models._build import BuildReport, build_classifier, reparameterize
    from lkadv.models._checkpoints import load_into, read_state_dict, state_dict_misfit
    from lkadv.models._classifier import PRECISIONS, Classifier, GradStats, adapt_output
    from lkadv.models._folding import fold_batchnorm
    from lkadv.models._fusion import fuse_conv_bn, pad_kernel_to
    from lkadv.models._headed import HeadedClassifier
    from lkadv.models._identity import ModelIdentity, identify_network

__all__ = [
    "PRECISIONS",
    "BuildReport",
    "Classifier",
    "GradStats",
    "HeadedClassifier",
    "ModelIdentity",
    "adapt_output",
    "build_classifier",
    "fold_batchnorm",
    "fuse_conv_bn",
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
        "PRECISIONS": "lkadv.models._classifier",
        "Classifier": "lkadv.models._classifier",
        "GradStats": "lkadv.models._classifier",
        "adapt_output": "lkadv.models._classifier",
        "BuildReport": "lkadv.models._build",
        "build_classifier": "lkadv.models._build",
        "reparameterize": "lkadv.models._build",
        "load_into": "lkadv.models._checkpoints",
        "read_state_dict": "lkadv.models._checkpoints",
        "state_dict_misfit": "lkadv.models._checkpoints",
        "fold_batchnorm": "lkadv.models._folding",
        "fuse_conv_bn": "lkadv.models._fusion",
        "pad_kernel_to": "lkadv.models._fusion",
        "HeadedClassifier": "lkadv.models._headed",
        "ModelIdentity": "lkadv.models._identity",
        "identify_network": "lkadv.models._identity",
    },
)
