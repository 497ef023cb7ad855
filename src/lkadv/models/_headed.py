"""A classifier followed by a dataset's head: the model as a run scores and attacks it."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from lkadv.models._classifier import Classifier
from lkadv.models._gradients import GradStats

__all__ = ["HeadedClassifier"]


class HeadedClassifier(nn.Module):
    """A classifier followed by a dataset's head (label-space mapping, e.g. ImageNet-A's 200 classes).

    Args:
        classifier: The model.
        head: Logits in the model's label space -> logits in the dataset's, or None.
    """

    def __init__(self, classifier: Classifier, head: Callable[[torch.Tensor], torch.Tensor] | None) -> None:
        super().__init__()
        self.classifier = classifier
        self.head = head

    @property
    def precision(self) -> str:
        """The wrapped classifier's precision."""
        return self.classifier.precision

    @property
    def grad_stats(self) -> GradStats:
        """The wrapped classifier's input-gradient counters."""
        return self.classifier.grad_stats

    def with_classifier(self, classifier: Classifier) -> HeadedClassifier:
        """The same head over another classifier (the attack engine's folded twin)."""
        return HeadedClassifier(classifier, self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(x)
        return self.head(logits) if self.head is not None else logits
