"""Write FILE.br next to each FILE given, at Brotli's best quality (for nginx's brotli_static).

Used by the set-up (scripts/vendor.sh, the Makefile) like `gzip -9 -k -f`: the copy is written
anew each time, so it is never older than its file.
"""
from __future__ import annotations

import sys
from pathlib import Path

import brotli


def main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        text_mode = brotli.MODE_TEXT if path.suffix in {".css", ".js", ".svg", ".json"} \
            else brotli.MODE_GENERIC
        path.with_name(path.name + ".br").write_bytes(
            brotli.compress(path.read_bytes(), mode=text_mode, quality=11))


if __name__ == "__main__":
    main(sys.argv[1:])
