"""The apps stand in floors: each imports only apps below it, and no module imports itself in a loop.

Walks every import in yixiang/ (module level and inside functions) with ast, leaving tests and
migrations out, and fails on a cycle between yixiang apps or between modules of one app, on an
import that runs up the floors, and on a module over 800 lines. Run it alone to see the graph's
faults in words: `python -m pytest tests/test_import_structure.py -q`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "yixiang"

# Lower floors first; an app may import only apps on a lower floor (and top-level kernel modules).
FLOORS: list[set[str]] = [
    {"accounts", "outbox"},  # outbox: how every outbound message leaves, below its users
    {"customers"},
    {"pipeline"},
    {"aftercare"},
    {"incentives", "reports"},
    {"web"},
]
# Modules of yixiang/ itself. The kernel (errors, env, testing helpers) sits under every app; the
# project shell (settings, urls, api, wsgi) above all of them.
KERNEL = {
    "errors", "env", "testing_env", "backup", "months", "conf", "blank_forms",
    "api_types", "spreadsheet", "replica", "jobs", "formats", "redirects", "formatting",
}  # fmt: skip
SHELL = {"settings", "urls", "api", "wsgi", "testing", "health"}
SIZE_EXEMPT: set[str] = set()
MAX_LINES = 800


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        if "tests" in rel or "migrations" in rel:
            continue
        found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every yixiang module `name` imports, wherever the import statement stands (functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            # `from yixiang.app import services` names a module; `from .models import X` names a member.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    known = set(sources)
    return {name: _imports(name, path, known) for name, path in sources.items()}


def _app(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _floor(app: str) -> float:
    if app in KERNEL:
        return -1
    if app in SHELL:
        return len(FLOORS)
    for i, floor in enumerate(FLOORS):
        if app in floor:
            return i
    raise AssertionError(f"yixiang.{app} is on no floor: add it to FLOORS in {__file__}")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_apps_and_no_import_runs_up_the_floors() -> None:
    upward = sorted(
        f"{src} -> {dst}"
        for src, dsts in _graph().items()
        for dst in dsts
        if _app(src) != _app(dst) and _floor(_app(src)) < _floor(_app(dst))
    )
    assert upward == []
    # Same-floor apps (incentives, reports) may not lean on each other in a circle either.
    app_graph: dict[str, set[str]] = {}
    for src, dsts in _graph().items():
        app_graph.setdefault(_app(src), set()).update(_app(d) for d in dsts if _app(d) != _app(src))
    assert _cycles(app_graph) == []


def test_no_module_over_800_lines() -> None:
    long = sorted(
        f"{name}: {n}"
        for name, path in _sources().items()
        if name not in SIZE_EXEMPT and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    )
    assert long == []


def test_the_walk_sees_function_level_imports_and_circles(tmp_path: Path) -> None:
    # Guard against a walker that finds nothing: an import inside a function and a relative one are
    # both seen, and the cycle finder reports a planted circle.
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from yixiang.aftercare import services\n    from .models import Contract\n")
    known = {"yixiang.aftercare", "yixiang.aftercare.services", "yixiang.pipeline.models", "yixiang.pipeline"}
    assert _imports("yixiang.pipeline.m", src, known) == {"yixiang.aftercare.services", "yixiang.pipeline.models"}
    assert "yixiang.customers.models" in _graph()["yixiang.pipeline.models"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", ["yixiang.urls", "yixiang.api"])
def test_the_shell_imports_every_app_plainly(name: str) -> None:
    apps = {_app(d) for d in _graph()[name]}
    assert {"customers", "pipeline", "aftercare", "incentives", "reports"} <= apps
