"""The app with one slow page, for bench/overload.py only (never part of the platform).

`/bench/slow` waits BENCH_SLOW_SECONDS (0.5) the way a page waits for a slow database: the
thread sleeps and gives up the GIL. Everything else is the real app, load shedding included.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from innolab import create_app

SLOW_SECONDS = float(os.environ.get("BENCH_SLOW_SECONDS", "0.5"))

app = create_app()


@app.get("/bench/slow")
def slow():
    time.sleep(SLOW_SECONDS)
    return "langsam"
