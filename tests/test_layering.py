"""The package's layers (``LAYOUT.md``): every module of ``lavalab/`` imports only from its own
layer or lower ones (module-level and function-level imports alike), the modules import no
circle, and no module is longer than :data:`MAX_LINES`.

The import graph is read with :mod:`ast` from the source files (nothing is imported).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lavalab"

#: Layer of each part of the package (LAYOUT.md), lower number = lower layer. A module
#: belongs to the longest dotted prefix listed here.
LAYERS = {
    # 0 base
    "lavalab": 0,  # the package's __init__ (lavalab.timing, lavalab._compat)
    "lavalab._compat": 0,
    "lavalab.loihi_spec": 0,
    "lavalab.fixed": 0,
    "lavalab.validate": 0,
    "lavalab.model_io": 0,
    "lavalab.progress": 0,
    "lavalab.timing": 0,
    "lavalab.kernel_cache": 0,
    "lavalab.protocol": 0,
    "lavalab.plots": 0,  # matplotlib set-up and the network figures
    "lavalab.runlock": 0,  # the lock of a run on its --out
    # 1 pure step functions
    "lavalab.dynamics": 1,
    # 2 Lava Processes, their models, data sets
    "lavalab.processes": 2,
    "lavalab.procmodels": 2,
    "lavalab.data": 2,
    # 3 typed specs and builders
    "lavalab.networks": 3,
    # 4 batched simulator
    "lavalab.engine": 4,
    # 5 passes over the IR
    "lavalab.compile": 5,
    # 6 backends (lavalab's Processes on Lava)
    "lavalab.backends": 6,
    # 7 network families
    "lavalab.stdp": 7,
    "lavalab.supervised": 7,
    "lavalab.exact": 7,
    # 8 what leaves the package: trained models as Lava stock Processes, bundles, exports
    "lavalab.deploy": 8,
    "lavalab.export": 8,
    # 9 studies
    "lavalab.study": 9,
    "lavalab.report": 9,  # renders study folders; reads files only (a fast CLI command)
    # 10 command line
    "lavalab.cli": 10,
}

#: Files still to move to their package this session, each with where it goes and the
#: layer it will have there. Their imports, and imports of them, are not checked yet, nor
#: their length. Keyed by file: when one has moved, a test below says to drop its entry.
PENDING_FILES = {
}

#: Longest module, in lines (LAYOUT.md: "no module over ~500 lines").
MAX_LINES = 550
#: Files over MAX_LINES that are being split this session (besides PENDING_FILES).
PENDING_LONG = {
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()
#: Module names of the PENDING_FILES that exist.
PENDING = {_module_name(ROOT / f): n for f, n in PENDING_FILES.items() if (ROOT / f).exists()}


def _resolve(name: str) -> str:
    """The module of the package that ``name`` (a module or a name in one) refers to."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """``(imported lavalab module, line)`` of every import in ``path``, at any depth."""
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(_resolve(a.name), node.lineno) for a in node.names
                    if a.name.split(".")[0] == "lavalab"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package upwards
                base = module.split(".")
                base = base[:len(base) - node.level + is_pkg]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            if src.split(".")[0] != "lavalab":
                continue
            for a in node.names:  # `from pkg import submodule` imports the submodule
                out.append((_resolve(f"{src}.{a.name}") if f"{src}.{a.name}" in MODULES
                            else _resolve(src), node.lineno))
    return [(m, line) for m, line in out if m != module]


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def layer(module: str) -> int | None:
    """The layer of ``module`` (PENDING first, then its longest prefix in LAYERS)."""
    if module in PENDING:
        return PENDING[module]
    name = module
    while name not in LAYERS or (name == "lavalab" != module):  # "lavalab": __init__ only
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return LAYERS[name]


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer(m) is None] == []


def test_pending_modules_still_exist():
    """A module that has moved leaves PENDING (else a new file of that name would be exempt)."""
    gone = [f for f in (*PENDING_FILES, *PENDING_LONG) if not (ROOT / f).exists()]
    assert gone == [], "moved or split: remove these from PENDING_FILES / PENDING_LONG"


def _upward(graph) -> list[str]:
    bad = []
    for m, edges in graph.items():
        if m in PENDING:
            continue
        for dep, line in edges:
            if dep in PENDING or None in (layer(m), layer(dep)):  # unmapped: test above
                continue
            if layer(dep) > layer(m):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line}: {m} (layer {layer(m)}) "
                           f"imports {dep} (layer {layer(dep)})")
    return sorted(set(bad))


def test_no_import_from_a_higher_layer():
    assert _upward(GRAPH) == []


def test_processes_do_not_import_their_models():
    """Interface apart from behaviour: procmodels import processes, never the reverse."""
    assert [(m, dep) for m, edges in GRAPH.items() if m.startswith("lavalab.processes")
            for dep, _ in edges if dep.startswith("lavalab.procmodels")] == []


def find_cycle(graph: dict[str, list[tuple[str, int]]]) -> list[str] | None:
    """One import circle of ``graph`` (modules, the first repeated at the end), or None.

    Depth-first search without recursion; a module on the current path that is reached
    again closes a circle."""
    done: set[str] = set()
    for root in sorted(graph):
        if root in done:
            continue
        path, on_path = [root], {root}
        stack = [iter(sorted({d for d, _ in graph[root]}))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if nxt in on_path:
                return path[path.index(nxt):] + [nxt]
            if nxt in done or nxt not in graph:
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(sorted({d for d, _ in graph[nxt]})))
    return None


def test_find_cycle_finds_one():
    g = {"a": [("b", 1)], "b": [("c", 1)], "c": [("a", 1)], "d": [("a", 1)]}
    assert find_cycle(g) == ["a", "b", "c", "a"]
    assert find_cycle({"a": [("b", 1)], "b": [], "c": [("a", 1), ("b", 1)]}) is None


def test_no_import_cycle():
    graph = {m: [(d, line) for d, line in edges if d not in PENDING]
             for m, edges in GRAPH.items() if m not in PENDING}
    assert find_cycle(graph) is None


def test_no_module_is_long():
    long = {}
    for m, p in MODULES.items():
        f = str(p.relative_to(ROOT))
        n = len(p.read_text().splitlines())
        if n > MAX_LINES and m not in PENDING and f not in PENDING_LONG:
            long[f] = n
    assert long == {}, f"over {MAX_LINES} lines"
