"""The one-way house: every labkit module imports only from the layers below it.

Layers, bottom first (docs/labkit-api.md, "Layers"): errors, host → oci, hello, binder,
linkmap → engine → fleet, registry, terminal → machine → scenarios → observe → compare, explore,
ledger → show → checks, lessons, classroom → cli. Read from the source with ``ast`` (nothing is
imported), so the rule holds for code paths no test happens to run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "labkit"
MAX_LINES = 400

#: The layer of each top-level unit (a module, or a package with everything in it).
#: A unit may import only units of a lower layer, and its own modules.
LAYERS = {
    "errors": 0, "_version": 0, "host": 0,
    "oci": 1, "hello": 1, "linkmap": 1, "binder": 1,
    "engine": 2,
    "fleet": 3, "registry": 3, "terminal": 3,
    "machine": 4,
    "scenarios": 5,
    "observe": 6,
    "compare": 7, "explore": 7, "ledger": 7,
    "show": 8,
    "checks": 9, "lessons": 9, "classroom": 9,
    "cli": 10, "__main__": 11,
    "__init__": 12,   # the facade: `import labkit` loads submodules on first use
}


def modules() -> dict[str, Path]:
    """``labkit.oci.image`` -> its file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def unit(module: str) -> str:
    """``labkit.oci.image`` -> ``oci``; ``labkit`` (the package itself) -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """``(imported labkit module, line, at module level?)`` for every import in ``path``.

    ``from labkit import x`` counts as importing ``labkit.x`` when that is a module.
    """
    known = modules()
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    for node in tree.body:                       # `if TYPE_CHECKING:` etc. stay top level
        if isinstance(node, (ast.If, ast.Try)):
            top.update(id(child) for child in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:                       # relative: resolve against this package
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        for name in names:
            if name == "labkit" or name.startswith("labkit."):
                found.append((name, node.lineno, id(node) in top))
    return found


def test_every_unit_has_a_layer():
    missing = sorted({unit(m) for m in modules()} - set(LAYERS))
    assert not missing, f"put these in LAYERS (and docs/labkit-api.md): {missing}"


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_only_from_below(module):
    path = modules()[module]
    here = unit(module)
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for name, line, _ in imports(path, module)
             if unit(name) != here and LAYERS[unit(name)] >= LAYERS[here]]
    assert not wrong, "an import goes up or sideways:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(m for m in modules() if m != "labkit"))
def test_no_labkit_import_hides_inside_a_function(module):
    # Deferring a heavy third-party import (matplotlib, ipywidgets) is fine; deferring a
    # labkit one is how a cycle hides. Only the facade, labkit/__init__.py, loads lazily.
    path = modules()[module]
    lazy = [f"{path.relative_to(ROOT)}:{line} imports {name}"
            for name, line, top in imports(path, module) if not top]
    assert not lazy, "\n".join(lazy)


def test_no_import_cycles_between_modules():
    known = modules()
    graph = {m: {n for n, _, _ in imports(p, m) if n in known and n != m} for m, p in known.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_over_400_lines(module):
    lines = len(modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it along its concepts"


def test_nothing_below_show_imports_it():
    below = [m for m in modules() if LAYERS[unit(m)] < LAYERS["show"]]
    offenders = [m for m in below if any(unit(n) == "show" for n, _, _ in imports(modules()[m], m))]
    assert offenders == []
