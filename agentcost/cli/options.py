"""Options every trace-reading command takes, declared once (typer ``Annotated`` aliases), and
:func:`command_signature`, which builds a command's signature from an options dataclass."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, get_type_hints

import typer

InputFormat = Annotated[str | None, typer.Option(
    "--input-format", help="Force a trace format instead of detecting it from content.")]
Since = Annotated[str | None, typer.Option(help="Only steps starting at/after this time.")]
Until = Annotated[str | None, typer.Option(help="Only steps starting before this time.")]
Strict = Annotated[bool, typer.Option(help="Fail on the first malformed line.")]
Config = Annotated[Path | None, typer.Option(
    help="agentcost.yaml (default: ./agentcost.yaml if present).")]
Prices = Annotated[Path | None, typer.Option(
    "--prices", help="genai-prices data file to price with (default: $AGENTCOST_PRICES, else "
    "what `agentcost prices update` fetched, else the bundled data).")]


def command_signature(cls: type) -> inspect.Signature:
    """A signature with one parameter per dataclass field of ``cls`` (annotations resolved,
    typer metadata kept), for typer to read a command's options from: the options are declared
    once, as the fields, and the command takes them by name (``Options(**options)``)."""
    hints = get_type_hints(cls, include_extras=True)
    return inspect.Signature([
        inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=hints[f.name],
                          default=inspect.Parameter.empty if f.default is MISSING else f.default)
        for f in fields(cls)])
