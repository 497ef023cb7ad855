"""``--save-examples N``: the adversarial examples of an attack cell's first N samples, kept as 8-bit images.

The examples (and the clean images they start from, for reports) go to the
run directory's example store under ``cell-<cell key>-<shard>[-clean]`` (see
:class:`lkadv.store.ExampleStore`) before the unit is committed. They are a by-product for reports (an HTML page showing
them): the unit's figures come from the float examples the attack returned, so
saving changes no outcome and is not part of the cell's key. A sample the
attack did not run on (wrong when clean, fooled at a smaller eps) is kept as
its clean image. Under L-inf the 8-bit image stays in the eps ball; under other
norms it is only rounded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from lkadv.planner import Plan, Unit
from lkadv.store import ExampleSet, ExampleStore, cell_examples_key, quantize_uint8

__all__ = ["ExampleKeeper"]


class ExampleKeeper:
    """Collects a unit's first examples while its attack runs, then stores them.

    Args:
        plan: The run plan (``options.save_examples``, run directory, subset).
        unit: The attack unit.
        x: The shard's clean images.
        y: Their labels.
    """

    def __init__(self, plan: Plan, unit: Unit, x: torch.Tensor, y: torch.Tensor) -> None:
        self.plan, self.unit = plan, unit
        self.count = max(0, min(len(x), plan.options.save_examples - unit.start))
        self.x = x[: self.count].detach()
        self.adv = self.x.clone()
        self.y = y[: self.count].cpu().numpy()

    def add(self, sel: np.ndarray, x_adv: torch.Tensor) -> None:
        """Keep the examples of the batch ``sel`` (shard positions) that fall in the first ``count``."""
        mine = sel < self.count
        if self.count and bool(mine.any()):
            rows = torch.as_tensor(np.flatnonzero(mine), device=x_adv.device)
            self.adv[torch.as_tensor(sel[mine], device=self.adv.device)] = x_adv[rows].to(self.adv.device)

    def save(self, predict: Callable[[torch.Tensor], np.ndarray]) -> str | None:
        """Store the kept examples and their clean images (None when there are none); returns the examples' sha256.

        Args:
            predict: The fp32 scoring model's predictions for a float batch. Each set
                records what it predicts on the stored 8-bit images themselves, so a set
                reloaded from the run directory re-scores exactly as recorded.
        """
        if self.count == 0:
            return None
        threat = self.unit.cell.threat
        eps = float(threat.eps or 0.0) if threat.norm == "linf" else 1.0
        x = self.x.double().cpu().numpy()
        meta = {
            "model": self.unit.cell.model.name,
            "threat": threat.id,
            "eps": threat.eps,
            "shard": self.unit.shard,
            "pred": "the fp32 model on the stored 8-bit images",
        }
        indices = np.arange(self.unit.start, self.unit.start + self.count)
        ids = [str(self.plan.subset.ids[i]) for i in indices]
        store = ExampleStore(self.plan.options.run_dir)
        for images, clean in (
            (quantize_uint8(x, x, 1.0), True),
            (quantize_uint8(self.adv.double().cpu().numpy(), x, eps), False),
        ):
            floats = torch.from_numpy(images.astype(np.float32) / 255.0).to(self.x.device)
            examples = ExampleSet(indices, ids, images, self.y, np.asarray(predict(floats), np.int64), meta)
            digest = store.put(cell_examples_key(self.unit.cell.key, self.unit.shard, clean=clean), examples)
        return digest
