"""Packaged model aliases (``agentcost/data/model_aliases.yaml``): trace names the price data lacks.

Some tools write a model name that no provider bills under (Gemini CLI's ``gemini-3-pro`` for the
Gemini API's ``gemini-3-pro-preview``). The table maps each such name to the model it is billed as,
with the evidence. :class:`agentcost.pricing.Pricer` consults it only after the user's own
``aliases:`` and only when the price data does not know the name itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

DATA_FILE = "model_aliases.yaml"


@dataclass(frozen=True)
class PackagedAlias:
    name: str  # lower-cased, as traces write it
    price_as: str
    provider: str | None
    why: str
    source: str

    def note(self) -> str:
        return (f"{self.name} is priced as {self.price_as} (packaged alias, "
                f"agentcost/data/{DATA_FILE}): {self.why}")


@lru_cache(maxsize=1)
def packaged_aliases() -> dict[str, PackagedAlias]:
    import yaml  # only when a name is not in the price data: not on every start-up

    text = resources.files("agentcost").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    out: dict[str, PackagedAlias] = {}
    for row in (yaml.safe_load(text) or {}).get("aliases") or []:
        a = PackagedAlias(name=str(row["name"]).lower(), price_as=str(row["price_as"]),
                          provider=row.get("provider"), why=" ".join(str(row["why"]).split()),
                          source=" ".join(str(row["source"]).split()))
        out[a.name] = a
    return out


def packaged_alias(model: str) -> PackagedAlias | None:
    return packaged_aliases().get(model.lower())
