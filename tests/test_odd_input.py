"""Odd input never gives a 500 (issue 15, finding 6): the probe's cases, then every parameter."""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from moderation.models import Role
from moderation.pages import forms
from moderation.params import FILTER_KEYS
from moderation.services import wordlists
from tests.conftest import PASSWORD, create_staff, csrf_from
from tests.helpers import count_comments

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_PER_NAME = 5  # for each route x name it reads (about 200 pairs): ~15 s in all


@pytest.fixture
def admin(app, client, article):
    create_staff(app, "root", Role.ADMIN)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": token})
    return client


def token(client) -> str:
    return csrf_from(client.get("/moderation").get_data(as_text=True))


@pytest.mark.parametrize("url", [
    "/articles/ai-multi-cloud-strategy?page=²", "/moderation?page=²", "/moderation/history?page=²",
    "/moderation?article=²", "/editor?article=²", "/moderation?page=" + "9" * 5000,
    f"/moderation?article={2**70}", "/editor?end=9999-12-31", "/editor?start=0001-01-01",
    "/editor/export/comments.csv?end=9999-12-31", "/editor/export/comments.json?end=9999-12-31",
    "/editor/export/breakdown.csv?end=9999-12-31",
])
def test_odd_query_values_are_a_clear_400(admin, url):
    response = admin.get(url)
    assert response.status_code == 400
    assert re.search(r"must (be|look like)", response.get_data(as_text=True))


@pytest.mark.parametrize("ids", [[str(2**70)], ["9" * 5000], ["²"], ["1", "-1"], ["0"]])
def test_odd_bulk_ids_are_a_clear_400_and_change_nothing(admin, app, ids):
    response = admin.post("/moderation/bulk", data={"csrf_token": token(admin), "action": "approve", "ids": ids})
    assert response.status_code == 400
    assert "Comment numbers must be whole numbers" in response.get_data(as_text=True)
    assert count_comments(app, status="approved") == 6


@pytest.mark.parametrize("action", ["approve", "reject", "undo"])
def test_a_comment_number_too_large_for_any_comment_is_a_clear_400(admin, action):
    response = admin.post(f"/moderation/99999999999999999999/{action}", data={"csrf_token": token(admin)})
    assert response.status_code == 400
    assert "There is no comment number 99999999999999999999." in response.get_data(as_text=True)


@pytest.mark.parametrize("decision", ["²", str(2**70), "9" * 5000, "-1"])
def test_an_odd_decision_number_to_undo_is_a_clear_400_and_changes_nothing(admin, app, decision):
    # Found by the property-based run below: "²".isdigit() is true, but int("²") fails.
    response = admin.post("/moderation/1/undo", data={"csrf_token": token(admin), "decision": decision})
    assert response.status_code == 400
    assert "The decision to undo must be a decision number." in response.get_data(as_text=True)
    assert count_comments(app, status="approved") == 6


@pytest.mark.parametrize("trusted_after", ["²", "٣", str(2**70), "1e3"])
def test_an_odd_trust_threshold_is_a_form_error_and_saves_nothing(admin, app, trusted_after):
    # Found by the property-based run below, like the decision number above.
    page = admin.get("/settings/moderation").get_data(as_text=True)
    response = admin.post("/settings/moderation", data={"csrf_token": csrf_from(page), "banned": "spam",
                                                         "suspect": "", "trusted_after": trusted_after})
    assert response.status_code == 422
    assert "Use a whole number from 0 (off) to 1000." in response.get_data(as_text=True)
    with app.app_context():
        assert ("banned", "spam") not in wordlists.entries()


def test_a_number_too_large_for_any_row_in_any_address_is_a_clear_400(admin, app):
    # Found by the property-based run below: SQLite cannot even compare 2^63 with an id column.
    numbered = [(rule.rule, method) for rule in app.url_map.iter_rules() if "<int:" in rule.rule
                for method in sorted(rule.methods & {"GET", "POST"})]
    assert len(numbered) >= 10
    for rule, method in numbered:
        url = re.sub(r"<int:\w+>", str(2**63), rule).replace("<slug>", "ai-multi-cloud-strategy")
        url = re.sub(r"<any\((\w+)[^>]*>", r"\1", url)
        response = admin.open(url, method=method, data={"csrf_token": token(admin)} if method == "POST" else None)
        assert response.status_code == 400, (method, url)
        assert re.search(rf"There is no [a-z ]+ number {2**63}\.", response.get_data(as_text=True)), (method, url)


