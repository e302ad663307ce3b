"""``agentcost report``: one self-contained HTML page (the payload of
:mod:`agentcost.report_data` plus Plotly's own ``plotly.min.js`` from the ``plotly`` wheel).

The payload goes in a ``<script type="application/json">`` element with ``<``, ``>``, ``&`` and
the JavaScript line separators escaped, so no trace string can close the element; the page's
script builds every table with ``textContent`` (never ``innerHTML``) and every chart with Plotly.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import orjson

from agentcost.errors import ConfigError
from agentcost.render.safe import json_text


def plotly_js() -> str:
    try:
        import plotly
    except ModuleNotFoundError:
        raise ConfigError("agentcost report needs Plotly: pip install "
                          "'agentcost-profiler[report]'") from None
    path = resources.files(plotly) / "package_data" / "plotly.min.js"
    return path.read_text(encoding="utf-8")


def payload_json(payload: dict[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element."""
    text = json_text(orjson.dumps(payload).decode())
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text


def render_html(payload: dict[str, Any]) -> str:
    here = resources.files("agentcost.render") / "html"
    page = (here / "report.html").read_text(encoding="utf-8")
    css = (here / "report.css").read_text(encoding="utf-8")
    app = (here / "report.js").read_text(encoding="utf-8")
    lib = plotly_js().replace("</script", "<\\/script")
    parts = {"/*CSS*/": css, "/*PLOTLY*/": lib, "/*APP*/": app,
             "/*PAYLOAD*/": payload_json(payload)}
    # one pass: text put in is never searched again for the other markers
    return re.sub(r"/\*(?:CSS|PLOTLY|APP|PAYLOAD)\*/", lambda m: parts[m.group(0)], page)
