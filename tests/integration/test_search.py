"""Full-text search of proposals (domain/search.py): stemming, ß/ss, prefixes, ranking, the
organisation, authority and topics, hostile input; on SQLite (FTS5) and PostgreSQL."""
from __future__ import annotations

import pytest

from innolab.domain import review, search, showcase
from innolab.extensions import db
from tests import factories as f
from tests.integration.test_showcase import public_pilot

pytestmark = pytest.mark.usefixtures("app_ctx")


def found(q):
    return [p.id for p in db.session.execute(
        showcase.pilots_query(showcase.PilotFilter(q=q))).scalars().unique()]


def test_stemming_finds_the_singular_by_the_plural():
    p = public_pilot(title="Digitale Verwaltung im Landkreis")
    assert found("Verwaltungen") == [p.id]
    assert found("verwaltung") == [p.id]


def test_sharp_s_and_ss_match_both_ways():
    a = public_pilot(title="Sichere Straße")
    b = public_pilot(title="Neue Strassenbahn")
    assert a.id in found("Strasse")
    assert b.id in found("Straßenbahn")


def test_the_last_word_is_a_prefix():
    p = public_pilot(title="Digitale Verwaltung")
    assert found("Verwal") == [p.id]
    assert found("digitale Verw") == [p.id]


def test_a_title_hit_ranks_above_a_summary_hit():
    summary = public_pilot(title="Anderes", public_summary="Es geht um Fahrradwege.")
    title = public_pilot(title="Fahrradwege für alle")
    assert found("Fahrradwege") == [title.id, summary.id]


def test_organisation_authority_and_topic_are_found_and_follow_renames():
    org = f.organisation(name="Nordlicht Software GmbH")
    c = f.challenge(authority_=f.authority(name="Landesamt für Vermessung"))
    p = public_pilot(org=org, challenge_=c)
    t = f.topic(name_de="Mobilität", name_en="Mobility")
    p.topics.append(t)
    db.session.commit()
    assert found("Nordlicht") == [p.id]
    assert found("Vermessung") == [p.id]
    assert found("Mobility") == [p.id]
    org.name = "Südwind Systeme"
    db.session.commit()
    assert found("Nordlicht") == []
    assert found("Südwind") == [p.id]


def test_a_draft_with_the_word_is_not_found_on_the_showcase():
    f.proposal(title="Geheime Wasserwirtschaft")
    assert found("Wasserwirtschaft") == []


@pytest.mark.parametrize("q", ["'", '"', "&|!:*()", "!!!", "a & | b", "x" * 500,
                               "Verwaltung' OR 1=1 --", "NEAR(a b)", "\\", ":*", "ß" * 600])
def test_hostile_input_returns_normally(q, client):
    public_pilot(title="Verwaltung")
    found(q)
    assert client.get("/pilots", query_string={"q": q}).status_code == 200
    # The API refuses a query over its length limit with a 400 that says so.
    assert client.get("/api/v1/pilots", query_string={"q": q}).status_code in (200, 400)


def test_pilots_page_and_api_find_by_stem(client):
    p = public_pilot(title="Bürgerdienste digital")
    assert "Bürgerdienste digital" in client.get("/pilots?q=Bürgerdienst").get_data(as_text=True)
    data = client.get("/api/v1/pilots?q=Bürgerdiensten").get_json()
    assert p.id in [item["id"] for item in data["items"]]


def test_inbox_finds_by_stem_and_by_reference():
    staff = f.staff("coordinator")
    p = f.proposal(status="submitted", title="Zentrale Verwaltung")
    stmt = review.inbox_query(staff, q="Verwaltungen")
    assert p.id in [x.id for x in db.session.execute(stmt).scalars().unique()]
    stmt = review.inbox_query(staff, q=p.reference)
    assert [x.id for x in db.session.execute(stmt).scalars().unique()] == [p.id]


def test_reindex_rebuilds_the_documents():
    p = public_pilot(title="Digitale Verwaltung")
    p.search_a = None
    db.session.commit()
    assert search.reindex(db.session) >= 1
    db.session.commit()
    assert found("Verwaltungen") == [p.id]
