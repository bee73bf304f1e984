"""Fira Sans for our pages: the weights they use, cut down to the Latin letters and the
punctuation German and English text needs, as WOFF2 (run by scripts/vendor.sh).

KERN UX ships 32 styles of Fira Sans (about 130 KB each) and a font CSS without
`font-display`. Our pages use four weights – 400 (text), 500 (KERN's sublines and balanced
headings), 600 (KERN's headings, labels and buttons), 700 (innolab.css's brand and current
navigation item, `<strong>` in text) – and italic 400 for `<em>` in user text. Each is cut to
UNICODE_RANGE with fontTools' subsetter (the layout features kept: kerning, ligatures,
marks, figures) and written as `static/vendor/fonts/FiraSans-<weight>.woff2`, next to
`fira-sans.css` with `font-display: swap` (text shows at once in the fallback font) and the
same unicode-range: a character outside it is drawn by the fallback font and loads nothing.

The font addresses in that CSS carry the file's fingerprint (`?v=`, as `url_for('static', …)`
adds it: innolab/web/assets.py), so they are cached for a year and are the very addresses
base.html preloads. The output depends on the input files only: the same fonts give the same
bytes, whatever the machine.

    python scripts/subset_fonts.py [SOURCE_DIR] [TARGET_DIR]
"""
from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "@kern-ux" / "native" / "dist" / "fonts" / "fira-sans"
TARGET = ROOT / "static" / "vendor" / "fonts"

# (file in KERN's package, weight, style)
STYLES = (
    ("FiraSans-Regular.woff2", 400, "normal"),
    ("FiraSans-Italic.woff2", 400, "italic"),
    ("FiraSans-Medium.woff2", 500, "normal"),
    ("FiraSans-SemiBold.woff2", 600, "normal"),
    ("FiraSans-Bold.woff2", 700, "normal"),
)

# Basic Latin, Latin-1 Supplement and Latin Extended-A (German, English and the names of
# most European languages), ƒ, the modifier letters and spacing accents, capital sharp s,
# General Punctuation (– — ‘ ’ ‚ “ ” „ • … ‹ › and the spaces), €, №, ™, arrows, minus,
# the triangles of sortable table headers, the byte order mark and the replacement character.
UNICODE_RANGE = (
    "U+0000-00FF, U+0100-017F, U+0192, U+02BB-02BC, U+02C6-02C7, U+02D8-02DD, U+1E9E, "
    "U+2000-206F, U+20AC, U+2116, U+2122, U+2190-2199, U+2212, U+2215, U+25B2, U+25BC, "
    "U+FEFF, U+FFFD"
)

FEATURES = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "clig",
            "lnum", "onum", "pnum", "tnum", "case", "frac", "sups", "subs", "zero"]


def codepoints(ranges: str) -> list[int]:
    points: list[int] = []
    for part in ranges.split(","):
        first, _, last = part.strip().removeprefix("U+").partition("-")
        points.extend(range(int(first, 16), int(last or first, 16) + 1))
    return points


def subset_one(source: Path, target: Path) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = FEATURES
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright, names, version, licence
    options.name_languages = [0x409]
    options.notdef_outline = True
    options.recalc_timestamp = False  # the same input gives the same bytes
    font = TTFont(str(source), recalcTimestamp=False)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=codepoints(UNICODE_RANGE))
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(str(target))


# The fonts a browser draws with until Fira Sans has arrived (font-display: swap), and what one
# letter of them is wide on average, in em, over SAMPLE: read with fontTools from Debian's
# Liberation Sans (metrically the same as Arial, which Windows and macOS have) and DejaVu Sans
# (what Linux draws `sans-serif` with). A fallback face scales its font to Fira Sans's width
# (size-adjust) and lines (ascent/descent overrides), so text keeps its lines when Fira Sans
# replaces it and the page does not shift (cumulative layout shift).
SAMPLE = ("Die Verwaltung des Landes Mecklenburg-Vorpommern erprobt neue Lösungen mit Start-ups "
          "und Partnern. Herausforderungen, Piloten und Ergebnisse 2026 – öffentlich für alle "
          "Bürgerinnen und Bürger.")
