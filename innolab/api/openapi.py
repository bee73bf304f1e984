"""The OpenAPI 3.1 document of the API, built from the same declarations the API uses
(the parameters in params.py, the object schemas in innolab.domain.opendata)."""
from __future__ import annotations

import copy

from ..domain import opendata
from . import params as P

VERSION = "1.0.0"

_JSON = "application/json"
_PROBLEM = "application/problem+json"


def _ok(schema: str, description: str) -> dict:
    return {"description": description,
            "headers": {"Access-Control-Allow-Origin": {
                "description": "Always `*`: the data is public.", "schema": {"type": "string"}}},
            "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {_PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _list(op_id: str, summary: str, description: str, tag: str, page_schema: str,
          query: tuple[P.Param, ...]) -> dict:
    return {"get": {
        "operationId": op_id, "summary": summary, "description": description, "tags": [tag],
        "parameters": [p.openapi() for p in query],
        "responses": {"200": _ok(page_schema, "One page of results."),
                      "400": _problem("A query parameter is not valid; `errors` names each.")},
    }}


def _detail(op_id: str, summary: str, tag: str, schema: str, path_param: dict) -> dict:
    return {"get": {
        "operationId": op_id, "summary": summary, "tags": [tag],
        "parameters": [path_param],
        "responses": {"200": _ok(schema, "The object."),
                      "400": _problem("The request contains a NUL byte or a lone surrogate."),
                      "404": _problem("There is no public object with this id.")},
    }}


def _id_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": P.INT32_MAX}}


def _license() -> dict:
    terms = opendata.licence()
    # OpenAPI 3.1: an SPDX identifier or a URL, not both.
    if terms["spdx"]:
        return {"name": terms["name"], "identifier": terms["spdx"]}
    return {"name": terms["name"], "url": terms["url"]}


def document(server_url: str) -> dict:
    """The whole document; `server_url` is this site's address (no trailing slash)."""
    paths = {
        "/api/v1/challenges": _list(
            "listChallenges", "Published challenges",
            "Challenges published by authorities: open ones first, then newest first.",
            "challenges", "ChallengePage", P.CHALLENGE_PARAMS),
        "/api/v1/challenges/{challenge_id}": _detail(
            "getChallenge", "One published challenge, with its public pilots", "challenges",
            "ChallengeDetail", _id_param("challenge_id", "Id of the challenge")),
        "/api/v1/pilots": _list(
            "listPilots", "Published pilots",
            "Pilots whose partner agreed to publication and that a coordinator published, "
            "newest first.", "pilots", "PilotPage", P.PILOT_PARAMS),
        "/api/v1/pilots/{proposal_id}": _detail(
            "getPilot", "One published pilot, with its published results if any", "pilots",
            "PilotDetail", _id_param("proposal_id", "Id of the pilot")),
        "/api/v1/results": _list(
            "listResults", "Published results",
            "Results reports of published pilots that a coordinator published with the "
            "partner's consent, newest first.", "results", "ResultPage", P.RESULT_PARAMS),
        "/api/v1/organisations": _list(
            "listOrganisations", "Organisations with published pilots",
            "Public profiles of partner organisations that have at least one published pilot, "
            "by name.", "organisations", "OrganisationPage", P.ORGANISATION_PARAMS),
        "/api/v1/organisations/{slug}": _detail(
            "getOrganisation", "One organisation's public profile, with its published pilots",
            "organisations", "OrganisationDetail",
            {"name": "slug", "in": "path", "required": True,
             "description": "The organisation's slug (see `slug`)",
             "schema": {"type": "string", "minLength": 1, "maxLength": 220,
                        "pattern": P.SLUG_PATTERN}}),
        "/api/v1/openapi.json": {"get": {
            "operationId": "getOpenApi", "summary": "This document", "tags": ["meta"],
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {_JSON: {"schema": {"type": "object"}}}}},
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "InnoLab Open Data API",
            "version": VERSION,
            "license": _license(),
            "summary": "The public showcase of the InnoLab of the ZDMV as open data.",
            "description": (
                "Read-only access to what the InnoLab showcase publishes: challenges of the "
                "authorities of Mecklenburg-Vorpommern, published pilots, their published "
                "results and the partner organisations behind them. Nothing else is in it: no "
                "drafts, no proposals that were not approved and published, no contact data, "
                "no reviews. No key, cookie or sign-in is needed; every answer carries "
                "`Access-Control-Allow-Origin: *`.\n\n"
                "Lists are paginated (`page`, `per_page` up to 100) and answer with `items`, "
                "`page`, `per_page`, `total`, `pages`, `links` (`next`/`prev` are null at "
                "the ends) and `license`. Errors are `application/problem+json` (RFC 9457). "
                "Texts marked Markdown are the Markdown the authors wrote (raw, not rendered). "
                "Titles and summaries (and a challenge's description) are German; "
                "`title_en`, `summary_en` (and `description_en`) hold the English text where "
                "one was written, else null. A challenge's `criteria` are what its proposals "
                "are reviewed on (its own, else the default five): names and descriptions in "
                "both languages, weight, scale and knock-out minimum; never scores.\n\n"
                "Atom feeds: /feeds/challenges.atom, /feeds/pilots.atom, /feeds/results.atom, "
                "in the language asked for (`?lang=en` or Accept-Language): each entry's title "
                "and summary in that language where written, else in German, marked with "
                "`xml:lang`; summaries are plain text (Markdown stripped).\n\n"
                "Licence: every answer names it in a `Link: <…>; rel=\"license\"` header, every "
                "list in its `license` object and every feed in `<rights>` and "
                "`<link rel=\"license\">`; name the source as its `attribution` says."),
        },
        "servers": [{"url": server_url or "/"}],
        "tags": [{"name": n} for n in ("challenges", "pilots", "results", "organisations",
                                       "meta")],
        "paths": paths,
        "components": {"schemas": copy.deepcopy(opendata.SCHEMAS)},
    }
