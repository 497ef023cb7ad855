"""The run's data step: find the dataset root, load its samples, draw the subset, prepare the images.

This is where a run first touches files (the plan itself reads none): a root
that is not configured or does not exist is reported here, naming the setting
to change (exit status 2).
"""

from __future__ import annotations

from typing import Any

from lkadv.config import RunOptions
from lkadv.datasets import FileImageSet, load_imageset, prepare_imagesets, resolve_root
from lkadv.errors import DataError
from lkadv.planner import Plan, PlanData, Subset, draw_subset, make_plan
from lkadv.plugins import PluginHost
from lkadv.specs import ImageSet, LoadContext

__all__ = ["plan_run", "prepare_data"]


def _context(plan: Plan, host: PluginHost) -> LoadContext:
    """The loader's context: bad-image policy, decoding workers, companion datasets' roots."""
    options, dataset = plan.options, plan.dataset
    companions = {}
    for name in dataset.companions:
        try:
            root = resolve_root(host.registries.datasets.get(name), options.data_roots, options.environment)
        except DataError as exc:
            raise DataError(f"dataset {dataset.name!r} also reads dataset {name!r}: {exc}") from exc
        if root is not None:
            companions[name] = root
    return LoadContext(options.on_bad_image, options.decode_workers(), companions)


def prepare_data(plan: Plan, host: PluginHost) -> Plan:
    """The plan bound to its samples: loaded under every preprocessing, subset drawn, images prepared.

    Args:
        plan: A plan from :func:`lkadv.planner.make_plan`.
        host: The plugins the plan was made with (for companion datasets).

    Returns:
        ``plan.with_data(...)``: cells keyed on the subset, units available.

    Raises:
        DataError: If the root is missing (naming the setting), the loader fails,
            the dataset is empty, or preprocessings list different samples.
    """
    options, dataset = plan.options, plan.dataset
    root = resolve_root(dataset, options.data_roots, options.environment)
    context = _context(plan, host)
    pres = plan.preprocessings()
    first = load_imageset(dataset, root, pres[0], context)
    if len(first.ids) == 0:
        raise DataError(f"dataset {dataset.name!r} at {root} holds no samples")
    imagesets: dict[str, ImageSet] = {pres[0].key(): first}
    for pre in pres[1:]:
        imageset = load_imageset(dataset, root, pre, context)
        if list(imageset.ids) != list(first.ids):
            raise DataError(f"dataset {dataset.name!r} lists other samples under preprocessing {pre.key()}")
        imagesets[pre.key()] = imageset
    subset, info = _prepare(plan, imagesets, draw_subset(first, options, dataset))
    return plan.with_data(PlanData(root, context, imagesets, subset, info))


def _prepare(plan: Plan, imagesets: dict[str, ImageSet], subset: Subset) -> tuple[Subset, dict[str, Any]]:
    """Decode the subset once for every preprocessing into the prepared-data cache; drop unreadable images."""
    options = plan.options
    first = next(iter(imagesets.values()))
    info: dict[str, Any] = dict(first.info)
    files = [im for im in imagesets.values() if isinstance(im, FileImageSet)]
    if not files:
        return subset, info
    report = prepare_imagesets(
        files,
        subset.positions,
        subset.digest,
        options.prepared_cache(),
        on_bad_image=options.on_bad_image,
        workers=options.decode_workers(),
    )
    info.update(report.as_dict())
    if report.bad_positions:
        groups = getattr(first, "groups", None)
        drop = set(report.bad_positions)
        if groups is not None:  # a broken video takes all its frames with it
            broken = {groups[p] for p in drop}
            drop |= {p for p in subset.positions if groups[p] in broken}
        subset = subset.without(sorted(drop), "unreadable (--on-bad-image skip)")
    return subset, info


def plan_run(options: RunOptions, host: PluginHost) -> Plan:
    """:func:`~lkadv.planner.make_plan` then :func:`prepare_data`: the plan a run computes (models not built).

    Raises:
        LkadvError: On bad options (ConfigError) or data (DataError), exit status 2.
    """
    return prepare_data(make_plan(options, host), host)
