"""JSON Schemas (draft 2020-12) of agentcost's JSON reports, shipped in the package
(``agentcost/data/schemas/NAME.schema.json``) and printed by ``agentcost schema NAME``.

Every report carries ``schema_version``. The rule for bumping it: removing a field, renaming it,
or changing its type or meaning bumps the version; adding a field does not (the schemas allow
properties they do not list, so a consumer validating against version 1 keeps working).
Figures a trace cannot give are ``null``, never 0, so every number in a report may be null.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from agentcost.errors import InputError

NAMES = ("analyze", "audit", "check", "replay", "rules", "simulate")


@cache
def text(name: str) -> str:
    """The schema of report ``name`` as JSON text."""
    if name not in NAMES:
        raise InputError(f"no schema named {name!r} (one of: {', '.join(NAMES)})")
    return (resources.files("agentcost") / "data" / "schemas" / f"{name}.schema.json"
            ).read_text(encoding="utf-8")


def load(name: str) -> dict[str, Any]:
    """The schema of report ``name`` as a dict."""
    doc: dict[str, Any] = json.loads(text(name))
    return doc


def errors(name: str, report: Any) -> list[str]:
    """Where ``report`` breaks the schema ``name`` (empty when it validates). Needs the
    ``jsonschema`` package (in the ``test`` extra)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load(name))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(report), key=lambda e: list(e.path))]
