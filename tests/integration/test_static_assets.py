"""Static addresses carry the file's fingerprint; only a matching one is cached for a year."""
import hashlib
import re

from innolab import ROOT


def _digest(name):
    return hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()[:12]


def test_pages_link_static_files_with_their_fingerprint(client):
    page = client.get("/").get_data(as_text=True)
    assert f"/static/css/innolab.css?v={_digest('css/innolab.css')}" in page
    assert f"/static/js/innolab.js?v={_digest('js/innolab.js')}" in page
    assert not re.search(r'(?:href|src)="/static/[^"?]+"', page)


def test_a_matching_fingerprint_is_cached_for_a_year(client):
    response = client.get(f"/static/css/innolab.css?v={_digest('css/innolab.css')}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_without_or_with_an_old_fingerprint_the_browser_asks_again(client):
    for address in ("/static/css/innolab.css", "/static/css/innolab.css?v=000000000000"):
        response = client.get(address)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
