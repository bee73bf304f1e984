"""Open data: the read-only JSON API, the Atom feeds and the staff's CSV export.

Public data comes only from innolab.domain.showcase (through innolab.domain.opendata); these
views parse the query, call one domain function and answer. They are GET only and need no
session, so CSRF does not apply.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import audit, opendata, permissions, showcase
from ..domain import review as rv
from ..links import external_url
from ..extensions import db, login_manager
from ..models._base import utcnow
from ..review.forms import InboxFilterForm
from ..web.pagecache import cacheable
from ..web import render, require
from . import bp
from . import openapi as spec
from . import params as P

ATOM = "application/atom+xml; charset=utf-8"
# Caches may keep open data but must ask again each time (a cheap 304 with the ETag): a
# pilot whose partner withdrew consent is gone from every answer at once.
PUBLIC_CACHE = "public, no-cache"
OPEN_PATHS = ("/api/", "/feeds/")


@bp.errorhandler(P.ApiError)
def _api_error(exc: P.ApiError):
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.mimetype = "application/problem+json"
    return response


@bp.after_request
def _open_data_headers(response):
    """Public open data: any site may read it (CORS); caches revalidate every time."""
    if request.path.startswith(OPEN_PATHS):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if response.status_code == 200:
            response.headers["Link"] = opendata.licence_link_header()
        if response.status_code == 200 and request.endpoint != "api.docs":
            response.headers.setdefault("Cache-Control", PUBLIC_CACHE)
            if not response.direct_passthrough:
                response.add_etag()
                response.make_conditional(request)
    return response


# ---------------------------------------------------------------- helpers


def _page_body(page, items: list[dict], values: dict, params: tuple[P.Param, ...]) -> dict:
    """The envelope of a list: items, counts and links that keep the filters."""
    defaults = {p.name: p.schema.get("default") for p in params}
    keep = {k: v for k, v in values.items()
            if k != "page" and v is not None and v != defaults.get(k)}
    if values["per_page"] != defaults["per_page"]:
        keep["per_page"] = values["per_page"]
    view_args = request.view_args or {}
    endpoint = request.endpoint or ""

    def link(n: int) -> str:
        return external_url(endpoint, **view_args, **keep, **({"page": n} if n > 1 else {}))

    last = max(page.pages, 1)
    number = values["page"]
    return {
        "items": items, "page": number, "per_page": values["per_page"], "total": page.total,
        "pages": page.pages,
        "links": {"self": link(number), "first": link(1), "last": link(last),
                  "next": link(number + 1) if number < page.pages else None,
                  "prev": link(min(number - 1, last)) if number > 1 else None},
        "license": opendata.licence(),
    }


def _list(params: tuple[P.Param, ...], item, search):
    """A paged list: the query parsed by `params`, `search(values)` gives the page of rows and
    `item(row)` the JSON object of each."""
    v = P.parse(request.args, params)
    page = search(v)
    return jsonify(_page_body(page, [item(row) for row in page.items], v, params))


# ---------------------------------------------------------------- the document and its page


@bp.get("/api/v1/openapi.json")
@cacheable
def openapi():
    server = external_url("showcase.home").rstrip("/")
    return jsonify(spec.document(server))


@bp.get("/open-data")
@cacheable
def docs():
    return render("api/docs.html",
                  openapi_url=url_for("api.openapi"),
                  example=url_for("api.pilots", status="running", per_page=5),
                  params=P, opendata=opendata, licence=opendata.licence())


# ---------------------------------------------------------------- challenges


@bp.get("/api/v1/challenges")
@cacheable
def challenges():
    return _list(P.CHALLENGE_PARAMS, opendata.challenge, lambda v: showcase.search_challenges(
        showcase.ChallengeFilter(q=v["q"], status=v["status"], topic=v["topic"],
                                 authority=v["authority"]),
        page=v["page"], per_page=v["per_page"]))


@bp.get("/api/v1/challenges/<challenge_id>")
@cacheable
def challenge(challenge_id: str):
    c = showcase.public_challenge(P.path_id(challenge_id))
    if c is None:
        raise P.ApiError(404, "There is no published challenge with this id.")
    return jsonify(opendata.challenge_detail(c))


# ---------------------------------------------------------------- pilots


@bp.get("/api/v1/pilots")
@cacheable
def pilots():
    return _list(P.PILOT_PARAMS, opendata.pilot, lambda v: showcase.search_pilots(
        showcase.PilotFilter(q=v["q"], status=v["status"], topic=v["topic"],
                             authority=v["authority"]),
        page=v["page"], per_page=v["per_page"]))


@bp.get("/api/v1/pilots/<proposal_id>")
@cacheable
def pilot(proposal_id: str):
    p = showcase.public_pilot(P.path_id(proposal_id))
    if p is None:
        raise P.ApiError(404, "There is no published pilot with this id.")
    return jsonify(opendata.pilot_detail(p))


# ---------------------------------------------------------------- results


@bp.get("/api/v1/results")
@cacheable
def results():
    return _list(P.RESULT_PARAMS, opendata.result, lambda v: showcase.search_results(
        showcase.ResultsFilter(q=v["q"], recommendation=v["recommendation"], topic=v["topic"],
                               authority=v["authority"]),
        page=v["page"], per_page=v["per_page"]))


# ---------------------------------------------------------------- organisations


@bp.get("/api/v1/organisations")
@cacheable
def organisations():
    return _list(P.ORGANISATION_PARAMS, opendata.organisation,
                 lambda v: showcase.search_organisations(q=v["q"], kind=v["kind"],
                                                         page=v["page"], per_page=v["per_page"]))


@bp.get("/api/v1/organisations/<slug>")
@cacheable
def organisation(slug: str):
    found = None
    if len(slug) <= 220 and "\x00" not in slug:
        found = showcase.public_organisation(slug)
    if found is None:
        raise P.ApiError(404, "There is no organisation with this slug.")
    org, org_pilots = found
    return jsonify(opendata.organisation_detail(org, org_pilots))


# ---------------------------------------------------------------- Atom feeds


def _feed(title: str, subtitle: str, page_endpoint: str, entries) -> Response:
    here = external_url(request.endpoint or "")
    body = opendata.atom_feed(
        feed_id=here, title=title, subtitle=subtitle,
        self_url=here, alternate_url=external_url(page_endpoint),
        author=_("InnoLab des ZDMV"), entries=entries)
    response = Response(body, content_type=ATOM)
    response.vary.update(("Accept-Language", "Cookie"))  # titles follow the chosen language
    return response


@bp.get("/feeds/challenges.atom")
@cacheable
def feed_challenges():
    return _feed(_("InnoLab: neue Herausforderungen"),
                 _("Bedarfe der Behörden des Landes Mecklenburg-Vorpommern"),
                 "showcase.challenges", opendata.challenge_entries())


@bp.get("/feeds/pilots.atom")
@cacheable
def feed_pilots():
    return _feed(_("InnoLab: veröffentlichte Piloten"),
                 _("Pilotprojekte von Partnern mit Behörden des Landes"),
                 "showcase.pilots", opendata.pilot_entries())


@bp.get("/feeds/results.atom")
@cacheable
def feed_results():
    return _feed(_("InnoLab: veröffentlichte Ergebnisse"),
                 _("Ergebnisberichte abgeschlossener Piloten"),
                 _results_page(), opendata.results_entries())


def _results_page() -> str:
    """The results overview of the showcase, once it exists; the pilots until then."""
    return "showcase.results" if "showcase.results" in current_app.view_functions \
        else "showcase.pilots"


# ---------------------------------------------------------------- staff CSV export


@bp.get("/staff/export/proposals.csv")
def export_proposals():
    """The submitted proposals with their scores, filtered like the review inbox (by default
    the open ones, `status=all` every one)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(permissions.see_all_submissions(current_user))
    filters = InboxFilterForm(request.args, rv.inbox_challenges()).cleaned()
    proposals = db.session.execute(
        rv.inbox_query(current_user, **filters).options(*rv.EXPORT_ROW)).scalars().unique().all()
    body = opendata.proposals_csv(proposals)
    audit.record(current_user, "proposal.export", None, count=len(proposals),
                 **{k: v for k, v in filters.items() if v})
    db.session.commit()
    name = f"innolab-vorschlaege-{utcnow():%Y-%m-%d}.csv"
    response = Response(body, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
