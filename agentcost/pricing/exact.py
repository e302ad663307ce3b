"""The exact cost of a step above a long-context threshold, as genai-prices computes it, for
many steps.

genai-prices prices a request over a tier's start at the tier's rates for the whole request
(``ModelPrice.calc_price``, in :class:`~decimal.Decimal`), ~75 µs a call. Within one tier band
(between two tier starts) that price is an affine function of the step's token classes, and
every term of it is an exact decimal (a price with a few digits times an integer count, over
a power of ten), so it can be written as the price of the band's smallest request plus one
exact per-token coefficient per class, each found with genai-prices itself. The sum is then
the same :class:`~decimal.Decimal` genai-prices returns — not a float approximation of it —
and so the same float. A step whose classes do not fit the affine form (cache reads and writes
above its input, a band too narrow to probe) is priced by genai-prices directly.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

FIELDS = ("input", "output", "read", "w5", "w1")


def calc(price: Any, row: dict[str, int]) -> tuple[Decimal, Decimal]:
    """``(total, output part)`` of one step by genai-prices' ``ModelPrice.calc_price``; ``row``
    holds the canonical classes (``input`` total, ``output``, ``read``, ``w5``, ``w1``)."""
    from genai_prices import Usage

    kw: dict[str, int] = {"input_tokens": row["input"], "output_tokens": row["output"],
                          "cache_read_tokens": row["read"]}
    if row["w5"] or row["w1"]:
        kw.update(cache_write_tokens=row["w5"] + row["w1"], cache_write_5m_tokens=row["w5"],
                  cache_write_1h_tokens=row["w1"])
    r = price.calc_price(Usage(**kw))
    return r["total_price"], r["output_price"]


@dataclass(frozen=True)
class Band:
    """The affine form of one price on one tier band: the price of ``base`` (the band's
    smallest request: input only) and the exact change per token of each class."""

    base: dict[str, int]
    total0: Decimal
    output0: Decimal
    total_per: tuple[Decimal, ...]
    output_per: tuple[Decimal, ...]

    def cost(self, row: dict[str, int]) -> tuple[Decimal, Decimal]:
        total, out = self.total0, self.output0
        for f, t, o in zip(FIELDS, self.total_per, self.output_per, strict=True):
            d = row[f] - self.base[f]
            total += t * d
            out += o * d
        return total, out


def tier_starts(price: Any) -> tuple[int, ...]:
    """Every tier start of every price class of ``price``, sorted."""
    starts = {int(t.start) for v in vars(price).values() for t in getattr(v, "tiers", None) or ()}
    return tuple(sorted(starts))


def band(price: Any, starts: tuple[int, ...], k: int) -> Band | None:
    """The affine form on band ``k`` (input above ``starts[k-1]``, up to ``starts[k]``), or
    None when the band is too narrow to probe."""
    lo = starts[k - 1] + 1
    if k < len(starts) and lo + 1 > starts[k]:
        return None
    base = {"input": lo, "output": 0, "read": 0, "w5": 0, "w1": 0}
    total0, output0 = calc(price, base)
    total_per: list[Decimal] = []
    output_per: list[Decimal] = []
    for f in FIELDS:  # one more token of each class (reads and writes stay within the input)
        t, o = calc(price, {**base, f: base[f] + 1})
        total_per.append(t - total0)
        output_per.append(o - output0)
    return Band(base, total0, output0, tuple(total_per), tuple(output_per))


class ExactPricer:
    """:func:`calc` for many steps of one genai-prices price: one affine form per tier band,
    found on first use."""

    def __init__(self, price: Any) -> None:
        self.price = price
        self.starts = tier_starts(price)
        self.bands: dict[int, Band | None] = {}

    def cost(self, row: dict[str, int]) -> tuple[Decimal, Decimal]:
        inp = row["input"]
        k = bisect_left(self.starts, inp)  # input > starts[k-1]: band k (0 below every tier)
        if (k == 0 or min(row.values()) < 0
                or row["read"] + row["w5"] + row["w1"] > inp):
            return calc(self.price, row)
        if k not in self.bands:
            self.bands[k] = band(self.price, self.starts, k)
        b = self.bands[k]
        return calc(self.price, row) if b is None else b.cost(row)
