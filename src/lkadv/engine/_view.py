"""What a native attack differentiates: the model with BatchNorm folded away, parameters frozen.

A gradient attack needs the model's function, not its layer structure. The
copy from :func:`lkadv.models.fold_batchnorm` computes the same function
(differences of float rounding) and its forward plus input-gradient pass is
1.4-1.6x faster on CPU for networks with BatchNorm. The copy is built once per
model object and reused while none of the model's tensors changes (checked
through their version counters and storage, so an in-place weight update, a
move to another device or a cast rebuilds it).

Native attacks search with the copy; what they return is scored by the run on
the model itself, so a float near-tie decided differently by the copy can never
count an example that the model does not misclassify. Attacks with their own
reference implementation (AutoAttack, plugins) are not given the copy: their
results must match a direct run on the model bit for bit.

Only Classifiers (lkadv's model contract: eval-only, normalization inside) are
folded, alone or under a dataset head (:class:`~lkadv.models.HeadedClassifier`,
what ``lkadv run`` attacks: the head is kept, the classifier folded); any other
module is attacked as it is, since a traced copy would not run Python side
effects of its ``forward`` (counters, say) on the original.

:attr:`EngineOptions.fold_bn` false (``LKADV_FOLD_BN=0``) turns the copy off (for example to save the memory of the
folded kernels on a GPU near its limit).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from torch import nn

from lkadv.engine._folding import fold_batchnorm
from lkadv.engine._freeze import input_gradients_only
from lkadv.engine._options import engine_options
from lkadv.engine._trace import note_view
from lkadv.models import Classifier, HeadedClassifier

__all__ = ["attack_view"]

M = TypeVar("M")
_Key = tuple[tuple[int, int, int], ...]
_cache: weakref.WeakKeyDictionary[nn.Module, tuple[_Key, nn.Module]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _fingerprint(model: nn.Module) -> _Key:
    tensors = [*model.parameters(), *model.buffers()]
    # The storage address changes when a module is moved or cast (``.to()`` swaps ``.data``).
    return tuple((id(t), t._version, t.data_ptr()) for t in tensors)


def _build(model: Classifier | HeadedClassifier) -> nn.Module:
    clf = model.classifier if isinstance(model, HeadedClassifier) else model
    network, removed = fold_batchnorm(clf.network)
    if not removed:
        return model
    twin = clf.with_network(network)
    return model.with_classifier(twin) if isinstance(model, HeadedClassifier) else twin


def _fast(model: object) -> object:
    if not engine_options().fold_bn or not isinstance(model, Classifier | HeadedClassifier):
        return model
    key = _fingerprint(model)
    with _lock:
        hit = _cache.get(model)
        if hit is not None and hit[0] == key:
            twin = hit[1]
        else:
            twin = _build(model)
            _cache[model] = (key, twin)
    inner = twin.classifier if isinstance(twin, HeadedClassifier) else twin
    if isinstance(inner, Classifier) and twin is not model:
        # reassigned counters must keep counting
        inner.grad_stats = model.grad_stats
    return twin


@contextmanager
def attack_view(model: M) -> Iterator[M]:
    """Within the block, yields the model to differentiate (parameters frozen on both).

    Args:
        model: The model under attack (a Classifier; other modules and callables pass through).

    Yields:
        The BatchNorm-folded equivalent of ``model``, or ``model`` itself when
        it is not a Classifier, there is nothing to fold, or folding is off
        (:attr:`EngineOptions.fold_bn`).
    """
    twin = _fast(model)
    note_view(twin is not model)
    with input_gradients_only(model), input_gradients_only(twin):
        yield cast(M, twin)
