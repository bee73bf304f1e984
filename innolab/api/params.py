"""The query parameters of the API, declared once: parsed here and described in the OpenAPI
document from the same declarations, so what the document says is what the API checks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from ..domain import opendata

INT32_MAX = 2_147_483_647
MAX_PAGE = 100_000
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class ApiError(Exception):
    """An error answered as application/problem+json (RFC 9457)."""

    TITLES: ClassVar[dict[int, str]] = {400: "Bad Request", 404: "Not Found"}

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    def body(self) -> dict:
        body = {"type": "about:blank", "title": self.TITLES.get(self.status, "Error"),
                "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        return body


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict
    description: str
    example: object = None
    extra: dict = field(default_factory=dict)

    def openapi(self) -> dict:
        out = {"name": self.name, "in": "query", "required": False,
               "description": self.description, "schema": self.schema}
        if self.example is not None:
            out["example"] = self.example
        return out


PAGE = Param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
             "Page number, starting at 1. A page after the last one is empty.")
PER_PAGE = Param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                 "Items per page (at most 100).")
Q = Param("q", {"type": "string", "maxLength": 200},
          "Search text (case-insensitive, in title and summary).", "Chatbot")
TOPIC = Param("topic", {"type": "string", "maxLength": 80, "pattern": SLUG_PATTERN},
              "Only items with this topic (its slug, see `topics[].slug`).")
AUTHORITY = Param("authority", {"type": "integer", "minimum": 1, "maximum": INT32_MAX},
                  "Only items of this authority (its id, see `authority.id`).")
CHALLENGE_STATUS = Param("status", {"type": "string", "enum": list(opendata.CHALLENGE_STATES)},
                         "open: proposals are accepted; closed: closed or deadline passed.")
PILOT_STATUS = Param("status", {"type": "string", "enum": list(opendata.PILOT_STATES)},
                     "Status of the pilot.")
RECOMMENDATION = Param("recommendation",
                       {"type": "string", "enum": list(opendata.RECOMMENDATIONS)},
                       "The report's recommendation: roll out, extend or stop.")
KIND = Param("kind", {"type": "string", "enum": list(opendata.ORGANISATION_KINDS)},
             "Kind of organisation.")
ORG_Q = Param("q", {"type": "string", "maxLength": 200},
              "Search text (case-insensitive, in name and city).")

CHALLENGE_PARAMS = (Q, CHALLENGE_STATUS, TOPIC, AUTHORITY, PAGE, PER_PAGE)
PILOT_PARAMS = (Q, PILOT_STATUS, TOPIC, AUTHORITY, PAGE, PER_PAGE)
RESULT_PARAMS = (Q, RECOMMENDATION, TOPIC, AUTHORITY, PAGE, PER_PAGE)
ORGANISATION_PARAMS = (ORG_Q, KIND, PAGE, PER_PAGE)

_DIGITS = re.compile(r"[0-9]{1,12}")


def parse(args, params: tuple[Param, ...]) -> dict:
    """The values of `params` from the query `args`; ApiError(400) naming every bad one.

    An empty value counts as not given (as in the filter forms of the pages). Unknown
    parameters are ignored.
    """
    values: dict = {}
    errors: list[dict] = []
    for p in params:
        raw = args.get(p.name)  # a NUL never gets here (innolab/web/input_checks.py)
        if raw is None or raw.strip() == "":
            values[p.name] = p.schema.get("default")
            continue
        s = p.schema
        if s["type"] == "integer":
            text = raw.strip()
            if not _DIGITS.fullmatch(text):
                errors.append({"parameter": p.name, "message": "must be a whole number"})
                continue
            value = int(text)
            if value < s.get("minimum", value) or value > s.get("maximum", value):
                errors.append({"parameter": p.name, "message":
                               f"must be between {s['minimum']} and {s['maximum']}"})
                continue
        else:
            value = raw.strip()
            if "enum" in s and value not in s["enum"]:
                errors.append({"parameter": p.name,
                               "message": "must be one of: " + ", ".join(s["enum"])})
                continue
            if len(raw) > s.get("maxLength", len(raw)):
                errors.append({"parameter": p.name,
                               "message": f"must be at most {s['maxLength']} characters"})
                continue
            if "pattern" in s and not re.fullmatch(s["pattern"].strip("^$"), value):
                errors.append({"parameter": p.name, "message": "is not a valid slug"})
                continue
        values[p.name] = value
    if errors:
        raise ApiError(400, "Invalid query parameters.", errors)
    return values


def path_id(value: str) -> int:
    """A numeric id from the path; anything else is an unknown object (404)."""
    if _DIGITS.fullmatch(value or "") and 1 <= int(value) <= INT32_MAX:
        return int(value)
    raise ApiError(404, "Not found.")
