import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lkadv import ModelSpec
from lkadv.testing import ContractViolation, check_model
from lkadv.testing._inputs import TinyNet

LEVELS = (0.2, 0.4, 0.6, 0.8)
MEAN, STD = 0.5, 0.25


class Brightness(nn.Module):
    """A "trained" network in closed form: the class is the brightness level, in normalized units.

    It expects z = (x - MEAN) / STD, like a network trained on normalized images: its
    class centres are the levels normalized that way, so any other normalization
    moves the images away from their centres.
    """

    def __init__(self, normalize_inside: bool = False) -> None:
        super().__init__()
        self.register_buffer("centres", (torch.tensor(LEVELS) - MEAN) / STD)
        self.normalize_inside = normalize_inside

    def forward(self, z):
        if self.normalize_inside:  # the plugin author's wrapper normalizes again
            z = (z - MEAN) / STD
        level = z.mean((1, 2, 3))
        return -((level[:, None] - self.centres[None, :]) ** 2) * 10


def brightness_sample(n=64):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 4
    x = torch.tensor(LEVELS)[y].view(-1, 1, 1, 1) + 0.05 * torch.randn((n, 1, 8, 8), generator=g)
    return x.clamp(0, 1), y


def spec(factory=Brightness, **kw):
    base = dict(
        name="bright",
        family="closed-form",
        factory=factory,
        label_space="brightness",
        num_classes=4,
        input_size=(1, 8, 8),
        mean=(MEAN,),
        std=(STD,),
    )
    base.update(kw)
    return ModelSpec(**base)


def test_a_conforming_model_passes_every_contract():
    result = check_model(spec(), sample=brightness_sample())
    assert result == {
        "model.metadata": "ok",
        "model.builds": "ok",
        "model.output-shape": "ok",
        "model.input-range": "ok",
        "model.gradients": "ok",
        "model.eval-mode": "ok",
        "model.batch-invariance": "ok",
        "model.normalization-inside": "ok",
        # no reparameterize(): there is nothing to check, and the kit says so instead of "ok"
        "model.reparam-equivalence": "skipped: the network has no reparameterize(): nothing to merge",
    }


def test_normalization_left_out_of_the_spec_is_caught():
    # The author normalized in the data pipeline and declared identity.
    with pytest.raises(ContractViolation, match=r"^model\.normalization-inside: .*sample's own statistics") as err:
        check_model(spec(mean=(0.0,), std=(1.0,)), sample=brightness_sample(), contracts=["model.normalization-inside"])
    assert "1.000" in str(err.value)  # the better accuracy is shown


def test_normalization_done_twice_is_caught():
    net = lambda: Brightness(normalize_inside=True)  # noqa: E731
    with pytest.raises(ContractViolation, match=r"^model\.normalization-inside: .*raw \[0,1\] pixels.*second time"):
        check_model(spec(factory=net), sample=brightness_sample(), contracts=["model.normalization-inside"])


def test_wrong_statistics_are_caught():
    with pytest.raises(ContractViolation, match=r"^model\.normalization-inside: .*mean \(0\.2,\)"):
        check_model(spec(mean=(0.2,), std=(0.5,)), sample=brightness_sample(), contracts=["model.normalization-inside"])


def test_normalization_is_skipped_without_data_or_without_training():
    result = check_model(spec(label_space="nowhere"), contracts=["model.normalization-inside"])
    assert result["model.normalization-inside"].startswith("skipped: no registered dataset scores label space")
    untrained = spec(factory=lambda: TinyNet(1, 4), num_classes=4)
    result = check_model(untrained, sample=brightness_sample(), contracts=["model.normalization-inside"])
    assert "needs trained weights" in result["model.normalization-inside"]


class DropoutNet(TinyNet):
    def forward(self, x):
        return F.dropout(super().forward(x), 0.5)  # training=True by default: train mode left on


class StuckInTraining(TinyNet):
    def train(self, mode=True):
        return super().train(True)


class BatchStats(TinyNet):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.bn = nn.BatchNorm2d(8, track_running_stats=False)  # always the batch's own statistics


class CountsCalls(TinyNet):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls += 1
        return super().forward(x)


class Detached(TinyNet):
    def forward(self, x):
        return super().forward(x.detach())


class LogOfInput(TinyNet):
    def forward(self, x):
        return super().forward(torch.log(x * 0.25 + 0.5))  # -inf on a black image (x = -2 after normalization)


class BadMerge(TinyNet):
    def reparameterize(self):
        with torch.no_grad():
            self.fc.bias.add_(0.5)


def tiny(factory, **kw):
    return spec(factory=lambda: factory(1, 4), **kw)


@pytest.mark.parametrize(
    ("factory", "contract", "words"),
    [
        (DropoutNet, "model.eval-mode", "two passes"),
        (StuckInTraining, "model.eval-mode", "stay in training mode"),
        (CountsCalls, "model.eval-mode", "changed ['calls']"),
        (BatchStats, "model.batch-invariance", "one by one"),
        (Detached, "model.gradients", "no gradient reaches the input"),
        (LogOfInput, "model.input-range", "all-black"),
        (BadMerge, "model.reparam-equivalence", "reparam_rtol"),
    ],
)
def test_broken_models_fail_the_contract_they_break(factory, contract, words):
    healthy = check_model(tiny(TinyNet), contracts=[contract])[contract]
    assert healthy == "ok" or (contract == "model.reparam-equivalence" and healthy.startswith("skipped"))
    with pytest.raises(ContractViolation) as err:
        check_model(tiny(factory), contracts=[contract])
    assert str(err.value).startswith(contract + ": model 'bright'")
    assert words in str(err.value)
    assert err.value.contract == contract


def test_output_shape_and_factory_failures():
    with pytest.raises(ContractViolation, match=r"^model\.output-shape: .*expected logits of shape \[N, 5\]"):
        check_model(tiny(TinyNet, num_classes=5), contracts=["model.output-shape"])
    with pytest.raises(ContractViolation, match=r"^model\.builds: .*returned dict, not nn\.Module"):
        check_model(spec(factory=dict), contracts=["model.builds"])


def test_metadata_names_the_field():
    bad = dataclasses.replace(spec(), tags=frozenset({"Large Kernel"}))
    with pytest.raises(ContractViolation, match=r"^model\.metadata: .*tags must be lowercase"):
        check_model(bad, contracts=["model.metadata"])
    bad = dataclasses.replace(spec(), mean=(0.5, 0.5))
    with pytest.raises(ContractViolation, match=r"^model\.metadata: ModelSpec 'bright': field 'mean'"):
        check_model(bad, contracts=["model.metadata"])
