"""The package's architecture: imports point one way, and nn uses only the public API.

Every import statement of every module is read from its source (those inside functions
and at the bottom of files included), so a cycle cannot hide behind import order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autodiff

# The folder holding the packages imported: the checkout, or site-packages when the tests
# run against an installed wheel.
ROOT = Path(autodiff.__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, package: str) -> set[str]:
    """The modules of `package` that the file at `path` imports, anywhere in it."""
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from . import ops` imports the module autodiff.ops; `from .ops import add`
            # imports autodiff.ops (add is a name inside it).
            names = [origin]
            if not node.module:
                names = [f"{origin}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == package or name.startswith(package + "."):
                found.add(name)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no source files of {package} under {ROOT}"
    modules = {_module_name(path): path for path in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for target in _imports(path, package):
            while target not in modules and "." in target:  # a name inside a module
                target = target.rsplit(".", 1)[0]
            if target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            if state.get(child) == 1:
                return [*path[path.index(child):], child]
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", ["autodiff", "nn"])
def test_no_import_cycles(package):
    cycle = _cycle(_graph(package))
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


# Each core layer may import only the layers listed (and itself).
LAYERS = {
    "autodiff._extras": set(),  # the distribution's name and extras: below everything
    "autodiff.backend": set(),  # duck arrays (Dask, CuPy): numpy only, under everything
    "autodiff.value": {"autodiff._extras", "autodiff.backend"},
    "autodiff.engine": {"autodiff._extras", "autodiff.backend", "autodiff.value"},
    "autodiff.ops": {"autodiff._extras", "autodiff.backend", "autodiff.value",
                     "autodiff.engine"},
    "autodiff.scalar": {"autodiff._extras", "autodiff.backend", "autodiff.value",
                        "autodiff.engine", "autodiff.ops"},
    "autodiff.methods": {"autodiff._extras", "autodiff.backend", "autodiff.value",
                         "autodiff.engine", "autodiff.ops", "autodiff.scalar"},
}


def _layer(module: str) -> str | None:
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def test_core_layers_import_only_the_layers_below():
    graph = _graph("autodiff")
    for module, targets in graph.items():
        layer = _layer(module)
        if layer is None:
            continue
        allowed = LAYERS[layer] | {layer}
        for target in targets:
            assert _layer(target) in allowed, f"{module} imports {target}"


def test_the_node_type_knows_no_operations():
    """value.py defines no operation; its `if TYPE_CHECKING:` block only declares, for type
    checkers, the operators and methods autodiff.methods attaches (bodies `...`)."""
    import autodiff.value as value_module

    tree = ast.parse(Path(value_module.__file__).read_text())
    (value_class,) = [node for node in tree.body
                      if isinstance(node, ast.ClassDef) and node.name == "Value"]
    defined, declared = set(), set()
    for node in value_class.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef):
                    assert ast.unparse(inner.body[0]) == "..." and len(inner.body) == 1, \
                        f"Value.{inner.name} under TYPE_CHECKING must be a declaration only"
                    declared.add(inner.name)
        elif isinstance(node, ast.FunctionDef):
            defined.add(node.name)
    for name in ("__add__", "sum", "backward", "__mul__"):
        assert name not in defined
        assert name in declared


def test_nn_uses_only_the_public_api():
    public = {"autodiff", "autodiff.extend", "autodiff.testing"}
    for path in sorted((ROOT / "nn").rglob("*.py")):
        for target in _imports(path, "autodiff"):
            assert target in public, f"{path.name} imports {target}"
        assert "._data" not in path.read_text(), f"{path.name} reads a Value's private data"
