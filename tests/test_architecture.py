"""The package's import graph: no cycles, and every import goes down the module map.

The graph is built by grimp from the source, so imports inside functions and under
``TYPE_CHECKING`` count as much as those at the top of a module: a cycle cannot hide
in a function. The layers are those of docs/architecture.md; a new module must be
given its place there and here.
"""

from __future__ import annotations

import graphlib

import grimp
import pytest
from grimp import Layer

PACKAGE = "relations_data"

#: The module map of docs/architecture.md, highest layer first: a module may import
#: the layers below its own, never those above. Modules within an independent layer
#: do not import each other.
LAYERS: tuple[Layer, ...] = (
    Layer("__main__"),
    Layer("cli"),
    Layer("serve"),
    Layer("versioning"),
    Layer(
        "release", "diff", "export", "codebook", "coverage", "timeline", "site", independent=True
    ),
    Layer("views"),
    Layer("validation", "records", "query", "moves", independent=True),
    Layer("loader", "canonical", "changes", "sql", independent=True),
    Layer("remote", "csv_reader", "dtypes", "precision", independent=True),
    Layer("package", "registry", independent=True),
    Layer("archive", "atomic", "schema", "semver", independent=True),
    Layer("formula", "locks", "messages", independent=True),
    Layer("errors"),
)
#: Inside the validation package: the engines, the rules they run, what the rules share.
VALIDATION_LAYERS: tuple[Layer, ...] = (
    Layer("polars_engine", "frictionless_engine", independent=True),
    Layer(
        "semantic",
        "model_rules",
        "text_rules",
        "keys",
        "pandera_checks",
        "huge_integers",
        independent=False,
    ),
    Layer(
        "findings",
        "typed",
        "reading",
        "casting",
        "report",
        "declared",
        "dialect",
        "standards",
        independent=False,
    ),
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, cache_dir=None)


def _describe(dependencies: set[grimp.PackageDependency]) -> str:
    lines = []
    for dependency in sorted(dependencies, key=lambda d: (d.importer, d.imported)):
        for route in dependency.routes:
            chain = [*route.heads, *route.middle, *route.tails]
            lines.append(f"{dependency.importer} -> {dependency.imported} via {chain}")
    return "\n".join(lines)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    sorter = graphlib.TopologicalSorter(
        {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    )
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


@pytest.mark.parametrize(
    ("container", "layers"),
    [(PACKAGE, LAYERS), (f"{PACKAGE}.validation", VALIDATION_LAYERS)],
    ids=["package", "validation"],
)
def test_imports_follow_the_module_map(
    graph: grimp.ImportGraph, container: str, layers: tuple[Layer, ...]
) -> None:
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers, containers={container})
    assert not illegal, "imports against docs/architecture.md:\n" + _describe(illegal)


@pytest.mark.parametrize(
    ("container", "layers"),
    [(PACKAGE, LAYERS), (f"{PACKAGE}.validation", VALIDATION_LAYERS)],
    ids=["package", "validation"],
)
def test_every_module_has_its_place_on_the_map(
    graph: grimp.ImportGraph, container: str, layers: tuple[Layer, ...]
) -> None:
    placed = {f"{container}.{name}" for layer in layers for name in layer.module_tails}
    children = graph.find_children(container)
    assert children - placed == set(), (
        "add these modules to docs/architecture.md and to LAYERS in this test"
    )


def test_the_checks_catch_an_import_back_up() -> None:
    """The checks above can fail: an import of the CLI from the errors is caught."""
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    graph.add_import(importer=f"{PACKAGE}.errors", imported=f"{PACKAGE}.cli")
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_no_import_cycles(graph)
    with pytest.raises(AssertionError, match="errors"):
        test_imports_follow_the_module_map(graph, PACKAGE, LAYERS)


def test_fmt_does_not_load_the_validators(graph: grimp.ImportGraph) -> None:
    upstream = graph.find_upstream_modules(f"{PACKAGE}.canonical")
    assert not {m for m in upstream if m.startswith(f"{PACKAGE}.validation")}
