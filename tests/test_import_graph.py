"""The host's modules import each other without cycles: each import of another
amp_destinations module is an edge, a deferred one inside a function too (it hides a
cycle rather than removing it), and no module may reach itself."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "amp_destinations"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _edges(path: Path, name: str) -> set[str]:
    """Modules of the package this one imports, anywhere but under TYPE_CHECKING
    (which never runs)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            module = (
                node.module
                if node.level == 0
                else ".".join(part for part in (base, node.module) if part)
            )
            if module and module.startswith("amp_destinations"):
                if node.module is not None:  # ``from . import x`` names submodules only
                    found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("amp_destinations"))
    return found


def test_no_module_of_the_host_imports_itself_through_others():
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {
        name: {edge for edge in _edges(path, name) if edge in modules and edge != name}
        for name, path in modules.items()
    }
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for edge in sorted(graph[name]):
            if edge in trail:
                cycles.append(" -> ".join(trail[trail.index(edge) :] + [edge]))
            elif len(trail) < len(graph):
                visit(edge, [*trail, edge])

    for name in sorted(graph):
        if not name.startswith("amp_destinations.builtins"):
            visit(name, [name])
    assert not cycles, cycles[:5]
