"""The record of processing activities (Art. 30 DSGVO) for admins and the DPO."""
from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from innolab.domain import retention
from innolab.extensions import db
from innolab.models import Check
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


def _dp_check(p, officer, dpia, agreement):
    db.session.add(Check(proposal_id=p.id, kind="data_protection", officer_id=officer.id,
                         outcome="passed", dpia=dpia, processing_agreement=agreement))
    db.session.commit()


@pytest.fixture
def dpo():
    return f.staff("dpo", name="Dana Datenschutz")


def test_the_page_lists_every_activity_with_periods_from_the_schedule(client, login, dpo):
    admin = f.staff("admin")
    retention.set_days(admin, {"audit_ips": 30})
    db.session.commit()
    html = login(dpo).get("/admin/records").get_data(as_text=True)
    for activity in ("Nutzerkonten, Anmeldung und Rollen", "Pilotvorschläge, Begutachtung und "
                     "Entscheidung", "Veröffentlichung im Schaufenster und als offene Daten",
                     "Protokollierung und Schutz vor Angriffen"):
        assert activity in html
    assert "IP-Adressen im Audit-Protokoll: 30 Tage" in html  # the admin's period, not 90
    assert "Technische und organisatorische Maßnahmen" in html
    assert "Art. 6 Abs. 1 lit. a DSGVO" in html  # publication rests on consent


def test_proposals_with_an_open_dsfa_or_av_contract_come_first(client, login, dpo):
    done = f.proposal(status="approved", title="Fertig geprüft", personal_data=True)
    open_ = f.proposal(status="in_review", title="DSFA offen", personal_data=True)
    _dp_check(done, dpo, "done", "done")
    _dp_check(open_, dpo, "needed", "not_needed")
    html = login(dpo).get("/admin/records").get_data(as_text=True)
    assert html.index("DSFA offen") < html.index("Fertig geprüft")
    assert "erforderlich, noch nicht durchgeführt" in html


def test_csv_export_has_one_row_per_activity(client, login, dpo):
    response = login(dpo).get("/admin/records.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:3] == ["Verarbeitungstätigkeit", "Zwecke", "Rechtsgrundlage"]
    assert len(rows) == 1 + 7
    accounts = next(r for r in rows if r[0] == "Nutzerkonten, Anmeldung und Rollen")
    assert "Nicht bestätigte Konten: 7 Tage" in accounts[6]


def test_pdf_export_is_a_pdf_with_the_activities_and_the_proposals(client, login, dpo):
    p = f.proposal(status="in_review", title="Wohngeld digital", personal_data=True)
    _dp_check(p, dpo, "needed", "needed")
    response = login(dpo).get("/admin/records.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(
        response.get_data())).pages)
    assert "Verzeichnis von Verarbeitungstätigkeiten" in text
    assert "Nutzerkonten, Anmeldung und Rollen" in text
    assert "Wohngeld digital" in text


@pytest.mark.parametrize("role,expected", [
    ("admin", 200), ("dpo", 200), ("coordinator", 403), ("iso", 403), ("reviewer", 403)])
def test_admins_and_the_dpo_only(client, login, role, expected):
    c = login(f.staff(role))
    for path in ("/admin/records", "/admin/records.csv", "/admin/records.pdf"):
        assert c.get(path).status_code == expected, path
    # the DPO sees nothing else of the administration
    if role == "dpo":
        assert c.get("/admin/users").status_code == 403
