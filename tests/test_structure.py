"""The house rules, checked: thin command adapters, compute modules free of the CLI stack,
explicit command registration (issue 15)."""

from __future__ import annotations

import ast
from pathlib import Path

import typer.main

from agentcost.cli import app
from tests.conftest import REPO

PKG = REPO / "agentcost"
CLI_LAYERS = ("cli", "render")  # the only places typer / rich may be imported
MAX_BODY_LINES = 40


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


def test_compute_modules_never_import_typer_or_rich() -> None:
    bad = []
    for p in _modules():
        rel = p.relative_to(PKG)
        if rel.parts[0] in CLI_LAYERS:
            continue
        found = _imports(ast.parse(p.read_text(encoding="utf-8"))) & {"typer", "rich"}
        if found:
            bad.append(f"{rel}: {sorted(found)}")
    assert bad == []


def test_command_bodies_are_short_adapters() -> None:
    """Each command: options -> one library call -> renderer -> exit code, ≤ 40 lines of body
    (the option declarations of the signature do not count)."""
    long = []
    for p in sorted((PKG / "cli").glob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                body_lines = node.body[-1].end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
                if body_lines > MAX_BODY_LINES:
                    long.append(f"{p.name}:{node.name} {body_lines} lines")
    assert long == []


def test_every_command_module_is_registered() -> None:
    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert names == {"analyze", "rules", "audit-prompt", "simulate", "check", "report",
                     "schema", "prices", "record", "replay", "export"}
    modules = {p.stem for p in (PKG / "cli").glob("*.py")} - {"__init__", "__main__", "edge",
                                                              "options"}
    assert {m.replace("_", "-") for m in modules} <= names | {"audit"}


def test_public_api_is_sorted_and_resolves() -> None:
    import agentcost
    from agentcost.simulation import simulate

    names = [n for n in agentcost.__all__ if n != "__version__"]
    assert names == sorted(names)
    for n in names:
        assert getattr(agentcost, n) is not None, n
    assert agentcost.simulate is simulate


def test_no_private_names_across_modules() -> None:
    bad = []
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agentcost"):
                bad += [f"{p.relative_to(PKG)}: {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert bad == []


def test_module_level_imports_have_no_cycles() -> None:
    """Imports point downward: the graph of module-level ``agentcost`` imports is acyclic."""
    graph: dict[str, set[str]] = {}
    for p in _modules():
        rel = p.relative_to(REPO).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        deps = graph.setdefault(name, set())
        for node in ast.parse(p.read_text(encoding="utf-8")).body:  # module level only
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agentcost"):
                deps.add(node.module or "")
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("agentcost")}
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        state[n] = 1
        for d in sorted(graph.get(n, ())):
            if d == n or d not in graph or n.startswith(d + "."):
                continue  # a package's own __init__ is loaded first anyway
            assert state.get(d) != 1, " -> ".join([*path, n, d])
            if d not in state:
                visit(d, [*path, n])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [])
