"""The Atom feeds (RFC 4287): valid, escaped, public items only, discoverable from the pages."""
from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from innolab.extensions import db
from innolab.models import ResultsReport
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

A = "{http://www.w3.org/2005/Atom}"
FEEDS = ("/feeds/challenges.atom", "/feeds/pilots.atom", "/feeds/results.atom")


def public_pilot(**kw):
    kw.setdefault("publication_consent", True)
    kw.setdefault("published_at", utcnow())
    return f.proposal(status=kw.pop("status", "running"), **kw)


def published_results(p, **kw):
    r = ResultsReport(proposal=p, status="accepted", summary=kw.pop("summary", "Ziele erreicht."),
                      recommendation="roll_out", publication_consent=True,
                      published_at=kw.pop("published_at", utcnow()), **kw)
    db.session.add(r)
    db.session.commit()
    return r


def _rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_atom(response) -> ET.Element:
    """Parse and check what RFC 4287 requires of a feed and of each entry."""
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert response.mimetype_params.get("charset") == "utf-8"
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
        assert root.findtext(f"{A}{name}").strip(), name
    _rfc3339(root.findtext(f"{A}updated"))
    selfs = [link for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert len(selfs) == 1 and selfs[0].get("href").startswith("http")
    feed_author = root.find(f"{A}author/{A}name")
    ids = set()
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        entry_id = entry.findtext(f"{A}id")
        assert entry_id.startswith("http") and entry_id not in ids
        ids.add(entry_id)
        _rfc3339(entry.findtext(f"{A}updated"))
        alternates = [link for link in entry.findall(f"{A}link")
                      if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1 and alternates[0].get("href").startswith("http")
        assert feed_author is not None or entry.find(f"{A}author/{A}name") is not None
        summary = entry.find(f"{A}summary")
        assert summary is None or summary.get("type", "text") == "text"
    return root


def entries(root) -> list[ET.Element]:
    return root.findall(f"{A}entry")


@pytest.mark.parametrize("url", FEEDS)
def test_empty_feed_is_valid_atom(client, url):
    root = parse_atom(client.get(url))
    assert entries(root) == []
    assert root.find(f"{A}link[@rel='self']").get("href").endswith(url)


def test_challenges_feed_lists_published_challenges_newest_first(client):
    older = f.challenge(title="Ältere Herausforderung")
    older.published_at = utcnow() - timedelta(days=3)
    db.session.commit()
    newer = f.challenge(title="Neue Herausforderung")
    f.challenge(title="Entwurf", status="draft")
    root = parse_atom(client.get("/feeds/challenges.atom"))
    titles = [e.findtext(f"{A}title") for e in entries(root)]
    assert titles == [newer.title, older.title]
    first = entries(root)[0]
    assert first.find(f"{A}link").get("href").endswith(f"/challenges/{newer.id}")
    assert first.findtext(f"{A}summary") == newer.summary
    assert first.findtext(f"{A}author/{A}name") == newer.authority.name
    assert _rfc3339(root.findtext(f"{A}updated")) == _rfc3339(first.findtext(f"{A}updated"))


def test_pilots_feed_lists_published_pilots_only(client):
    shown = public_pilot(title="Veröffentlichter Pilot")
    public_pilot(title="Ohne Zustimmung", publication_consent=False)
    public_pilot(title="Nicht veröffentlicht", published_at=None)
    f.proposal(status="rejected", title="Abgelehnt", published_at=utcnow())
    root = parse_atom(client.get("/feeds/pilots.atom"))
    assert [e.findtext(f"{A}title") for e in entries(root)] == [shown.title]
    entry = entries(root)[0]
    assert entry.find(f"{A}link").get("href").endswith(f"/pilots/{shown.id}")
    assert entry.findtext(f"{A}author/{A}name") == shown.organisation.name
    assert entry.findtext(f"{A}summary") == shown.public_summary


def test_results_feed_lists_published_results_only(client):
    shown = published_results(public_pilot(title="Pilot mit Ergebnis"), summary="Halbe Zeit")
    published_results(public_pilot(title="Pilot ohne Zustimmung", publication_consent=False))
    unpublished = ResultsReport(proposal=public_pilot(title="Unveröffentlicht"), status="accepted",
                                publication_consent=True)
    db.session.add(unpublished)
    db.session.commit()
    root = parse_atom(client.get("/feeds/results.atom"))
    assert len(entries(root)) == 1
    entry = entries(root)[0]
    assert "Pilot mit Ergebnis" in entry.findtext(f"{A}title")
    assert entry.findtext(f"{A}summary") == "Halbe Zeit"
    assert entry.find(f"{A}link").get("href").endswith(f"/pilots/{shown.proposal_id}")


def test_feed_text_is_escaped(client):
    evil = 'Pilot <script>alert("x")</script> & Co ]]> \x01'
    public_pilot(title=evil, public_summary="<b>fett</b> & <i>kursiv</i>")
    r = client.get("/feeds/pilots.atom")
    raw = r.get_data(as_text=True)
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    root = parse_atom(r)
    entry = entries(root)[0]
    assert entry.findtext(f"{A}title") == evil.replace("\x01", "")
    assert entry.findtext(f"{A}summary") == "<b>fett</b> & <i>kursiv</i>"


def test_feeds_parse_with_feedparser(client):
    feedparser = pytest.importorskip("feedparser")
    f.challenge(title="Herausforderung für den Feedreader")
    published_results(public_pilot(title="Pilot für den Feedreader"))
    for url in FEEDS:
        parsed = feedparser.parse(client.get(url).get_data())
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        assert parsed.feed.title and len(parsed.entries) == 1
        assert parsed.entries[0].link.startswith("http")


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_are_open_to_any_origin_and_cacheable(client, url):
    r = client.get(url)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in r.headers["Cache-Control"]
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("page, feed", [("/challenges", "/feeds/challenges.atom"),
                                        ("/pilots", "/feeds/pilots.atom"),
                                        ("/results", "/feeds/results.atom")])
def test_showcase_lists_announce_their_feed(client, page, feed):
    html = client.get(page).get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert f'href="{feed}"' in html
