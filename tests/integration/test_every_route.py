"""Every route, as every kind of user, with the demo data in every status: never a server error.

The per-area tests check what each user may see and do; this one is the net under them. It
walks the URL map, fills each route's arguments with every matching object of the demo data,
and requests it as a visitor, as partners inside and outside the proposing organisation and as
each staff role – as a normal request, as an htmx request, and as an empty form post.

Hostile input too, once per route and user: every number of the path out of the database's
range (404), every query parameter and form field any form knows set to a huge number, to
5000 digits and to impossible dates (no server error), and a NUL byte in a query parameter and
in a form field (400 with the message of innolab/web/input_checks.py).
"""
from __future__ import annotations

import importlib
import time
from pathlib import Path
import pkgutil
import re

from flask import url_for
from flask_wtf import FlaskForm
import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter
from wtforms import DateField
from wtforms.fields.core import UnboundField

import innolab

from innolab.demo import seed
from innolab.domain import sessions
from tests import factories
from tests.routes import route_urls, route_values
from innolab.extensions import db
from innolab.models import User
from innolab.web import RECENT_AUTH_KEY, SECOND_FACTOR_KEY

ROLES = ("visitor", "partner@innolab.example", "partner4@innolab.example",
         "admin@innolab.example", "koordination@innolab.example", "gutachten@innolab.example",
         "entscheidung@innolab.example", "datenschutz@innolab.example",
         "informationssicherheit@innolab.example")

# Routes whose POST ends the session or sends the user elsewhere; requested last per user.
SESSION_ENDING = {"auth.logout"}


@pytest.fixture
def demo(app_ctx):
    _TOKENS.clear()  # each test seeds its own demo data (and so its own sessions)
    assert seed() is True
    return route_values()


# One signed-in session per person and demo, reused while it lasts: opening a session is a
# write, and the crawl makes thousands of requests (a POST that signs out, e.g. /logout, ends
# it; the next request opens a new one).
_TOKENS: dict[str, str] = {}


def _token_of(user: User) -> str:
    token = _TOKENS.get(user.email)
    if token is None or sessions.lookup(token).state is not sessions.State.ACTIVE:
        token = _TOKENS[user.email] = factories.session_token(user)
    return token


def _client_as(app, email):
    client = app.test_client()
    if email != "visitor":
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        with client.session_transaction() as session:
            session["_user_id"] = _token_of(user)
            session["_fresh"] = True
            # as start_session leaves it after a full sign-in (second factor, recent proof)
            session[SECOND_FACTOR_KEY] = True
            session[RECENT_AUTH_KEY] = int(time.time())
    return client


# The readiness probe answers 503 by design while a dependency fails (this suite's database is
# made with create_all, not migrated); tests/integration/test_operations.py covers it.
READINESS = "ops.readyz"


@pytest.mark.parametrize("who", ROLES)
def test_every_get_route_answers_without_server_error(app, demo, who):
    failures = []
    for endpoint, url in route_urls(app, demo, "GET"):
        for headers in ({}, {"HX-Request": "true"}):
            response = _client_as(app, who).get(url, headers=headers)
            if endpoint == READINESS:
                assert response.status_code in (200, 503), response.status_code
            elif response.status_code >= 500:
                failures.append(f"{who} GET {url} {headers}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("who", ROLES)
def test_every_post_route_with_empty_form_answers_without_server_error(app, demo, who):
    failures = []
    urls = route_urls(app, demo, "POST")
    urls.sort(key=lambda u: u[0] in SESSION_ENDING)
    for _endpoint, url in urls:
        response = _client_as(app, who).post(url, data={})
        if response.status_code >= 500:
            failures.append(f"{who} POST {url}: {response.status_code}")
        db.session.rollback()
    assert failures == []


# ---------------------------------------------------------------- hostile input

OUT_OF_RANGE = (2_147_483_648, 99_999_999_999_999_999_999)
HUGE = "99999999999999999999"
DIGITS = "9" * 5000
NUL_MESSAGE = "Ihre Eingabe enthält ein unzulässiges Steuerzeichen"


def _all_forms():
    for info in pkgutil.walk_packages(innolab.__path__, "innolab."):
        if info.name.endswith(".forms"):
            importlib.import_module(info.name)
    todo, seen = list(FlaskForm.__subclasses__()), set()
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _prefixes() -> dict[str, set[str]]:
    """Forms a view makes with a prefix (`MilestoneForm(prefix="milestone")`): their fields
    arrive as `milestone-title`."""
    found: dict[str, set[str]] = {}
    for path in Path(innolab.__file__).parent.rglob("*.py"):
        for form, prefix in re.findall(r'(\w+Form)\([^)]*prefix="(\w+)"', path.read_text()):
            found.setdefault(form, set()).add(prefix)
    return found


def _field_names():
    """Every field name any form of the app declares (prefixed as its view makes it), with
    whether it is a date, plus the query arguments read without a form."""
    names = {"page": False, "seen": False, "next": False, "q": False}
    prefixes = _prefixes()
    for form in _all_forms():
        for klass in form.__mro__:
            for name, attr in vars(klass).items():
                if isinstance(attr, UnboundField):
                    is_date = issubclass(attr.field_class, DateField)
                    for full in (name, *(f"{p}-{name}" for p in prefixes.get(form.__name__, ()))):
                        names[full] = names.get(full, False) or is_date
    return names


def _hostile_values(names, number: str, day: str) -> dict:
    return {name: day if is_date else number for name, is_date in names.items()}


def _one_url_per_route(app, values, method):
    """Each route once, with the first matching object of the demo data: (rule, arguments)."""
    out = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint == "static":
            continue
        arguments = {a: values.get(a, [1] if a.endswith("_id") else [None])[0]
                     for a in rule.arguments}
        out.append((rule, arguments))
    return sorted(out, key=lambda ra: (ra[0].endpoint in SESSION_ENDING, ra[0].rule))


def _out_of_range_urls(app, values, method):
    """Each route with an int in its path, that int above what the database holds."""
    urls = []
    with app.test_request_context():
        for rule, arguments in _one_url_per_route(app, values, method):
            for name, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter):
                    for number in OUT_OF_RANGE:
                        urls.append(url_for(rule.endpoint, **{**arguments, name: number}))
    return urls


