"""The package layout keeps the one-way flow: pages and API -> services -> models and classifiers.

Every module is parsed, not imported, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRONT_ENDS = ("moderation.pages", "moderation.api")
REQUEST = ("flask.request", "flask.globals.request")
WEB_FRAMEWORK = ("flask", "flask_*", "werkzeug", "moderation")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imported_names(source: str, package: str) -> set[str]:
    """Every dotted name the source imports; `from a import b` counts as `a` and `a.b`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "flask":
            found.add(f"flask.{node.attr}")  # `import flask` then `flask.request`
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    """`a.b` matches `a.b` and `a.b.c`; `flask_*` matches any name starting with `flask_`."""
    for pattern in patterns:
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if name == pattern or name.startswith(pattern + "."):
            return True
    return False


def violations(source: str, package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imported_names(source, package) if matches(name, forbidden))


def modules(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def ids(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


BELOW_THE_FRONT_ENDS = modules("moderation/services", "moderation/jobs") + [ROOT / "moderation/models.py"]
SERVICES = modules("moderation/services")
CLASSIFIERS = modules("classifiers")


@pytest.mark.parametrize("path", BELOW_THE_FRONT_ENDS, ids=ids(BELOW_THE_FRONT_ENDS))
def test_services_jobs_and_models_never_import_pages_or_the_api(path: Path):
    assert violations(path.read_text(), package_of(path), FRONT_ENDS) == []


PAGES, API = modules("moderation/pages"), modules("moderation/api")


@pytest.mark.parametrize("path", PAGES, ids=ids(PAGES))
def test_pages_never_import_the_api(path: Path):
    assert violations(path.read_text(), package_of(path), ("moderation.api",)) == []


@pytest.mark.parametrize("path", API, ids=ids(API))
def test_the_api_never_imports_the_pages(path: Path):
    """Two front ends over the same services: what both need lives in services/ or params.py."""
    assert violations(path.read_text(), package_of(path), ("moderation.pages",)) == []


@pytest.mark.parametrize("path", SERVICES, ids=ids(SERVICES))
def test_services_never_read_the_request(path: Path):
    assert violations(path.read_text(), package_of(path), REQUEST) == []


@pytest.mark.parametrize("path", CLASSIFIERS, ids=ids(CLASSIFIERS))
def test_classifiers_never_import_flask_or_the_app(path: Path):
    assert violations(path.read_text(), package_of(path), WEB_FRAMEWORK) == []


def test_every_layer_is_checked():
    """The lists above come from the folders: an empty one would make the checks pass by default."""
    assert len(SERVICES) >= 10 and len(CLASSIFIERS) >= 5 and len(PAGES) >= 10 and len(API) >= 2
    assert {path.parent.name for path in BELOW_THE_FRONT_ENDS} >= {"services", "jobs", "moderation"}


@pytest.mark.parametrize(("source", "package", "forbidden", "expected"), [
    ("from moderation.pages import queue\n", "moderation.services", FRONT_ENDS, ["moderation.pages",
                                                                                "moderation.pages.queue"]),
    ("from ..api.routes import bp\n", "moderation.jobs", FRONT_ENDS, ["moderation.api.routes",
                                                                      "moderation.api.routes.bp"]),
    ("def f():\n    import moderation.api.openapi\n", "moderation", FRONT_ENDS, ["moderation.api.openapi"]),
    ("from flask import current_app, request\n", "moderation.services", REQUEST, ["flask.request"]),
    ("import flask\nx = flask.request.args\n", "moderation.services", REQUEST, ["flask.request"]),
    ("import flask\n", "classifiers.topic", WEB_FRAMEWORK, ["flask"]),
    ("from flask_login import current_user\n", "classifiers", WEB_FRAMEWORK, ["flask_login",
                                                                            "flask_login.current_user"]),
    ("from moderation.models import Comment\n", "classifiers", WEB_FRAMEWORK, ["moderation.models",
                                                                             "moderation.models.Comment"]),
    ("from flask import current_app\nfrom .comments import clean_text\n", "moderation.services", REQUEST, []),
], ids=["absolute", "relative", "inside a function", "from flask", "flask attribute", "import flask",
        "flask extension",
        "the app", "allowed"])
def test_the_checks_catch_each_kind_of_wrong_import(source, package, forbidden, expected):
    assert violations(source, package, forbidden) == expected