def test_a_next_address_with_a_line_break_is_ignored_at_log_in(app, client):
    create_staff(app, "mod", Role.MODERATOR)
    page = client.get("/login?next=%2F%0D%0AX%3A1").get_data(as_text=True)
    response = client.post("/login?next=%2F%0D%0AX%3A1",
                           data={"username": "mod", "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/moderation"
    assert "X" not in response.headers


def test_the_comments_export_downloads_whole(admin):
    response = admin.get("/editor/export/comments.csv?statuses=all&start=2020-01-01&end=2029-12-31")
    lines = response.get_data(as_text=True).splitlines()
    assert response.status_code == 200 and lines[0].startswith("id,article,author,body")
    assert len(lines) == 7


# Every parameter of every route, by property-based testing ----------------------------------

def parameter_names() -> list[str]:
    """Every query parameter and form field the app reads, found in its own source and forms."""
    source = "\n".join(path.read_text() for path in (ROOT / "moderation").rglob("*.py"))
    names = set(re.findall(r'(?:args|form)\.get(?:list)?\(\s*"(\w+)"', source))
    names |= set(re.findall(r'(?:date_arg|parse_date)\("(\w+)"\)', source))
    names |= set(re.findall(r'FILTER_KEYS = \(([^)]*)\)', source)[0].replace('"', "").replace(" ", "").split(","))
    for form in vars(forms).values():
        if isinstance(form, type) and issubclass(form, forms.FlaskForm):
            names |= {name for name, value in vars(form).items() if isinstance(value, UnboundField)}
    return sorted(names)


ODD_VALUES = ["²", "٣", "9" * 5000, str(2**70), "-1", "0", "1e3", " 1", "9999-12-31", "0001-01-01",
              "2026-02-30", "/\r\nX:1", "//evil.example", "%C3", "\x00", "💥", "a" * 400, "",
              "approve", "reject", "all", "pending", "privacy", "negative", "week", "personal_data"]
VALUES = st.one_of(st.sampled_from(ODD_VALUES),
                   st.text(st.characters(exclude_categories=("Cs",)), max_size=30))
ARGUMENT = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def url_strategy(rule: str) -> st.SearchStrategy[str]:
    """Fill each <converter:name> of a rule with odd but routable values."""
    parts: list[st.SearchStrategy[str]] = []
    position = 0
    for match in ARGUMENT.finditer(rule):
        parts.append(st.just(rule[position:match.start()]))
        converter, options = match.group(1), match.group(2)
        if converter == "int":
            parts.append(st.integers(0, 10**25).map(str) | st.sampled_from(["1", "2", "7"]))
        elif converter == "any":
            parts.append(st.sampled_from([o.strip() for o in options.split(",")]))
        else:
            parts.append(st.sampled_from(["ai-multi-cloud-strategy", "csv", "json", "xml", "²", "x" * 300]))
        position = match.end()
    parts.append(st.just(rule[position:]))
    return st.tuples(*parts).map("".join)


# Reads the source scan below cannot see: the word-list page reads one field per list kind in a loop.
UNSEEN_READS = {"settings.moderation": {"trusted_after", *wordlists.KINDS}}
READS = re.compile(r'\b(?:args|form|values)\.get(?:list)?\(\s*"(\w+)"|(?:date_arg|parse_date)\("(\w+)"\)')
READS_OF_A_CONSTANT = re.compile(r'\b(?:args|form|values)\.get(?:list)?\(\s*([A-Z_]+)\s*[,)]')
WEB_MODULES = ("moderation.pages", "moderation.api", "moderation.params", "moderation.security")


def names_used(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from names_used(constant)


def called_by(function: types.FunctionType) -> list[object]:
    """What a function names: its globals, and the attributes it takes of modules it names."""
    used = list(names_used(function.__code__))
    found = [function.__globals__[name] for name in used if name in function.__globals__]
    modules = [value for value in found if isinstance(value, types.ModuleType)]
    return found + [getattr(module, name) for module in modules for name in used if hasattr(module, name)]


def reads_in(function: types.FunctionType) -> set[str]:
    """The query and form names one function's source reads."""
    source, known = inspect.getsource(function), function.__globals__
    names = {quoted or dated for quoted, dated in READS.findall(source)}
    names |= {known[name] for name in READS_OF_A_CONSTANT.findall(source) if isinstance(known.get(name), str)}
    return names | (set(FILTER_KEYS) if "FILTER_KEYS" in source else set())


def view_reads(view: types.FunctionType) -> list[str]:
    """Every query parameter and form field a view reads: in its own code, the web-side helpers it
    calls (services never read the request) and the forms it builds."""
    names: set[str] = set()
    seen, waiting = set(), [inspect.unwrap(view)]
    while waiting:
        item = waiting.pop()
        if item in seen:
            continue
        seen.add(item)
        if isinstance(item, type):
            names |= {name for name, value in vars(item).items() if isinstance(value, UnboundField)}
            continue
        names |= reads_in(item)
        for value in called_by(item):
            if isinstance(value, type) and issubclass(value, forms.FlaskForm):
                waiting.extend(value.__mro__)
            elif isinstance(value, types.FunctionType) and value.__module__.startswith(WEB_MODULES):
                waiting.append(inspect.unwrap(value))
    return sorted(names)


def routes(app) -> list[tuple[str, str, str, list[str]]]:
    """(endpoint, rule, method, the names its view reads) for every route and method."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        reads = sorted({*view_reads(app.view_functions[rule.endpoint]), *UNSEEN_READS.get(rule.endpoint, ())})
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, rule.rule, method, reads))
    return found


def log_in_again(client) -> str:
    """After an example logged out: log in again and return the new session's CSRF token."""
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": csrf_from(page)})
    return token(client)


def test_every_route_reads_the_parameters_the_scan_finds(app):
    reads = {(endpoint, method): names for endpoint, _, method, names in routes(app)}
    assert {"page", "article", "status", "topic", "sort", "q"} <= set(reads["queue.index", "GET"])
    assert {"ids", "action", "status"} <= set(reads["queue.bulk", "POST"])
    assert {"username", "password", "next"} <= set(reads["auth.login", "POST"])
    assert {"start", "end", "statuses", "by"} <= set(reads["editor.dashboard", "GET"])
    assert {"title", "canonical_url", "slug", "comments_open", "premoderated"} <= set(reads["articles.edit", "POST"])
    assert {"article", "order", "per_page"} <= set(reads["api.list_comments", "GET"])
    assert {"banned", "suspect", "trusted_after"} <= set(reads["settings.moderation", "POST"])
    every_name = {name for names in reads.values() for name in names}
    assert every_name <= set(parameter_names()) | UNSEEN_READS["settings.moderation"]


def test_no_value_of_any_parameter_on_any_route_gives_a_5xx(app, admin):
    """Each route and method, with each name its view reads in turn given odd values (beside a few
    of its other names): a small derandomised budget per pair, so every pair is tried."""
    all_routes = routes(app)
    assert len(all_routes) >= 15
    csrf = {"token": token(admin)}

    def try_route(rule: str, method: str, names: list[str], focus: str | None) -> None:
        @settings(max_examples=EXAMPLES_PER_NAME, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(data=st.data())
        def request_anything(data):
            url = data.draw(url_strategy(rule))
            others = st.dictionaries(st.sampled_from(names), VALUES, max_size=2) if names else st.just({})
            query, form = data.draw(others), data.draw(others)
            if focus is not None:
                value = data.draw(VALUES)
                query[focus] = value
                if method == "POST":
                    form[focus] = value
            response = admin.open(url, method=method, query_string=query,
                                  data={**form, "csrf_token": csrf["token"]} if method == "POST" else None)
            body = response.get_data()  # a streamed export must finish, too
            assert response.status_code < 500, (method, url, query, form, body[:300])
            if method == "POST" and admin.get("/operations/status.json").status_code != 200:
                csrf["token"] = log_in_again(admin)  # the example logged out, or changed the password

        request_anything()

    for _, rule, method, names in all_routes:
        for focus in names or [None]:
            try_route(rule, method, names, focus)
