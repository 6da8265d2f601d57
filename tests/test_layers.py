"""The layers only point down, and no module imports another that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each package may import only those of a lower rank (and itself); the tools sit above everything.
RANK = {"core": 0, "store": 1, "adapters": 1, "schedules": 1, "syncs": 2, "workers": 3, "jobs": 4, "api": 5, "syncq": 6}
# The job catalog (declarations every layer reads: names, task names, settings) and the one guard
# mechanism (used at enqueue and by a run inside a worker) sit low in jobs/; the package itself
# (`from jobs import kinds` runs its __init__) imports nothing.
MODULE_RANK = {"jobs": 0, "jobs.kinds": 1, "jobs.guards": 1}


def _rank(module: str) -> int:
    """The rank of a module: its own, if it has one, else its package's."""
    return MODULE_RANK.get(module, RANK[module.split(".")[0]])


def _imports(path: Path, module_level: bool = False) -> set[str]:
    """What `path` imports (only at import time, outside functions, with `module_level`)."""
    found = set()
    tree = ast.parse(path.read_text())
    nodes = (
        [
            n
            for top in tree.body
            if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            for n in ast.walk(top)
        ]
        if module_level
        else ast.walk(tree)
    )
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules() -> dict[str, Path]:
    modules = {"schedules": ROOT / "schedules.py"}
    for package in RANK:
        for path in (ROOT / package).rglob("*.py") if (ROOT / package).is_dir() else []:
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def test_no_layer_imports_one_above_it():
    upward = []
    for name, path in _modules().items():
        mine = _rank(name)
        for target in _imports(path):
            top = target.split(".")[0]
            # `from jobs import kinds` is read as the module it names.
            module = next((m for m in (target, target.rsplit(".", 1)[0]) if m in MODULE_RANK), target)
            if top in RANK and _rank(module) > mine:
                upward.append(f"{name} imports {target}")
    assert not upward, upward


def test_the_api_never_imports_a_task_module():
    tasks = {"workers.contests", "workers.students", "workers.raida", "workers.system", "workers.webhooks"}
    for name, path in _modules().items():
        if name.startswith("api") or name.startswith("jobs"):
            assert not (_imports(path) & tasks), name


def test_there_are_no_import_circles():
    # At import time: a package's function that imports its own modules when called closes no circle.
    modules = _modules()
    graph = {
        name: {t for t in _imports(path, module_level=True) if t in modules and t != name}
        for name, path in modules.items()
    }
    seen, stack, cycles = set(), [], []

    def visit(node: str) -> None:
        if node in stack:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for target in graph.get(node, ()):
            visit(target)
        stack.pop()

    for module in graph:
        visit(module)
    assert not cycles, cycles[:5]