# (family, weights, local() names, Fira Sans file of those weights, mean width in em)
FALLBACKS = (
    ("Fira Sans Fallback", "400", ("Arial", "ArialMT", "Liberation Sans",
                                   "LiberationSans-Regular", "Arimo"),
     "FiraSans-Regular.woff2", 0.4665),
    ("Fira Sans Fallback", "500 700", ("Arial Bold", "Arial-BoldMT", "Liberation Sans Bold",
                                       "LiberationSans-Bold", "Arimo Bold"),
     "FiraSans-SemiBold.woff2", 0.5012),
    ("Fira Sans Fallback DejaVu", "400", ("DejaVu Sans", "DejaVuSans"),
     "FiraSans-Regular.woff2", 0.5278),
    ("Fira Sans Fallback DejaVu", "500 700", ("DejaVu Sans Bold", "DejaVuSans-Bold"),
     "FiraSans-SemiBold.woff2", 0.5970),
)


def mean_width(font: TTFont, text: str = SAMPLE) -> float:
    """The mean advance of the letters of `text` in em."""
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    return sum(metrics[cmap[ord(c)]][0] for c in text) / len(text) / font["head"].unitsPerEm


def fallback_face(family: str, weights: str, names: tuple[str, ...], fira: TTFont,
                  width: float) -> str:
    """An @font-face rule: a local font scaled to Fira Sans's width and line metrics (the
    overrides are in em of the scaled font, hence divided by the scale)."""
    scale = mean_width(fira) / width
    em = fira["head"].unitsPerEm
    hhea = fira["hhea"]
    sources = ", ".join(f"local('{name}')" for name in names)
    return ("@font-face {\n"
            f"  font-family: '{family}';\n"
            f"  font-weight: {weights};\n"
            f"  src: {sources};\n"
            f"  size-adjust: {scale * 100:.1f}%;\n"
            f"  ascent-override: {hhea.ascent / em / scale * 100:.1f}%;\n"
            f"  descent-override: {-hhea.descent / em / scale * 100:.1f}%;\n"
            f"  line-gap-override: {hhea.lineGap / em / scale * 100:.1f}%;\n"
            "}")


def fingerprint(path: Path) -> str:
    """As innolab/web/assets.py computes it: the first 12 hex digits of the SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def main(source: Path = SOURCE, target: Path = TARGET) -> None:
    # fontTools warns about an OS/2 flag of KERN's files that browsers ignore
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    target.mkdir(parents=True, exist_ok=True)
    rules = ["/* Fira Sans (SIL Open Font License 1.1), the styles our pages use, cut to Latin "
             "by scripts/subset_fonts.py */"]
    for name, weight, style in STYLES:
        suffix = "-italic" if style == "italic" else ""
        out = target / f"FiraSans-{weight}{suffix}.woff2"
        subset_one(source / name, out)
        rules.append(
            "@font-face {\n"
            "  font-family: 'Fira Sans';\n"
            f"  font-style: {style};\n"
            f"  font-weight: {weight};\n"
            "  font-display: swap;\n"
            f"  src: url('{out.name}?v={fingerprint(out)}') format('woff2');\n"
            f"  unicode-range: {UNICODE_RANGE};\n"
            "}"
        )
        kb_in, kb_out = (source / name).stat().st_size / 1024, out.stat().st_size / 1024
        print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
              f"{kb_out:.0f} KB (from {kb_in:.0f} KB)")
    rules.append("/* Fallback faces with Fira Sans's metrics (innolab.css names them after "
                 "'Fira Sans') */")
    for family, weights, names, name, width in FALLBACKS:
        rules.append(fallback_face(family, weights, names,
                                   TTFont(str(source / name), recalcTimestamp=False), width))
    (target / "fira-sans.css").write_text("\n".join(rules) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:3]))
