"""The hook reference (docs/plugins.md) and the hookspec docstrings cover every hook, and only real ones."""

import inspect
import re
import types
from pathlib import Path

import pytest

from lkadv.plugins import _hookspecs, hookspec
from lkadv.testing import CONTRACTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(lkadv_\w+)\(([^)]*)\)`", re.MULTILINE)


def hookspecs(module):
    """Hook name -> function, for every function marked as a hookspec."""
    return {
        name: fn
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and getattr(fn, f"{_hookspecs.PROJECT}_spec", None) is not None
    }


def reference_problems(specs, docs):
    """Everything wrong between the hookspecs and the docs page, as sentences."""
    documented = {name: [a.strip() for a in args.split(",") if a.strip()] for name, args in HEADING.findall(docs)}
    problems = []
    for name, fn in specs.items():
        params = list(inspect.signature(fn).parameters)
        if name not in documented:
            problems.append(f"hook {name} has no '### `{name}(...)`' entry in docs/plugins.md")
        elif documented[name] != params:
            problems.append(f"docs/plugins.md documents {name}({', '.join(documented[name])}), the hook takes {params}")
        doc = inspect.getdoc(fn) or ""
        for part, pattern in (
            ("when it is called", r"\bCalled\b"),
            ("its return value", r"^Returns:"),
            ("the version it was added in", r"^Added in \d+\.\d+"),
        ):
            if not re.search(pattern, doc, re.MULTILINE):
                problems.append(f"the docstring of {name} does not say {part}")
        args = doc.split("Args:", 1)[1].split("Returns:", 1)[0] if "Args:" in doc else ""
        problems += [
            f"the docstring of {name} does not describe parameter {p!r}"
            for p in params
            if not re.search(rf"^\s+{p}:", args, re.MULTILINE)
        ]
    problems += [f"docs/plugins.md documents {name}, which is not a hook" for name in documented if name not in specs]
    return problems


def test_every_hook_is_documented_and_every_documented_hook_exists():
    assert hookspecs(_hookspecs), "no hookspecs found"
    assert reference_problems(hookspecs(_hookspecs), DOCS.read_text()) == []


def test_a_new_undocumented_hook_is_reported():
    extra = types.ModuleType("extra")

    @hookspec
    def lkadv_register_losses(registry):
        """Register losses."""

    extra.lkadv_register_losses = lkadv_register_losses
    problems = reference_problems({**hookspecs(_hookspecs), **hookspecs(extra)}, DOCS.read_text())
    assert "hook lkadv_register_losses has no '### `lkadv_register_losses(...)`' entry in docs/plugins.md" in problems
    assert "the docstring of lkadv_register_losses does not say the version it was added in" in problems
    assert "the docstring of lkadv_register_losses does not describe parameter 'registry'" in problems


def test_a_removed_hook_still_documented_is_reported():
    specs = hookspecs(_hookspecs)
    del specs["lkadv_doctor_checks"]
    assert reference_problems(specs, DOCS.read_text()) == [
        "docs/plugins.md documents lkadv_doctor_checks, which is not a hook"
    ]


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_every_kit_contract_is_explained(contract):
    assert f"| `{contract}` |" in DOCS.read_text()
