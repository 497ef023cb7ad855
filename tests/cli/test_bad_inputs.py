"""Bad input, table-driven: each case exits 2 with a message naming the problem, and writes nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from lkadv.cli import main

RUN = ["run", "-m", "fm-resnet", "--limit", "10"]

# (id, arguments after `lkadv`, files to write first {name: content}, the message's words)
CASES = [
    ("eps-inf", [*RUN, "-a", "fgsm", "--eps", "inf"], {}, "eps must be a finite number"),
    ("eps-nan", [*RUN, "-a", "fgsm", "--eps", "nan"], {}, "eps must be a finite number"),
    ("eps-negative", [*RUN, "-a", "fgsm", "--eps", "-1/255"], {}, "eps must be a finite number >= 0"),
    ("eps-text", [*RUN, "-a", "fgsm", "--eps", "abc"], {}, "is not a radius"),
    ("linf-eps-above-1", [*RUN, "-a", "fgsm", "--eps", "300/255"], {}, "anything above 1 covers every image"),
    ("linf-eps-8", [*RUN, "-a", "pgd", "--eps", "8"], {}, "did you mean 8/255?"),
    ("severity-6", [*RUN, "-c", "fog", "--severities", "3,6"], {}, "6 is not one of them"),
    ("severity-0", [*RUN, "-c", "fog", "--severities", "0"], {}, "expected an integer >= 1"),
    ("device-meta", [*RUN, "--device", "meta"], {}, "cannot run models"),
    ("device-nonsense", [*RUN, "--device", "gpu7"], {}, "is not a device"),
    ("device-cuda-absent", [*RUN, "--device", "cuda:7"], {}, "cuda"),
    ("toml-eps-bool", [*RUN, "-a", "fgsm", "--config", "c.toml"], {"c.toml": "[run]\neps = true\n"}, "expected radii"),
    (
        "toml-severities-text",
        [*RUN, "-c", "fog", "--config", "c.toml"],
        {"c.toml": "[run]\nseverities = 'x'\n"},
        "expected an integer",
    ),
    ("toml-unknown-key", [*RUN, "--config", "c.toml"], {"c.toml": "[run]\nlimitt = 3\n"}, "unknown key [run].limitt"),
    ("toml-broken", [*RUN, "--config", "c.toml"], {"c.toml": "[run\n"}, "is not valid TOML"),
    ("subset-empty", [*RUN[:3], "--subset", "file:ids.txt"], {"ids.txt": "\n"}, "lists no sample id"),
    ("subset-binary", [*RUN[:3], "--subset", "file:ids.txt"], {"ids.txt": b"\xff\xfe\x00"}, "cannot be read as UTF-8"),
    ("subset-unknown-ids", [*RUN[:3], "--subset", "file:ids.txt"], {"ids.txt": "nope/1\n"}, "not in the dataset"),
    ("subset-and-limit", [*RUN, "--subset", "fixed-10"], {}, "either --subset or --limit"),
    ("run-dir-empty", [*RUN, "--run-dir", ""], {}, "the run directory is empty"),
    ("run-dir-under-a-file", [*RUN, "--run-dir", "afile/sub"], {"afile": "x"}, "cannot create run directory"),
    ("run-dir-is-a-file", [*RUN, "--run-dir", "afile"], {"afile": "x"}, "exists and is not a folder"),
    (
        "plugin-module-raises",
        ["-p", "boom_mod", *RUN],
        {"boom_mod.py": "raise RuntimeError('boom [/]')\n"},
        "raised RuntimeError on import: boom [/]",
    ),
    ("plugin-module-missing", ["-p", "no_such_mod_xyz", *RUN], {}, "cannot import plugin module"),
    ("model-markup", ["run", "-m", "[/]", "--limit", "10"], {}, "'[/]'"),
    ("model-unknown", ["run", "-m", "fm-resnt"], {}, "closest: fm-resnet"),
    ("attack-unknown", [*RUN, "-a", "pgdd"], {}, "unknown attack 'pgdd'"),
    ("attack-param-unknown", [*RUN, "-a", "pgd", "--attack-param", "pgd.stepz=3"], {}, "stepz"),
    ("engine-switch", [*RUN], {}, "environment variable LKADV_FOLD_BN"),
    (
        "dataset-root-missing",
        ["run", "-m", "timm:test_resnet[pretrained=false]", "-d", "imagenet-a"],
        {},
        '[data] imagenet-a = "PATH"',
    ),
    ("report-missing", ["report", "nothing"], {}, "is not a run directory"),
    ("report-not-a-run", ["report", "adir"], {"adir/readme": "x"}, "is not a run directory"),
    ("report-garbage", ["report", "adir"], {"adir/ledger.sqlite": "garbage" * 100}, "not a readable lkadv ledger"),
    ("report-zero-bytes", ["report", "adir"], {"adir/ledger.sqlite": b""}, "not a readable lkadv ledger"),
    ("report-format", ["report", "adir", "-f", "pdf"], {"adir/ledger.sqlite": b""}, "pdf"),
]
ENV = {"engine-switch": {"LKADV_FOLD_BN": "maybe"}, "dataset-root-missing": {"LKADV_IMAGENET_A": ""}}


@pytest.mark.parametrize(("case", "args", "files", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_names_the_problem_and_writes_nothing(tmp_path, monkeypatch, case, args, files, words):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    env = {"LKADV_RUN_DIR": str(tmp_path / "run"), **ENV.get(case, {})}
    res = CliRunner().invoke(main, args, env=env)
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert words in res.output, res.output
    assert "Traceback" not in res.output
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert after == before  # nothing written, nothing changed
    assert not (tmp_path / "run").exists()
