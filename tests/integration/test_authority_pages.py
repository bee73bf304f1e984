"""The authorities' pages on the showcase and the directory of partner organisations: what
each shows is public anyway, and nothing else."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from innolab.demo import seed
from innolab.domain import admin as admin_domain
from innolab.extensions import db
from innolab.models import ChallengeStatus
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def text(response) -> str:
    return response.get_data(as_text=True)


def _public_pilot(org, challenge, title, **kw):
    return f.proposal(org, status="running", challenge_=challenge, publication_consent=True,
                      published_at=utcnow(), pilot_start_date=date(2026, 3, 1), title=title,
                      **kw)


@pytest.fixture
def lage():
    laiv = f.authority(name="Landesamt für innere Verwaltung Mecklenburg-Vorpommern",
                       short_name="LAiV")
    laiv.description = "Das LAiV ist der **zentrale Dienstleister** der Landesverwaltung."
    laiv.website = "https://www.laiv-mv.de"
    other = f.authority(name="Landesamt für Umwelt, Naturschutz und Geologie", short_name="")
    db.session.commit()
    open_c = f.challenge(authority_=laiv, title="Posteingang automatisch sortieren")
    closed_c = f.challenge(authority_=laiv, title="Akten digital übergeben",
                           status=ChallengeStatus.CLOSED.value,
                           deadline=date.today() - timedelta(days=10))
    draft_c = f.challenge(authority_=laiv, title="Geheimer Entwurf",
                          status=ChallengeStatus.DRAFT.value)
    other_c = f.challenge(authority_=other, title="Pegelstände vorhersagen")
    nordlicht = f.organisation(name="Nordlicht Software GmbH", kind="startup")
    boddenlab = f.organisation(name="Boddenlab e. V.", kind="association")
    still = f.organisation(name="Stillwasser Analytik GmbH", kind="sme")
    nordlicht.city, boddenlab.city = "Rostock", "Greifswald"
    db.session.commit()
    pilot = _public_pilot(nordlicht, open_c, "Sortierlotse")
    _public_pilot(boddenlab, other_c, "Pegelprognose")
    # not public: without consent, and a proposal in review
    f.proposal(still, status="running", challenge_=closed_c, title="Ohne Zustimmung",
               publication_consent=False, published_at=utcnow())
    f.proposal(still, status="in_review", challenge_=open_c, title="Noch in Begutachtung")
    return dict(laiv=laiv, other=other, open_c=open_c, closed_c=closed_c, draft_c=draft_c,
                pilot=pilot, nordlicht=nordlicht, boddenlab=boddenlab, still=still)


def test_each_authority_gets_an_address_when_it_is_created(lage, login):
    assert lage["laiv"].slug == "laiv"
    assert lage["other"].slug == "landesamt-fuer-umwelt-naturschutz-und-geologie"
    admin = f.staff("admin")
    twin = admin_domain.save_authority(admin, None, name="Landesamt für IT-Verfahren",
                                       short_name="LAiV", website=None,
                                       description="Ein anderes Amt mit gleichem Kurznamen.")
    db.session.commit()
    assert twin.slug == "laiv-2" and twin.description.startswith("Ein anderes Amt")
    # renaming keeps the address
    admin_domain.save_authority(admin, twin, name="Landesamt für IT-Verfahren MV",
                                short_name="LITV", website=None)
    db.session.commit()
    assert twin.slug == "laiv-2"


def test_the_index_lists_every_authority_with_its_public_figures(client, lage):
    body = text(client.get("/behoerden"))
    assert "Landesamt für innere Verwaltung Mecklenburg-Vorpommern" in body
    assert 'href="/behoerden/laiv"' in body
    assert 'href="/behoerden/landesamt-fuer-umwelt-naturschutz-und-geologie"' in body
    # LAiV: two public challenges (the draft does not count) and one public pilot
    row = body.split('href="/behoerden/laiv"')[1].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells == ["2", "1"], cells


def test_an_authority_page_shows_only_what_is_public(client, lage):
    response = client.get("/behoerden/laiv")
    assert response.status_code == 200
    body = text(response)
    assert "<strong>zentrale Dienstleister</strong>" in body
    assert "https://www.laiv-mv.de" in body
    assert "Posteingang automatisch sortieren" in body and "Akten digital übergeben" in body
    assert body.index("Offen für Vorschläge") < body.index("Posteingang automatisch")
    assert body.index("Geschlossen") < body.index("Akten digital übergeben")
    assert "Sortierlotse" in body and 'href="/organisations/' in body
    assert "Nordlicht Software GmbH" in body
    for hidden in ("Geheimer Entwurf", "Ohne Zustimmung", "Noch in Begutachtung",
                   "Stillwasser", "Pegelprognose", "Boddenlab"):
        assert hidden not in body, hidden
    assert client.get("/behoerden/gibt-es-nicht").status_code == 404


def test_the_challenge_and_the_pilot_link_to_the_authority(client, lage):
    for address in (f"/challenges/{lage['open_c'].id}", f"/pilots/{lage['pilot'].id}"):
        assert 'href="/behoerden/laiv"' in text(client.get(address)), address


def test_the_directory_lists_partners_with_public_pilots(client, lage):
    body = text(client.get("/organisations"))
    assert "Nordlicht Software GmbH" in body and "Boddenlab e. V." in body
    assert "Rostock" in body and "Start-up" in body and "Verein oder Verband" in body
    assert "Sortierlotse" in body and "Pegelprognose" in body
    # an organisation without a public pilot is listed nowhere
    assert "Stillwasser" not in body
    startups = text(client.get("/organisations?kind=startup"))
    assert "Nordlicht Software GmbH" in startups and "Boddenlab" not in startups
    found = text(client.get("/organisations?q=Greifswald"))
    assert "Boddenlab e. V." in found and "Nordlicht" not in found
    nothing = text(client.get("/organisations?q=Atlantis"))
    assert "Keine Organisationen gefunden." in nothing and "Alle Filter zurücksetzen" in nothing
    # a value that fits no choice is ignored, never an error
    assert client.get("/organisations?kind=unbekannt&page=999").status_code == 200


def test_empty_pages_say_what_is_missing(client):
    assert "Es sind noch keine Behörden eingetragen." in text(client.get("/behoerden"))
    assert "Es sind noch keine Piloten veröffentlicht" in text(client.get("/organisations"))
    quiet = f.authority(name="Landesamt ohne Herausforderung")
    body = text(client.get(f"/behoerden/{quiet.slug}"))
    assert "Diese Behörde hat noch keine Herausforderung veröffentlicht." in body


def test_the_sitemap_and_the_footer_lead_to_the_new_pages(client, lage):
    sitemap = text(client.get("/sitemap.xml"))
    for path in ("/behoerden?", "/behoerden/laiv?", "/organisations?"):
        assert path in sitemap, path
    home = text(client.get("/"))
    assert 'href="/behoerden"' in home and 'href="/organisations"' in home


def test_the_pages_speak_english_too(client, lage):
    body = text(client.get("/behoerden/laiv?lang=en"))
    assert "About the authority" in body and "Partner organisations" in body
    assert "Open for proposals" in body
    assert "Authorities in the InnoLab" in text(client.get("/behoerden?lang=en"))


def test_the_demo_authorities_have_pages_with_their_challenges(client):
    assert seed() is True
    index = text(client.get("/behoerden"))
    slugs = re.findall(r'href="/behoerden/([a-z0-9-]+)"', index)
    assert "laiv" in slugs and len(slugs) >= 3
    for slug in slugs:
        assert client.get(f"/behoerden/{slug}").status_code == 200, slug
    laiv = text(client.get("/behoerden/laiv"))
    assert "zentraler Dienstleister der Landesverwaltung" in laiv
    with_challenges = [s for s in slugs
                       if "noch keine Herausforderung" not in text(client.get(f"/behoerden/{s}"))]
    assert with_challenges, "no demo authority shows a challenge"
