"""A light first visit: the pages preload the subset fonts the font CSS names, that CSS swaps
in the fallback font while they load, and the pages link KERN's pruned CSS, not the bundle
(scripts/vendor.sh, scripts/subset_fonts.py, scripts/purge-kern.mjs)."""
import gzip
import re

import brotli
import pytest
from fontTools.ttLib import TTFont

from innolab import ROOT

STATIC = ROOT / "static"
PAGES = ("/", "/pilots", "/login", "/challenges")


def _preloads(page: str) -> list[str]:
    tags = re.findall(r"<link [^>]*rel=\"preload\"[^>]*>", page)
    for tag in tags:
        assert 'as="font"' in tag and 'type="font/woff2"' in tag and " crossorigin" in tag, tag
    return [re.search(r'href="([^"]+)"', tag).group(1) for tag in tags]


def _served_font_css(client) -> str:
    page = client.get("/").get_data(as_text=True)
    address = re.search(r'href="(/static/vendor/fonts/fira-sans\.css\?v=[0-9a-f]{12})"', page)
    assert address, "the page links the subset font CSS"
    response = client.get(address.group(1))
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_a_page_preloads_the_fonts_its_font_css_names_with_the_same_address(client, path):
    page = client.get(path).get_data(as_text=True)
    preloads = _preloads(page)
    assert 1 <= len(preloads) <= 2
    css = _served_font_css(client)
    named = {"/static/vendor/fonts/" + u for u in re.findall(r"url\('([^']+)'\)", css)}
    for address in preloads:
        # the same address (file and ?v=) as in the font CSS, else the browser loads it twice
        assert address in named, (address, named)
        response = client.get(address)
        assert response.status_code == 200
        assert response.data[:4] == b"wOF2"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_font_css_swaps_and_names_existing_latin_subsets(client):
    css = _served_font_css(client)
    faces = [f for f in re.findall(r"@font-face\s*{([^}]*)}", css)
             if "font-family: 'Fira Sans';" in f]
    assert len(faces) >= 4
    weights = set()
    for face in faces:
        assert "font-display: swap" in face
        assert re.search(r"unicode-range: U\+0000-00FF, U\+0100-017F", face)
        name = re.search(r"url\('([^'?]+)\?v=[0-9a-f]{12}'\) format\('woff2'\)", face).group(1)
        font = STATIC / "vendor" / "fonts" / name
        assert font.exists()
        assert font.stat().st_size < 40_000  # KERN's files are ~130 KB each
        cmap = TTFont(str(font)).getBestCmap()
        for text in "ÄÖÜäöüßẞ€„“–—…·•→":
            assert ord(text) in cmap, (name, text)
        assert ord("Ж") not in cmap  # Cyrillic was cut
        weights.add(int(re.search(r"font-weight: (\d+)", face).group(1)))
    # KERN uses 400, 500 and 600, innolab.css and <strong> 700; no other weight is loaded
    assert weights == {400, 500, 600, 700}


def test_the_fallback_faces_scale_local_fonts_to_fira_sans(client):
    """Arial (or a font of its metrics) and DejaVu Sans stand in for Fira Sans until it has
    come, scaled to its width and lines; they load nothing (tests/browser/test_font_fallback.py
    measures that nothing moves)."""
    css = _served_font_css(client)
    faces = {(re.search(r"font-family: '([^']+)'", f).group(1),
              re.search(r"font-weight: ([\d ]+);", f).group(1)): f
             for f in re.findall(r"@font-face\s*{([^}]*)}", css) if "Fallback" in f}
    assert set(faces) == {("Fira Sans Fallback", "400"), ("Fira Sans Fallback", "500 700"),
                          ("Fira Sans Fallback DejaVu", "400"),
                          ("Fira Sans Fallback DejaVu", "500 700")}
    for face in faces.values():
        assert "url(" not in face and "local('" in face
        size = float(re.search(r"size-adjust: ([\d.]+)%", face).group(1))
        assert 75 < size < 110
    # DejaVu Sans is wider than Arial: it is scaled down more
    assert (float(re.search(r"size-adjust: ([\d.]+)%",
                            faces[("Fira Sans Fallback DejaVu", "400")]).group(1))
            < float(re.search(r"size-adjust: ([\d.]+)%",
                              faces[("Fira Sans Fallback", "400")]).group(1)))
    site = (STATIC / "css" / "innolab.css").read_text(encoding="utf-8")
    assert re.search(r'--kern-typography-font-family-fira-sans: "Fira Sans", '
                     r'"Fira Sans Fallback",\s*"Fira Sans Fallback DejaVu", sans-serif', site)


def test_pages_link_the_pruned_kern_css_and_no_noto_sans(client):
    for path in PAGES:
        page = client.get(path).get_data(as_text=True)
        assert "/static/vendor/kern/kern.pruned.css?v=" in page
        assert "kern.min.css" not in page
        assert "noto" not in page.lower()
        assert "vendor/kern/fonts" not in page
    full = (STATIC / "vendor" / "kern" / "kern.min.css").stat().st_size
    pruned = STATIC / "vendor" / "kern" / "kern.pruned.css"
    assert pruned.stat().st_size < full / 2
    assert pruned.with_name("kern.pruned.css.gz").exists()  # for nginx's gzip_static
    assert pruned.with_name("kern.pruned.css.br").exists()  # for nginx's brotli_static
    # KERN's own font CSS (no font-display) is neither copied nor imported
    assert not (STATIC / "vendor" / "kern" / "fonts").exists()
    assert "@font-face" not in pruned.read_text(encoding="utf-8")


def test_every_precompressed_vendored_file_holds_its_file():
    """The set-up's .gz and .br copies (scripts/vendor.sh) are what nginx sends instead of the
    file: each must decode to the file as it is now, and each text file has both."""
    vendor = STATIC / "vendor"
    texts = [p for p in vendor.rglob("*") if p.suffix in {".css", ".js", ".svg", ".json"}
             and p.stat().st_size > 1024]
    assert texts
    for path in texts:
        for suffix, decode in ((".gz", gzip.decompress), (".br", brotli.decompress)):
            copy = path.with_name(path.name + suffix)
            assert copy.exists(), copy
            assert decode(copy.read_bytes()) == path.read_bytes(), copy
        # Brotli at quality 11 is smaller than gzip -9
        assert (path.with_name(path.name + ".br").stat().st_size
                < path.with_name(path.name + ".gz").stat().st_size), path
