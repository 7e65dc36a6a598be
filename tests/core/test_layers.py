"""Layers run one way: the core (``participation``) imports no feature, even in a function."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("surveys", "challenge_cards", "panel")


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):  # every node: module level, functions, classes, branches
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from surveys import reads`` imports surveys.reads; ``from . import x`` stays inside.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _is_feature(module: str) -> bool:
    return module.split(".")[0] in FEATURES


def test_the_core_imports_no_feature_anywhere():
    problems = []
    modules = sorted((ROOT / "participation").rglob("*.py"))
    assert len(modules) > 30  # the walk found the package
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in _imports(tree):
            if _is_feature(module):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_import_hidden_in_a_function():
    source = "def f():\n    if True:\n        from surveys.models import Answer\n    import panel\n"
    found = {m for _line, m in _imports(ast.parse(source)) if _is_feature(m)}
    assert found == {"surveys.models.Answer", "panel"}


def test_panel_reads_surveys_and_cards_only_through_their_read_modules():
    allowed = {"surveys.reads", "challenge_cards.reads"}
    problems = []
    for path in sorted((ROOT / "panel").rglob("*.py")):
        if path.name == "generate.py" or path.name == "demo.py":
            continue  # the demo data generators write surveys and cards, as a worker would
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module in _imports(tree):
            feature = module.split(".")[0] in ("surveys", "challenge_cards")
            if feature and not any(module.startswith(a) for a in allowed):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not problems, "\n".join(problems)


def test_blueprints_are_registered_from_a_named_list():
    import participation

    assert "panel.views" in participation.BLUEPRINT_MODULES
    assert "surveys.views" in participation.BLUEPRINT_MODULES
