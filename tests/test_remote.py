"""Datasets in object storage (docs/scale.md "Reading a dataset"): an ``s3://`` dataset read
through pyarrow's S3 file system, tested against moto's S3 server on 127.0.0.1 (started and
stopped here; nothing leaves the machine). Both engines must give the report of the same
dataset on local disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")
pafs = pytest.importorskip("pyarrow.fs")
moto_server = pytest.importorskip("moto.server")

from agentcost.analysis import analyze  # noqa: E402
from agentcost.columnar.duck import analyze_dataset  # noqa: E402
from agentcost.columnar.export import export  # noqa: E402
from agentcost.errors import InputError  # noqa: E402
from agentcost.table import load  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.test_engines import assert_parity  # noqa: E402

SAMPLES = REPO / "sample_traces"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """A loopback S3 server (moto): its ``host:port``."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-in credentials, as a user's environment would carry them (no instance lookup)."""
    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(k, v)


def upload(endpoint: str, local: Path, bucket: str, prefix: str) -> None:
    fs = pafs.S3FileSystem(endpoint_override=endpoint, scheme="http", region="us-east-1",
                           allow_bucket_creation=True)
    fs.create_dir(bucket)
    for f in sorted(local.rglob("*")):
        if f.is_file():
            with fs.open_output_stream(f"{bucket}/{prefix}/{f.relative_to(local)}") as fh:
                fh.write(f.read_bytes())


def _reports(paths: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    return analyze(load(paths)).to_dict(), analyze_dataset(paths).to_dict()


def test_s3_dataset_by_both_engines(s3: str, creds: None, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ds = tmp_path / "ds"
    export([str(SAMPLES)], ds)
    export([str(SAMPLES / "research_agent.jsonl")], tmp_path / "again")  # overlaps ds
    upload(s3, ds, "fleet", "steps")
    upload(s3, tmp_path / "again", "fleet", "again")
    want_mem, want_duck = _reports([str(ds)])
    # the endpoint as the URL's own options (pyarrow's S3 URI parameters)
    url = f"s3://fleet/steps?endpoint_override={s3}&scheme=http&region=us-east-1"
    mem, duck = _reports([url])
    assert_parity(want_mem, mem)
    assert_parity(want_duck, duck)
    assert duck["pricing"]["data"].startswith("as exported") and duck["pricing"]["version"] \
        != "unknown"  # the manifest under the prefix was read
    # the endpoint from the environment, as a configured AWS client takes it
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{s3}")
    both = ["s3://fleet/steps", "s3://fleet/again"]
    want_mem, want_duck = _reports([str(ds), str(tmp_path / "again")])
    mem, duck = _reports(both)
    assert_parity(want_mem, mem)
    assert_parity(want_duck, duck)
    dups = duck["ingest"]["duplicates_dropped"]
    assert dups == want_duck["ingest"]["duplicates_dropped"] and sum(dups.values()) > 0
    with pytest.raises(InputError, match="no such object"):
        load(["s3://fleet/nothing-here"])
