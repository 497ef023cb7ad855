"""What the plugin's own objects do, checked against independent references."""

import numpy as np
import pytest
import torch
from lkadv_example._attack import RandomNoise
from lkadv_example._corruption import BITS, posterize
from PIL import Image, ImageOps

from lkadv.models import build_classifier
from lkadv.plugins import PluginHost
from lkadv.specs import Preprocessing


@pytest.fixture(scope="module")
def host():
    return PluginHost(only=["example"])


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_posterize_matches_pil(severity):
    pixels = np.random.default_rng(severity).integers(0, 256, size=(9, 7, 3), dtype=np.uint8)
    reference = np.asarray(ImageOps.posterize(Image.fromarray(pixels), BITS[severity - 1]))
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    out = posterize(x, severity, torch.Generator())
    assert np.array_equal((out[0].permute(1, 2, 0) * 255).round().byte().numpy(), reference)


@pytest.fixture(scope="module")
def model_and_data(host):
    spec = host.registries.models.get("example-repcnn")
    dataset = host.registries.datasets.get("fashion-mnist")
    images = dataset.loader(None, Preprocessing.for_model(spec))
    positions = list(range(0, 10000, 50))
    classifier, report = build_classifier(spec)
    return classifier, report, images.load(positions), images.labels[positions]


def test_shipped_weights_classify_fashion_mnist(model_and_data):
    classifier, report, x, y = model_and_data
    assert report.merged and report.reparam_rel_err < 1e-5  # the 7x7 + 3x3 block was merged
    with torch.no_grad():
        accuracy = (classifier(x).argmax(1) == y).float().mean().item()
    assert accuracy > 0.8  # 0.8466 on the full test split when trained


def test_random_noise_attack_only_ever_raises_the_loss(model_and_data):
    classifier, _, x, y = model_and_data
    x_adv = RandomNoise("linf", draws=4)(classifier, x, y, 0.1, torch.Generator().manual_seed(0))
    with torch.no_grad():
        clean = torch.nn.functional.cross_entropy(classifier(x), y, reduction="none")
        attacked = torch.nn.functional.cross_entropy(classifier(x_adv), y, reduction="none")
    assert bool((attacked >= clean - 1e-6).all())
    assert float((x_adv - x).abs().amax()) <= 0.1 + 1e-6
    assert (classifier(x_adv).argmax(1) != y).sum() > (classifier(x).argmax(1) != y).sum()


def test_listing_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from lkadv.plugins import PluginHost; PluginHost(only=['example']); print('torch' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
