"""Report sections about attacks: sanity flags, and reduced precision against fp32.

Everything here is read back from the ledger (cell and unit infos, cell
accuracies); nothing is recomputed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from lkadv.metrics import CellResult, ReportSection, Summary
from lkadv.store import Ledger

__all__ = ["SQUARE_ALPHA", "precision_section", "sanity_section"]

# AutoAttack's own rule: Square (black box) breaking more than 0.2% of the samples the
# gradient attacks left means the gradients were not reliable.
SQUARE_ALPHA = 0.002
_TUNING = ("steps", "restarts")
_CHECK_NAMES = {
    "deterministic": "repeated forward passes give equal logits",
    "batch_invariant": "logits do not depend on the batch",
    "gradients": "no all-zero input gradient (clean points)",
    "large_eps": "L-inf eps 0.5 brings accuracy to chance",
    "aa_randomized": "AutoAttack: not a randomized defense",
    "aa_softmax": "AutoAttack: logits, not probabilities",
    "probe": "model probe",
}


def _acc(cell: CellResult) -> float | None:
    return cell.accuracy.value if cell.accuracy is not None and cell.status != "failed" else None


def _v(cell: CellResult) -> float:
    return cell.accuracy.value if cell.accuracy is not None else float("nan")


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _attack_cells(summary: Summary) -> list[CellResult]:
    return [c for c in summary.cells if c.kind == "attack" and _acc(c) is not None]


def _configs(ledger: Ledger, summary: Summary) -> dict[str, dict[str, Any]]:
    rows = ledger.cells(summary.run["id"])
    return {r.key: dict(r.threat.get("config", {})) for r in rows}


def _unit_sum(infos: Iterable[dict[str, Any]], *path: str) -> int:
    total = 0
    for info in infos:
        value: Any = info
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        total += int(value) if isinstance(value, int | float) else 0
    return total


def _probe_rows(summary: Summary) -> tuple[list[list[Any]], int]:
    rows, passed = [], 0
    for cell in summary.cells:
        sanity = cell.info.get("sanity") if cell.kind == "clean" else None
        if not sanity:
            continue
        for name, result in sanity.get("checks", {}).items():
            if result.get("ok"):
                passed += 1
            else:
                rows.append([cell.model, _CHECK_NAMES.get(name, name), "FLAG", result.get("detail", "")])
    return rows, passed


def _eps_rows(cells: list[CellResult]) -> tuple[list[list[Any]], int]:
    rows, passed = [], 0
    groups: dict[tuple[str, str], list[CellResult]] = {}
    for c in cells:
        groups.setdefault((c.model, c.threat_id.rsplit("@", 1)[0]), []).append(c)
    for group in groups.values():
        group.sort(key=lambda c: c.eps or 0.0)
        for small, large in itertools.pairwise(group):
            a, b = _v(small), _v(large)
            if b > a:
                rows.append(
                    [
                        large.model,
                        "robust accuracy never rises with eps",
                        "FLAG",
                        f"{small.label} {_pct(a)} < {large.label} {_pct(b)}",
                    ]
                )
            else:
                passed += 1
    return rows, passed


def _tuning_rows(cells: list[CellResult], configs: dict[str, dict[str, Any]]) -> tuple[list[list[Any]], int]:
    rows, passed = [], 0
    groups: dict[tuple[Any, ...], list[CellResult]] = {}
    for c in cells:
        cfg = configs.get(c.key, {})
        if not any(k in cfg for k in _TUNING):
            continue
        rest = tuple(sorted((k, str(v)) for k, v in cfg.items() if k not in _TUNING and k != "seed"))
        groups.setdefault((c.model, c.name, c.eps, rest), []).append(c)
    for group in groups.values():
        for a, b in itertools.permutations(group, 2):
            ca, cb = configs[a.key], configs[b.key]
            fewer = all((ca.get(k) or 0) <= (cb.get(k) or 0) for k in _TUNING)
            if not fewer or all(ca.get(k) == cb.get(k) for k in _TUNING):
                continue
            acc_a, acc_b = _v(a), _v(b)
            if acc_b > acc_a:
                rows.append(
                    [
                        b.model,
                        "more steps or restarts never raise robust accuracy",
                        "FLAG",
                        f"{a.label} steps={ca.get('steps')} restarts={ca.get('restarts')}: {_pct(acc_a)} < "
                        f"steps={cb.get('steps')} restarts={cb.get('restarts')}: {_pct(acc_b)}",
                    ]
                )
            else:
                passed += 1
    return rows, passed


def _fgsm_rows(cells: list[CellResult], configs: dict[str, dict[str, Any]]) -> tuple[list[list[Any]], int]:
    rows, passed = [], 0
    for f in (c for c in cells if c.name == "fgsm"):
        norm = configs.get(f.key, {}).get("norm")
        for p in (c for c in cells if c.name == "pgd" and c.model == f.model and c.eps == f.eps):
            if configs.get(p.key, {}).get("norm") != norm:
                continue
            acc_f, acc_p = _v(f), _v(p)
            if acc_f < acc_p:
                rows.append(
                    [f.model, "FGSM never beats PGD", "FLAG", f"{f.label} {_pct(acc_f)} < {p.label} {_pct(acc_p)}"]
                )
            else:
                passed += 1
    return rows, passed


def _unit_rows(cells: list[CellResult], ledger: Ledger) -> tuple[list[list[Any]], int]:
    rows, passed = [], 0
    for c in cells:
        infos = ledger.unit_infos(c.key)
        for check in (_gradient_flag, _precision_flag, _square_flag, _shadow_flags):
            flags, ok = check(c, infos)
            rows += [[c.model, *flag] for flag in flags]
            passed += ok
    return rows, passed


_Flags = tuple[list[list[str]], int]


def _gradient_flag(c: CellResult, infos: list[dict[str, Any]]) -> _Flags:
    zero = _unit_sum(infos, "gradients", "zero_rows")
    bad = _unit_sum(infos, "gradients", "nonfinite_rows")
    total = _unit_sum(infos, "gradients", "rows")
    if zero or bad:
        detail = f"{c.label}: {zero} all-zero and {bad} overflowed of {total} sample gradients"
        return [["no all-zero gradient during the attack", "FLAG", detail]], 0
    return [], int(bool(total))


def _precision_flag(c: CellResult, infos: list[dict[str, Any]]) -> _Flags:
    rejected = _unit_sum(infos, "precision", "rejected_by_fp32")
    if not rejected:
        return [], 0
    claimed = _unit_sum(infos, "precision", "claimed")
    detail = (
        f"{c.label}: {rejected} of {claimed} examples adversarial at reduced precision "
        "were not adversarial in fp32 (not counted)"
    )
    return [["reduced-precision examples hold in fp32", "FLAG", detail]], 0


def _square_flag(c: CellResult, infos: list[dict[str, Any]]) -> _Flags:
    stages = [s for i in infos for s in i.get("stages", []) if s.get("name") == "square"]
    if not stages:
        return [], 0
    square = sum(s.get("broken", 0) for s in stages)
    n = c.accuracy.n if c.accuracy else 0
    if n and square / n > SQUARE_ALPHA:
        detail = (
            f"{c.label}: Square broke {square} of {n} samples ({_pct(square / n)}) the gradient attacks "
            "left: gradients are unreliable"
        )
        return [["AutoAttack: Square adds nothing to the gradient attacks", "FLAG", detail]], 0
    return [], 1


def _shadow_flags(c: CellResult, infos: list[dict[str, Any]]) -> _Flags:
    flags, passed = [], 0
    for info in infos:
        shadow = info.get("shadow")
        if not (shadow and shadow.get("n")):
            continue
        if shadow["robust_reduced"] - shadow["robust_fp32"] >= max(2, 0.02 * shadow["n"]):
            detail = (
                f"{c.label}: on {shadow['n']} shadow samples, robust {shadow['robust_reduced']} at "
                f"reduced precision vs {shadow['robust_fp32']} at fp32"
            )
            flags.append(["reduced precision does not weaken the attack", "FLAG", detail])
        else:
            passed += 1
    return flags, passed


def sanity_section(summary: Summary, ledger: Ledger) -> ReportSection | None:
    """Flags a reviewer would raise, or one line saying that every check passed."""
    cells = _attack_cells(summary)
    probe_rows, probe_passed = _probe_rows(summary)
    if not cells and not probe_rows and not probe_passed:
        return None
    configs = _configs(ledger, summary)
    rows: list[list[Any]] = list(probe_rows)
    passed = probe_passed
    for part_rows, part_passed in (
        _eps_rows(cells),
        _tuning_rows(cells, configs),
        _fgsm_rows(cells, configs),
        _unit_rows(cells, ledger),
    ):
        rows += part_rows
        passed += part_passed
    notes = [f"{passed} checks passed, {len(rows)} flagged"]
    details = [
        "checks: deterministic and batch-independent logits; non-zero input gradients (clean points and "
        "during attacks); accuracy at chance for L-inf eps 0.5; AutoAttack's randomization, softmax and "
        "Square checks; robust accuracy never rising with eps, steps or restarts; FGSM never beating PGD; "
        "reduced-precision examples holding in fp32 and the fp32 shadow agreeing",
    ]
    if not rows:
        rows = [["all", "every check", "ok", f"{passed} checks passed"]]
    return ReportSection(
        title="sanity flags",
        columns=["model", "check", "result", "detail"],
        rows=rows,
        notes=notes,
        key="sanity",
        details=details,
    )


def precision_section(summary: Summary, ledger: Ledger) -> ReportSection | None:
    """Robust accuracy at the run's reduced precision against fp32, on each cell's shadow samples."""
    rows = []
    for c in _attack_cells(summary):
        infos = ledger.unit_infos(c.key)
        prec = next((i["precision"]["attack"] for i in infos if "precision" in i), None)
        if prec is None:
            continue
        shadow = next((i["shadow"] for i in infos if i.get("shadow", {}).get("n")), None)
        n = shadow["n"] if shadow else 0
        rows.append(
            [
                c.model,
                c.label,
                prec,
                n,
                100 * shadow["robust_fp32"] / n if shadow else None,
                100 * shadow["robust_reduced"] / n if shadow else None,
                100 * shadow["divergence"] if shadow else None,
                _unit_sum(infos, "precision", "claimed"),
                _unit_sum(infos, "precision", "rejected_by_fp32"),
                _unit_sum(infos, "gradients", "zero_rows"),
                _unit_sum(infos, "gradients", "nonfinite_rows"),
            ]
        )
    if not rows:
        return None
    return ReportSection(
        title="mixed precision: robust accuracy at reduced precision vs fp32 (shadow samples, %)",
        columns=[
            "model",
            "threat",
            "precision",
            "shadow n",
            "robust fp32",
            "robust reduced",
            "divergence (pp)",
            "claimed",
            "rejected by fp32",
            "zero grads",
            "overflowed grads",
        ],
        rows=rows,
        notes=[
            "divergence = robust accuracy at reduced precision minus fp32, same samples and seed; > 0: the "
            "reduced-precision attack is weaker",
            "claimed/rejected: examples adversarial at reduced precision, and those fp32 re-scoring did not confirm "
            "(never counted as broken)",
        ],
        key="precision",
    )
