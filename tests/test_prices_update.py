"""Prices without a release (issue 14, item 5): ``agentcost prices update`` fetches genai-prices'
published data (from a stand-in server on 127.0.0.1 here) into the user cache, reports price
with it and name it; ``--prices FILE`` / ``AGENTCOST_PRICES`` for mirrors; ``prices show``."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agentcost.pricing import use_prices

# the published format (a provider list), with claude-sonnet-4-5 at half its real price
# (genai-prices bundled data: $3 input, $15 output per million tokens)
PAYLOAD = json.dumps([{
    "id": "anthropic", "name": "Anthropic", "api_pattern": "https://api\\.anthropic\\.com",
    "models": [{"id": "claude-sonnet-4-5", "match": {"starts_with": "claude-sonnet-4-5"},
                "prices": {"input_mtok": 1.5, "cache_read_mtok": 0.15,
                           "cache_write_mtok": 1.875, "output_mtok": 7.5}}]}]).encode()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AGENTCOST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AGENTCOST_PRICES", raising=False)
    yield tmp_path / "cache"
    monkeypatch.undo()
    use_prices()  # back to the bundled data for the other tests


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"status": 200, "body": PAYLOAD, "hits": 0}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_GET(self) -> None:
            state["hits"] += 1
            self.send_response(state["status"])
            self.send_header("Content-Length", str(len(state["body"])))
            self.end_headers()
            self.wfile.write(state["body"])

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{srv.server_address[1]}/prices/data.json"
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()


def _cost(run: Any, *extra: str) -> tuple[float, dict[str, Any]]:
    res = run("analyze", "sample_traces/research_agent.jsonl", "--format", "json", *extra)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    return doc["totals"]["cost_usd"], doc["pricing"]


def test_update_then_reports_price_with_the_fetched_data(run: Any, cache: Path,
                                                         server: dict[str, Any]) -> None:
    bundled, p0 = _cost(run)
    assert p0["data"] == "bundled snapshot (no network updates)"
    res = run("prices", "update", "--url", server["url"])
    assert res.exit_code == 0, res.output
    assert server["hits"] == 1
    assert (cache / "prices.json").read_bytes() == PAYLOAD
    meta = json.loads((cache / "prices.meta.json").read_text())
    assert meta["url"] == server["url"] and meta["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    updated, p1 = _cost(run)
    assert updated == pytest.approx(bundled / 2, rel=1e-9)  # every column at half price
    assert p1["data_fingerprint"] == hashlib.sha256(PAYLOAD).hexdigest()[:16]
    assert p1["data"].startswith(f"updated {meta['fetched_at']} from {server['url']}")
    assert server["hits"] == 1  # reports never fetch


def test_a_failed_update_keeps_the_old_data(run: Any, cache: Path,
                                            server: dict[str, Any]) -> None:
    assert run("prices", "update", "--url", server["url"]).exit_code == 0
    server["status"], server["body"] = 500, b"oops"
    res = run("prices", "update", "--url", server["url"])
    assert res.exit_code == 2 and "HTTP 500" in res.stderr
    server["status"], server["body"] = 200, b'{"not": "a provider list"}'
    res = run("prices", "update", "--url", server["url"])
    assert res.exit_code == 2 and "not genai-prices price data" in res.stderr
    assert (cache / "prices.json").read_bytes() == PAYLOAD


def test_prices_file_and_env_for_mirrors(run: Any, cache: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bundled, _ = _cost(run)
    mirror = tmp_path / "mirror.json"
    mirror.write_bytes(PAYLOAD)
    cost, p = _cost(run, "--prices", str(mirror))
    assert cost == pytest.approx(bundled / 2, rel=1e-9) and p["data"] == f"file {mirror}"
    use_prices()
    monkeypatch.setenv("AGENTCOST_PRICES", str(mirror))
    cost, _ = _cost(run)
    assert cost == pytest.approx(bundled / 2, rel=1e-9)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    res = run("analyze", "sample_traces", "--prices", str(bad))
    assert res.exit_code == 2 and f"{bad}: not genai-prices price data" in res.stderr


def test_prices_show_on_dates_across_the_data(run: Any, cache: Path) -> None:
    res = run("prices", "show", "claude-sonnet-4-6", "--at", "2026-04-01")
    assert res.exit_code == 0, res.output
    assert "bundled snapshot" in res.stdout
    assert "input (uncached)  $3.0000" in res.stdout and "output            $15.0000" in res.stdout
    assert "cache write 1h    $6.0000" in res.stdout
    res = run("prices", "show", "acme-llm-9", "--at", "2026-04-01")
    assert res.exit_code == 2 and "agentcost prices update" in res.stderr


def test_simulate_names_the_price_data_it_used(run: Any, cache: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.json"
    mirror.write_bytes(PAYLOAD)
    res = run("simulate", "sample_traces/research_agent.jsonl", "--cache", "auto", "--prices",
              str(mirror), "--format", "json")
    assert res.exit_code == 0, res.output
    base = json.loads(res.stdout)["baseline"]
    fp = hashlib.sha256(PAYLOAD).hexdigest()[:16]
    assert any(a.startswith("Prices: genai-prices ") and f"(price data {fp}: file {mirror})"
               in a for a in base["assumptions"])
    assert not any("bundled data" in a for a in base["assumptions"])


def _provider(prices: Any) -> bytes:
    return json.dumps([{
        "id": "anthropic", "name": "Anthropic", "api_pattern": "https://api\\.anthropic\\.com",
        "models": [{"id": "claude-sonnet-4-5", "match": {"starts_with": "claude-sonnet-4-5"},
                    "prices": prices}]}]).encode()


def test_switching_price_data_in_one_process_forgets_the_old_price_dates(
        run: Any, cache: Path, tmp_path: Path) -> None:
    """The dates at which a model's price changes are looked up once per model and data; after
    a switch to other data they must be looked up again. Data A has one flat price; data B
    doubles it on 2026-02-01, between the trace's two calls (1M input tokens each)."""
    trace = tmp_path / "t.jsonl"
    trace.write_text("".join(json.dumps({
        "task_id": "t", "kind": "llm", "provider": "anthropic", "model": "claude-sonnet-4-5",
        "started_at": at, "input_tokens": 1_000_000, "output_tokens": 0}) + "\n"
        for at in ("2026-01-10T12:00:00Z", "2026-03-10T12:00:00Z")))
    flat = tmp_path / "a.json"
    flat.write_bytes(_provider({"input_mtok": 1.5, "output_mtok": 7.5}))
    dated = tmp_path / "b.json"
    dated.write_bytes(_provider([
        {"prices": {"input_mtok": 3, "output_mtok": 15}},
        {"constraint": {"start_date": "2026-02-01"},
         "prices": {"input_mtok": 6, "output_mtok": 30}}]))

    def cost(data: Path) -> float:
        res = run("analyze", str(trace), "--format", "json", "--prices", str(data))
        assert res.exit_code == 0, res.output
        return float(json.loads(res.stdout)["totals"]["cost_usd"])

    assert cost(flat) == pytest.approx(3.0)
    assert cost(dated) == pytest.approx(9.0)  # $3 before the change, $6 after
    assert cost(flat) == pytest.approx(3.0)
