import pytest
import torch

from lkadv import CorruptionSpec
from lkadv.testing import ContractViolation, check_corruption


def gaussian(x, severity, generator):
    sigma = (0.04, 0.06, 0.08, 0.09, 0.10)[severity - 1]
    return (x + sigma * torch.randn(x.shape, generator=generator)).clamp(0, 1)


def darken(x, severity, generator):
    return x * (1 - 0.15 * severity)


def spec(fn, **kw):
    return CorruptionSpec(name="fake", fn=fn, **kw)


def test_correct_corruptions_pass():
    for s in (spec(gaussian, random=True, category="noise"), spec(darken, category="digital")):
        result = check_corruption(s)
        assert set(result.values()) == {"ok"} and len(result) == 6


@pytest.mark.parametrize(
    ("fn", "kw", "contract", "words"),
    [
        (lambda x, s, g: x + 0.1 * s, {}, "corruption.range", "outside [0, 1]"),
        (lambda x, s, g: x * float("nan"), {}, "corruption.range", "NaN"),
        (lambda x, s, g: x[..., 1:, :], {}, "corruption.shape", "turned [2, 1, 17, 23] into [2, 1, 16, 23]"),
        (lambda x, s, g: x.double(), {}, "corruption.dtype", "torch.float64"),
        (lambda x, s, g: x.mul_(0.5), {}, "corruption.dtype", "in place"),
        (
            lambda x, s, g: gaussian(x, s, torch.Generator().manual_seed(int(torch.randint(9, ())))),
            {"random": True},
            "corruption.determinism",
            "global RNG",
        ),
        (gaussian, {"random": False}, "corruption.determinism", "declare random=True"),
        (
            lambda x, s, g: darken(x, 6 - s, g),
            {},
            "corruption.severity-monotonic",
            "severity 2 moves the fixed image less",
        ),
        (darken, {"severities": (0, 1, 2)}, "corruption.metadata", "field 'severities'"),
        (darken, {"severities": (1, 3)}, "corruption.metadata", "expected (1, 2)"),
        (darken, {"category": "blurry"}, "corruption.metadata", "category 'blurry'"),
    ],
    ids=[
        "range",
        "nan",
        "shape",
        "dtype",
        "in-place",
        "global-rng",
        "random-undeclared",
        "order",
        "sev0",
        "gap",
        "category",
    ],
)
def test_broken_corruptions_fail_the_contract_they_break(fn, kw, contract, words):
    with pytest.raises(ContractViolation) as err:
        check_corruption(spec(fn, **kw), contracts=[contract])
    assert str(err.value).startswith(contract + ": ")
    assert "'fake'" in str(err.value) and words in str(err.value)


def test_unknown_contract_is_a_config_error():
    from lkadv.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown corruption contract"):
        check_corruption(spec(darken), contracts=["corruption.colour"])
