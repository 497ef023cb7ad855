"""``lkadv doctor``: versions, devices, precision support, datasets, executors and plugins."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from lkadv.cli._common import get_host, out_console, print_json
from lkadv.reporters import as_text

__all__ = ["doctor"]


def _datasets(host: Any) -> list[dict[str, Any]]:
    from lkadv._imports import resolve
    from lkadv.datasets import find_root

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
                counter = resolve(spec.counter) if isinstance(spec.counter, str) else spec.counter
                try:
                    row["images"] = counter(path)
                except Exception as exc:  # doctor reports problems, it never crashes on them
                    row["status"] = f"broken: {exc}"
        rows.append(row)
    return rows


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Show versions, device, precision support, dataset roots and plugin status."""
    import torch

    from lkadv.executors import executor_status, pick_device, precision_support
    from lkadv.store import package_versions

    host = get_host(ctx, warn=not as_json)
    device = pick_device("auto")
    report: dict[str, Any] = {
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
    }
    if as_json:
        print_json(report)
        return
    out_console.print("[bold]versions[/]  " + "  ".join(f"{k} {v or '-'}" for k, v in report["versions"].items()))
    out_console.print(
        f"[bold]device[/]    {device} (threads {report['torch_threads']}); CUDA devices: "
        f"{', '.join(report['cuda']['devices']) or 'none'}"
    )
    out_console.print("[bold]precision[/] " + "  ".join(f"{k}: {v}" for k, v in report["precision"].items()))
    table = Table(title="datasets", title_justify="left")
    for col in ("dataset", "status", "root", "from", "images"):
        table.add_column(col)
    for row in report["datasets"]:
        table.add_row(
            *(as_text(v) for v in (row["name"], row["status"], row["root"] or "-", row["source"])),
            as_text(row.get("images", "-")),
        )
    out_console.print(table)
    table = Table(title="executors", title_justify="left")
    for col in ("executor", "available", "detail"):
        table.add_column(col)
    for name, row in report["executors"].items():
        ok = as_text("yes", "green") if row["available"] else as_text("no", "red")
        table.add_row(as_text(name), ok, as_text(row["detail"]))
    out_console.print(table)
    sections: dict[str, list[dict[str, str]]] = {}
    for check in report["checks"]:
        sections.setdefault(check["section"], []).append(check)
    for section, checks in sections.items():
        table = Table(title=as_text(section), title_justify="left")
        for col in ("name", "status", "detail"):
            table.add_column(col)
        for c in checks:
            style = {"ok": "green", "missing": "yellow", "warn": "yellow"}.get(c["status"], "red")
            table.add_row(as_text(c["name"]), as_text(c["status"], style), as_text(c["detail"]))
        out_console.print(table)
    table = Table(title="plugins", title_justify="left")
    table.add_column("plugin")
    table.add_column("status")
    for name, status in report["plugins"].items():
        table.add_row(as_text(name), as_text(status))
    out_console.print(table)
