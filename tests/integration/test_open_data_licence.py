"""The licence of the open data is stated, machine-readably, wherever the data goes out."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

A = "{http://www.w3.org/2005/Atom}"
DL_URL = "https://www.govdata.de/dl-de/by-2-0"
API_PATHS = ("/api/v1/challenges", "/api/v1/pilots", "/api/v1/results", "/api/v1/organisations")
FEEDS = ("/feeds/challenges.atom", "/feeds/pilots.atom", "/feeds/results.atom")


@pytest.fixture
def licence(app):
    """The app's licence settings; a test may change them and gets the defaults back."""
    keys = ("OPEN_DATA_LICENSE_NAME", "OPEN_DATA_LICENSE_URL", "OPEN_DATA_LICENSE_SPDX",
            "OPEN_DATA_ATTRIBUTION")
    before = {k: app.config[k] for k in keys}
    yield app.config
    app.config.update(before)


def test_every_list_and_detail_names_the_licence_in_a_link_header(client, licence):
    pilot = f.proposal(status="running", publication_consent=True, published_at=utcnow())
    for path in (*API_PATHS, f"/api/v1/pilots/{pilot.id}", "/api/v1/openapi.json", *FEEDS):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Link"] == f'<{DL_URL}>; rel="license"', path


def test_lists_carry_the_licence_with_the_attribution(client, licence):
    for path in API_PATHS:
        body = client.get(path).get_json()
        assert body["license"] == {
            "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "url": DL_URL,
            "spdx": "DL-DE-BY-2.0",
            "attribution": "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV), InnoLab"}


def test_openapi_document_states_the_licence_and_its_schema(client, licence):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["license"] == {
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "identifier": "DL-DE-BY-2.0"}
    page = doc["components"]["schemas"]["PilotPage"]
    assert page["properties"]["license"] == {"$ref": "#/components/schemas/License"}


def test_feeds_carry_rights_and_a_licence_link(client, licence):
    for path in FEEDS:
        root = ET.fromstring(client.get(path).get_data())
        links = [link.get("href") for link in root.findall(f"{A}link")
                 if link.get("rel") == "license"]
        assert links == [DL_URL], path
        assert "Datenlizenz Deutschland" in root.findtext(f"{A}rights"), path


def test_open_data_page_links_the_licence_and_says_how_to_name_the_source(client, licence):
    html = client.get("/open-data").get_data(as_text=True)
    assert f'<link rel="license" href="{DL_URL}">' in html
    assert f'rel="license" href="{DL_URL}"' in html.split("<main", 1)[1]
    assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in html
    assert "Zentrum für Digitalisierung Mecklenburg-Vorpommern (ZDMV), InnoLab" in html


def test_another_licence_is_a_setting(client, licence):
    licence.update(OPEN_DATA_LICENSE_NAME="Creative Commons Namensnennung 4.0 International",
                   OPEN_DATA_LICENSE_URL="https://creativecommons.org/licenses/by/4.0/",
                   OPEN_DATA_LICENSE_SPDX="", OPEN_DATA_ATTRIBUTION="Land M-V")
    response = client.get("/api/v1/pilots")
    cc = "https://creativecommons.org/licenses/by/4.0/"
    assert response.headers["Link"] == f'<{cc}>; rel="license"'
    assert response.get_json()["license"]["spdx"] is None
    doc = client.get("/api/v1/openapi.json").get_json()
    # without an SPDX identifier the document names the licence by its address
    assert doc["info"]["license"] == {
        "name": "Creative Commons Namensnennung 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/"}
