"""JUnit XML for ``agentcost check --junit FILE``: one ``<testcase>`` per gate.

Test suites group the gates by kind (``agentcost.check.regression``, ``.budget``, ``.audit``).
A failed gate is a ``<failure>``; an inconclusive one an ``<error type="inconclusive">`` (the gate
could not be evaluated — CI systems show it as broken, not as passed); a ``warn`` passes with the
warning in ``<system-out>``. The summary sentence and the price-drift note go in the
``<system-out>`` of the root element's first suite so they show in CI test reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentcost.gate import CheckReport

KINDS = ("regression", "budget", "audit")


def render_junit(rep: CheckReport) -> str:
    import xml.etree.ElementTree as ET

    from agentcost.render.safe import printable

    root = ET.Element("testsuites", name="agentcost check")
    total = fails = errors = 0
    kinds = [k for k in KINDS if any(g.kind == k for g in rep.gates)] or ["regression"]
    for i, kind in enumerate(kinds):
        gates = [g for g in rep.gates if g.kind == kind]
        suite = ET.SubElement(root, "testsuite", name=f"agentcost.check.{kind}")
        n_fail = sum(1 for g in gates if g.verdict == "fail")
        n_err = sum(1 for g in gates if g.verdict == "inconclusive")
        suite.set("tests", str(len(gates)))
        suite.set("failures", str(n_fail))
        suite.set("errors", str(n_err))
        suite.set("skipped", "0")
        total, fails, errors = total + len(gates), fails + n_fail, errors + n_err
        for g in gates:
            case = ET.SubElement(suite, "testcase", classname=f"agentcost.check.{kind}",
                                 name=g.name, time="0")
            if g.verdict == "fail":
                ET.SubElement(case, "failure", message=g.message, type="gate-failed").text = \
                    g.message
            elif g.verdict == "inconclusive":
                ET.SubElement(case, "error", message=g.message, type="inconclusive").text = \
                    g.message
            else:
                out = ET.SubElement(case, "system-out")
                out.text = (f"warning: {g.message}" if g.verdict == "warn" else g.message)
        if i == 0:
            lines = [rep.summary]
            if rep.price_drift is not None:
                lines.append(f"price drift: {rep.price_drift.note}")
            lines += [f"warning: {w}" for w in rep.warnings]
            ET.SubElement(suite, "system-out").text = "\n".join(lines)
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", str(errors))
    ET.indent(root)
    # XML 1.0 has no place for C0 controls: a trace's show as escapes
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + printable(ET.tostring(
        root, encoding="unicode")) + "\n"
