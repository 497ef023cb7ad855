"""The package's public surface is exact and resolves lazily."""

import lkadv_largekernel


def test_all_is_exact_and_resolves():
    assert sorted(lkadv_largekernel.__all__) == sorted(
        [
            "ARCHITECTURES",
            "REPARAM_RTOL",
            "WEIGHTS",
            "ArchInfo",
            "RepLKNet",
            "SLaK",
            "Source",
            "UniRepLKNet",
            "WeightsEntry",
            "__version__",
            "build",
            "find_weights",
            "load_official",
            "load_pretrained",
            "obtain_weights",
            "register_timm_models",
        ]
    )
    for name in lkadv_largekernel.__all__:
        assert getattr(lkadv_largekernel, name) is not None
    assert sorted(dir(lkadv_largekernel)) == sorted(n for n in lkadv_largekernel.__all__ if n != "__version__")
