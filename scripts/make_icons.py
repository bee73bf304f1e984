"""Draw the InnoLab icons (favicon, touch and web-app icons) into static/img/.

Run by hand after changing the design: `.venv/bin/python scripts/make_icons.py`. The mark is
drawn here from simple shapes (no font, no outside artwork): a rounded square in the KERN
dark blue with a white light bulb – the lab's idea – and a turquoise base.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "img"
BLUE = (38, 55, 135, 255)       # dark blue, contrast 10:1 against white
TURQUOISE = (0, 150, 130, 255)
WHITE = (255, 255, 255, 255)


def mark(size: int) -> Image.Image:
    scale = 8  # draw large, then shrink: smooth edges
    n = size * scale
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, n - 1, n - 1), radius=n // 5, fill=BLUE)
    # the bulb
    cx, r = n / 2, n * 0.23
    cy = n * 0.40
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    d.polygon([(cx - r * 0.62, cy + r * 0.55), (cx + r * 0.62, cy + r * 0.55),
               (cx + r * 0.42, n * 0.68), (cx - r * 0.42, n * 0.68)], fill=WHITE)
    # the screw base
    d.rounded_rectangle((cx - r * 0.45, n * 0.70, cx + r * 0.45, n * 0.78),
                        radius=n // 60, fill=TURQUOISE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    mark(256).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    mark(180).save(OUT / "apple-touch-icon.png")
    for size in (192, 512):
        mark(size).save(OUT / f"icon-{size}.png")


if __name__ == "__main__":
    main()
