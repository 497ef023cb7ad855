"""Corruption threats in the matrix: each corrupted batch is made once and shared by the models."""

import pytest
import torch

from lkadv import CorruptionSpec, hookimpl
from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import run
from tests import toy_plugin

CALLS: list[tuple[int, tuple[int, ...]]] = []


def counting_fog(x, severity, generator):
    CALLS.append((severity, tuple(x.shape)))
    noise = torch.rand(x.shape, generator=generator, device=x.device)
    return (x * (1 - 0.2 * severity) + 0.2 * severity * noise).clamp(0, 1)


def bad_range(x, severity, generator):
    return x + 2.0


def bad_dtype(x, severity, generator):
    return x.double()


class _Counting:
    @staticmethod
    @hookimpl
    def lkadv_register_corruptions(registry):
        registry.register(CorruptionSpec(name="count-fog", fn=counting_fog, random=True, severities=(1, 2)))
        registry.register(CorruptionSpec(name="bad-range", fn=bad_range, severities=(1,)))
        registry.register(CorruptionSpec(name="bad-dtype", fn=bad_dtype, severities=(1,)))


@pytest.fixture(scope="module")
def host():
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("count", _Counting)])


def test_one_corrupted_batch_per_threat_and_shard_shared_by_models(tmp_path, host):
    CALLS.clear()
    opts = load_options(
        dict(
            models="tag:toy", dataset="toy", corruptions="count-fog", severities="1,2", shard_size=100, run_dir=tmp_path
        ),
        env={},
        config_file=None,
    )
    result = run(opts, host=host)
    assert not result.failures
    # 2 models share a preprocessing: 2 severities x 4 shards calls, not 2 x 4 x 2.
    assert len(CALLS) == 2 * 4
    assert sorted(s for s, _ in CALLS) == [1] * 4 + [2] * 4
    cells = [c for c in result.summary.cells if c.kind == "corruption"]
    assert {c.model for c in cells} == {"toy-0", "toy-1"} and len(cells) == 4
    # A second run reuses everything and corrupts nothing.
    CALLS.clear()
    again = run(opts, host=host)
    assert again.computed_units == 0 and CALLS == []


@pytest.mark.parametrize(("name", "message"), [("bad-range", "outside [0, 1]"), ("bad-dtype", "torch.float64")])
def test_corruption_results_are_checked(tmp_path, host, name, message):
    opts = load_options(
        dict(models="toy-0", dataset="toy", corruptions=name, severities="1", run_dir=tmp_path),
        env={},
        config_file=None,
    )
    result = run(opts, host=host)
    assert result.failures
    failed = [c for c in result.summary.cells if c.status == "failed"]
    assert failed and message in failed[0].info["error"]
