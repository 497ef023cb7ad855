"""Shared settings of the plugin's tests."""

# Parameters that keep every attack to a fraction of a second on tiny inputs.
FAST = {
    "ta-pgd": {"steps": 3},
    "ta-pgdl2": {"steps": 3},
    "ta-mifgsm": {"steps": 3},
    "ta-tifgsm": {"steps": 3, "len_kernel": 3},
    "ta-difgsm": {"steps": 3},
    "ta-eotpgd": {"steps": 2},
    "ta-vmifgsm": {"steps": 2, "N": 2},
    "ta-nifgsm": {"steps": 3},
    "ta-jitter": {"steps": 3},
    "ta-apgd": {"steps": 3},
    "ta-apgdt": {"steps": 3, "n_classes": 4},
    "ta-fab": {"steps": 3, "n_classes": 4},
    "ta-square": {"n_queries": 20},
    "ta-autoattack": {"n_classes": 4},
    "ta-cw": {"steps": 5},
    "ta-deepfool": {"steps": 3},
    "ta-onepixel": {"steps": 2, "popsize": 2},
}
