import pytest

from lkadv.errors import ConfigError, SpecError
from lkadv.specs import AttackSpec, CorruptionSpec, DatasetSpec, ModelSpec, Param


def _model(**kw):
    base = dict(
        name="m",
        family="f",
        factory="a:b",
        label_space="x",
        num_classes=10,
        input_size=(3, 8, 8),
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
    )
    base.update(kw)
    return ModelSpec(**base)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"factory": "nocolon"}, "factory"),
        ({"num_classes": 1}, "num_classes"),
        ({"input_size": (3, 8)}, "input_size"),
        ({"mean": (0.5,)}, "mean"),
        ({"std": (0.5, 0.5, 0.0)}, "std"),
        ({"interpolation": "cubic"}, "interpolation"),
        ({"crop_pct": 1.5}, "crop_pct"),
        ({"clean_accuracy": 91.0}, "clean_accuracy"),
        ({"tags": {"a"}}, "tags"),
    ],
)
def test_model_spec_errors_name_the_field(kw, field):
    with pytest.raises(SpecError, match=rf"field '{field}'" if field != "name" else "field 'name'"):
        _model(**kw).validate()


def test_model_spec_valid_and_described():
    spec = _model(tags=frozenset({"b", "a"}))
    spec.validate()
    assert spec.describe()["tags"] == ["a", "b"]


def test_attack_resolve_and_params():
    spec = AttackSpec(
        name="a",
        norms=("linf", "l2"),
        factory="x:y",
        params={
            "steps": Param(default=10, type="int", minimum=1),
            "alpha": Param(default=0.25, type="float"),
            "rs": Param(default=True, type="bool"),
            "loss": Param(default="ce", type="str", choices=("ce", "margin")),
            "size": Param(default=None, type="float", nullable=True),
        },
    )
    spec.validate()
    assert spec.resolve() == {"norm": "linf", "steps": 10, "alpha": 0.25, "rs": True, "loss": "ce", "size": None}
    got = spec.resolve({"norm": "L2", "steps": "20", "alpha": "1/8", "rs": "off", "size": "none"})
    assert got == {"norm": "l2", "steps": 20, "alpha": 0.125, "rs": False, "loss": "ce", "size": None}
    with pytest.raises(ConfigError, match="supports norms"):
        spec.resolve({"norm": "l1"})
    with pytest.raises(ConfigError, match=r"no parameter\(s\) \['step'\]"):
        spec.resolve({"step": 3})
    with pytest.raises(ConfigError, match="must be >= 1"):
        spec.resolve({"steps": 0})
    with pytest.raises(ConfigError, match="one of"):
        spec.resolve({"loss": "dlr"})
    with pytest.raises(ConfigError, match="expects int"):
        spec.resolve({"steps": "ten"})


def test_attack_spec_rejects_bad_defaults_and_norms():
    with pytest.raises(SpecError, match="'norms'"):
        AttackSpec(name="a", norms=("l3",), factory="x:y").validate()
    with pytest.raises(SpecError, match=r"'params.k'"):
        AttackSpec(name="a", norms=("linf",), factory="x:y", params={"k": Param(default="x", type="int")}).validate()


def test_corruption_and_dataset_specs():
    CorruptionSpec(name="fog", fn="a:b").validate()
    with pytest.raises(SpecError, match="'severities'"):
        CorruptionSpec(name="fog", fn="a:b", severities=(0,)).validate()
    with pytest.raises(SpecError, match="'root_folder'"):
        DatasetSpec(name="d", label_space="x", num_classes=3, loader="a:b").validate()
    spec = DatasetSpec(
        name="imagenet-r", label_space="imagenet-1k", num_classes=200, loader="a:b", root_folder="imagenet-r"
    )
    spec.validate()
    assert spec.env_var == "LKADV_DATA_IMAGENET_R"