def _plain_urls(app, values, method):
    with app.test_request_context():
        return [url_for(rule.endpoint, **arguments)
                for rule, arguments in _one_url_per_route(app, values, method)]


def test_every_route_is_visited_with_hostile_input():
    """The field names come from the forms themselves: a new form is covered without a change
    here (and the path numbers of at least the proposal and challenge routes)."""
    names = _field_names()
    assert {"title", "name", "organisation_id", "challenge_id", "page", "date_to",
            "due_date", "version", "milestone-due_date"} <= set(names)
    assert names["date_to"] and names["milestone-due_date"] and not names["title"]


@pytest.mark.parametrize("who", ROLES)
def test_path_numbers_out_of_range_answer_404(app, demo, who):
    failures = []
    for method in ("GET", "POST"):
        for url in _out_of_range_urls(app, demo, method):
            response = getattr(_client_as(app, who), method.lower())(url)
            if response.status_code != 404:
                failures.append(f"{who} {method} {url}: {response.status_code}")
            db.session.rollback()
    assert failures == []


@pytest.mark.parametrize("who", ROLES)
def test_hostile_query_parameters_never_give_a_server_error(app, demo, who):
    names = _field_names()
    failures = []
    for url in _plain_urls(app, demo, "GET"):
        if url == "/readyz":  # answers 503 by design here (see READINESS above)
            continue
        for query in (_hostile_values(names, HUGE, "9999-12-31"),
                      _hostile_values(names, DIGITS, "0001-01-01")):
            response = _client_as(app, who).get(url, query_string=query)
            if response.status_code >= 500:
                failures.append(f"{who} GET {url} ({query['page'][:5]}…): "
                                f"{response.status_code}")
        response = _client_as(app, who).get(url, query_string={"q": "Nord\x00licht",
                                                               "page": "2"})
        if response.status_code != 400 or _nul_message(url) not in _text(response):
            failures.append(f"{who} GET {url}?q=NUL: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("who", ROLES)
def test_hostile_form_fields_never_give_a_server_error(app, demo, who):
    names = _field_names()
    failures = []
    for url in _plain_urls(app, demo, "POST"):
        for data in (_hostile_values(names, HUGE, "9999-12-31"),
                     _hostile_values(names, DIGITS, "0001-01-01")):
            response = _client_as(app, who).post(url, data=data)
            if response.status_code >= 500:
                failures.append(f"{who} POST {url} ({data['title'][:5]}…): "
                                f"{response.status_code}")
            db.session.rollback()
        response = _client_as(app, who).post(url, data={"title": "Nord\x00licht",
                                                        "name": "Anna"})
        if response.status_code != 400 or _nul_message(url) not in _text(response):
            failures.append(f"{who} POST {url} title=NUL: {response.status_code}")
        db.session.rollback()
    assert failures == []


def _nul_message(url: str) -> str:
    """The open data API answers in English, as problem+json; every page in German."""
    return "cannot be stored" if url.startswith("/api/") else NUL_MESSAGE


def _text(response) -> str:
    return response.get_data(as_text=True)
