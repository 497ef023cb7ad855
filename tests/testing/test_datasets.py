import numpy as np
import pytest
import torch

from lkadv import DatasetSpec
from lkadv.datasets import ArrayImageSet
from lkadv.errors import DataError
from lkadv.testing import ContractViolation, check_dataset


def good_loader(root, preprocessing):
    files = sorted(root.glob("*.npy"))
    if not files:
        raise DataError(f"{root} holds no .npy files; expected layout: one images.npy and one labels.npy")
    return ArrayImageSet(np.load(root / "images.npy"), np.load(root / "labels.npy"), ["a", "b", "c"], preprocessing)


@pytest.fixture
def root(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    np.save(d / "images.npy", np.arange(3 * 10 * 12, dtype=np.uint8).reshape(3, 10, 12))
    np.save(d / "labels.npy", np.array([0, 2, 1]))
    return d


def spec(loader=good_loader, **kw):
    base = dict(name="fake", label_space="fake", num_classes=3, loader=loader, root_folder="fake", layout="images.npy")
    base.update(kw)
    return DatasetSpec(**base)


def test_shipped_fashion_mnist_and_a_good_dataset_pass(host, root):
    result = check_dataset(host.registries.datasets.get("fashion-mnist"))
    assert set(result.values()) == {"ok"}
    assert set(check_dataset(spec(), root=root).values()) == {"ok"}


def test_samples_are_skipped_without_data():
    assert check_dataset(spec(), contracts=["dataset.samples"])["dataset.samples"].startswith("skipped: no data here")


def test_an_unclear_error_for_an_empty_root_is_caught(root):
    def loader(root, preprocessing):
        return ArrayImageSet(np.load(root / "images.npy"), np.load(root / "labels.npy"), [], preprocessing)

    with pytest.raises(
        ContractViolation, match=r"^dataset\.layout: dataset 'fake': an empty root raised FileNotFoundError"
    ):
        check_dataset(spec(loader), root=root, contracts=["dataset.layout"])


def test_layout_must_be_described():
    with pytest.raises(ContractViolation, match=r"^dataset\.metadata: .*field 'layout' is empty"):
        check_dataset(spec(layout=""), contracts=["dataset.metadata"])


@pytest.mark.parametrize(
    ("labels", "words"),
    [(np.array([0, 3, 1]), "labels span [0, 3], outside [0, 3)"), (np.array([0, 1]), "3 ids but 2 labels")],
)
def test_bad_samples_are_caught(root, labels, words):
    np.save(root / "labels.npy", labels)
    with pytest.raises(ContractViolation, match=r"^dataset\.samples: ") as err:
        check_dataset(spec(), root=root, contracts=["dataset.samples"])
    assert words in str(err.value)


def mask_head(logits):
    return logits[:, [0, 2, 4]]


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (lambda logits: logits[:, :2], "expected [4, 3]"),
        (lambda logits: mask_head(logits) - mask_head(logits).mean(0), "depends on the other rows"),
        (lambda logits: mask_head(logits).detach(), "no gradient flows"),
    ],
)
def test_broken_heads_fail_the_score_contract(head, words):
    assert check_dataset(spec(head=mask_head), model_classes=5, contracts=["dataset.score"])["dataset.score"] == "ok"
    with pytest.raises(ContractViolation, match=r"^dataset\.score: ") as err:
        check_dataset(spec(head=head), model_classes=5, contracts=["dataset.score"])
    assert words in str(err.value)


def test_score_takes_the_logit_count_from_a_registered_model(host):
    result = check_dataset(spec(head=mask_head, accepts=("fashion-mnist",)), host=host, contracts=["dataset.score"])
    assert result == {"dataset.score": "ok"}
    torch.manual_seed(0)
