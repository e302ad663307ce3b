"""``agentcost prices update`` / ``prices show MODEL``: the price data, without a release."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentcost.cli.edge import run
from agentcost.cli.options import Prices

app = typer.Typer(help="The price data: fetch the current genai-prices data (the only network "
                       "call, opt-in) or show a model's prices.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)


@app.command("update")
def update(
    url: Annotated[str | None, typer.Option(
        "--url", help="Where to fetch from (default: genai-prices' own update URL; a mirror "
        "for air-gapped networks).")] = None,
) -> None:
    """Fetch genai-prices' current published price data into the user cache; later reports
    price with it and name it."""

    def body() -> int:
        from agentcost.pricing.source import update as fetch

        src = fetch(url)
        print(f"agentcost: price data {src.fingerprint} ({src.providers} providers) from "
              f"{src.url}, fetched {src.fetched_at}, saved to {src.path}")
        return 0

    run(body)


@app.command("show")
def show(
    model: Annotated[str, typer.Argument(help="Model id, e.g. claude-sonnet-4-6.")],
    provider: Annotated[str | None, typer.Option(help="Provider hint.")] = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="Prices in force at this date or time (default: now), e.g. 2026-04-01.")
    ] = None,
    prices: Prices = None,
) -> None:
    """Print a model's prices per million tokens and the price data they come from."""

    def body() -> int:
        from agentcost.pricing import price_table

        sys.stdout.write(price_table(model, provider, at, prices))
        return 0

    run(body)
