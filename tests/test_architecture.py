"""The code's shape: no module imports another package's private names."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "mlplab"


def _package(module: str) -> str:
    """``mlplab.training.loop`` -> ``mlplab.training``; top-level modules are their own."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_module_imports_a_private_name_of_another_package():
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        here = ".".join(rel.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if not node.module.startswith("mlplab"):
                    continue
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
                if private and _package(node.module) != _package(here):
                    offenders.append(f"{here}: from {node.module} import {', '.join(private)}")
    assert not offenders, offenders


def _layout_block() -> list[str]:
    """The README's code layout: the fenced block that starts with ``src/mlplab/``."""
    text = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    start = text.index("```\nsrc/mlplab/\n") + 4
    return text[start : text.index("```", start)].splitlines()


def test_the_readme_layout_names_every_module_in_its_package():
    """Each module is named under its own package's entry (``runs/ writer.py ...``)."""
    sections: dict[str, str] = {}
    package = ""
    for line in _layout_block()[1:]:
        head = line.split()[0] if line.strip() and not line.startswith(" " * 6) else ""
        if head.endswith("/"):
            package = head
        elif head:
            package = ""  # a top-level module's line
        sections[package] = sections.get(package, "") + " " + line
    missing = []
    for path in SRC.rglob("*.py"):
        if path.name == "__init__.py" and path.parent != SRC:
            continue
        rel = path.relative_to(SRC)
        package = rel.parts[-2] + "/" if len(rel.parts) > 1 else ""
        if path.name not in sections.get(package, ""):
            missing.append(str(rel))
    assert not missing, f"README's code layout does not name {sorted(missing)}"


def test_the_suite_has_one_conftest_that_tests_import_by_name():
    """Test modules import helpers with ``from conftest import ...``. The suite's folders
    are not packages, so a second ``conftest.py`` (tests/sweeps/ had one) is the module
    ``conftest`` in whichever worker imports it first, and those imports failed there."""
    tests = Path(__file__).resolve().parent
    assert [p.relative_to(tests).as_posix() for p in tests.rglob("conftest.py")] == ["conftest.py"]
    importers = [p for p in tests.rglob("test_*.py") if "from conftest import" in p.read_text()]
    assert importers  # the reason for the rule is still there


def test_every_type_a_public_function_returns_is_a_public_name():
    """``mlplab.backprop`` returned a Trace and ``mlplab.run_gradcheck`` CheckResults that
    ``import mlplab`` did not name: a caller could not annotate ``def show(t: mlplab.Trace)``
    nor find the class in ``dir(mlplab)``."""
    import inspect
    import sys
    import typing

    import mlplab

    public = set(mlplab.__all__)
    for name in public:
        value = getattr(mlplab, name)
        if not inspect.isfunction(value):
            continue
        # The return annotation alone: parameters name types imported for checkers only.
        text = inspect.signature(value).return_annotation
        returned = eval(text, vars(sys.modules[value.__module__]))
        for part in (returned, *typing.get_args(returned)):
            if inspect.isclass(part) and part.__module__.startswith("mlplab"):
                assert part.__name__ in public, f"mlplab.{name} returns {part.__name__}"
                assert getattr(mlplab, part.__name__) is part


def test_the_type_hints_of_every_public_class_resolve_at_run_time():
    """typing.get_type_hints(mlplab.SweepResult) raised NameError ('Report' was imported for
    type checkers only): autodoc and run-time type checkers read these."""
    import typing

    import mlplab

    classes = [getattr(mlplab, n) for n in mlplab.__all__ if isinstance(getattr(mlplab, n), type)]
    assert len(classes) >= 10
    for cls in classes:
        typing.get_type_hints(cls)
    assert typing.get_type_hints(mlplab.SweepResult)["report"] == mlplab.Report | None
