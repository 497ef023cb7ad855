"""``lkadv doctor``: versions, devices, precision support, datasets, executors and plugins."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from lkadv.cli._common import get_host, out_console, print_json
from lkadv.config import explain_settings
from lkadv.reporters import as_text

__all__ = ["doctor"]


def _datasets(host: Any) -> list[dict[str, Any]]:
    from lkadv.datasets import find_root
    from lkadv.types import resolve

    rows = []
    for spec in host.registries.datasets:
        path, source = find_root(spec)
        row: dict[str, Any] = {"name": spec.name, "source": source, "root": str(path) if path else None}
        if path is None:
            row["status"] = "shipped" if spec.shipped else f"missing: set {spec.env_var} or LKADV_DATA_ROOT"
        elif not path.is_dir():
            row["status"] = f"missing: {path} is not a folder"
        else:
            row["status"] = "found"
            if spec.counter is not None:
                counter = resolve(spec.counter)
                try:
                    row["images"] = counter(path)
                except Exception as exc:  # doctor reports problems, it never crashes on them
                    row["status"] = f"broken: {exc}"
        rows.append(row)
    return rows


def _print_settings(rows: list[dict[str, str]]) -> None:
    keys = ("name", "value", "source", "variable")
    _table(
        "settings (flag > environment > config file > default)",
        ("setting", "value", "from", "variable"),
        [tuple(row[k] for k in keys) for row in rows],
    )


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Show versions, device, precision support, dataset roots, every setting and where it came from, and plugins."""
    host = get_host(ctx, warn=not as_json)
    report = _report(host)
    if as_json:
        print_json(report)
        return
    out_console.print("[bold]versions[/]  " + "  ".join(f"{k} {v or '-'}" for k, v in report["versions"].items()))
    out_console.print(
        f"[bold]device[/]    {report['device']} (threads {report['torch_threads']}); CUDA devices: "
        f"{', '.join(report['cuda']['devices']) or 'none'}"
    )
    out_console.print("[bold]precision[/] " + "  ".join(f"{k}: {v}" for k, v in report["precision"].items()))
    _table("datasets", ("dataset", "status", "root", "from", "images"), _dataset_rows(report["datasets"]))
    executors = [
        (name, as_text("yes", "green") if row["available"] else as_text("no", "red"), row["detail"])
        for name, row in report["executors"].items()
    ]
    _table("executors", ("executor", "available", "detail"), executors)
    sections: dict[str, list[dict[str, str]]] = {}
    for check in report["checks"]:
        sections.setdefault(check["section"], []).append(check)
    for section, checks in sections.items():
        styles = {"ok": "green", "missing": "yellow", "warn": "yellow"}
        rows = [(c["name"], as_text(c["status"], styles.get(c["status"], "red")), c["detail"]) for c in checks]
        _table(section, ("name", "status", "detail"), rows)
    _print_settings(report["settings"])
    _table("plugins", ("plugin", "status"), list(report["plugins"].items()))


def _report(host: Any) -> dict[str, Any]:
    import torch

    from lkadv.executors import executor_status, pick_device, precision_support
    from lkadv.store import package_versions

    device = pick_device("auto")
    return {
        "versions": package_versions(),
        "device": str(device),
        "cuda": {
            "available": torch.cuda.is_available(),
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        },
        "torch_threads": torch.get_num_threads(),
        "precision": precision_support(device),
        "datasets": _datasets(host),
        "executors": executor_status([spec.name for spec in host.registries.executors]),
        "plugins": {p.name: p.status + (f": {p.errors[0]}" if p.errors else "") for p in host.plugins.values()},
        "checks": [vars(c) for c in host.collect("lkadv_doctor_checks")],
        "settings": [dataclasses.asdict(s) for s in explain_settings()],
    }


def _dataset_rows(datasets: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["name"], r["status"], r["root"] or "-", r["source"], r.get("images", "-")) for r in datasets]


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One titled table; every cell shown as text (plugin-provided values included)."""
    table = Table(title=as_text(title), title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(v if isinstance(v, Text) else as_text(v) for v in row))
    out_console.print(table)
