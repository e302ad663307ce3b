"""Options every trace-reading command takes, declared once (typer ``Annotated`` aliases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
