"""Benchmark: overload with and without load shedding, side by side, in one run.

Run by hand: `.venv/bin/python bench/overload.py`. It starts real gunicorn with the shipped
gunicorn.conf.py twice – one worker with GUNICORN_THREADS threads, once without a bound
(MAX_CONCURRENT_REQUESTS=0) and once with a small one – in front of the app with one slow page
(bench/slow_app.py: BENCH_SLOW_SECONDS per request, as if the database were slow). Each time
it sends BENCH_RATE requests a second for BENCH_SECONDS seconds, far more than the threads can
serve, every request on a new connection with a client timeout of BENCH_TIMEOUT seconds (the
browser, or nginx's proxy_read_timeout), and asks /healthz twice a second meanwhile, as a
load balancer or systemd's watchdog would. It prints, per run, how many requests were
answered, refused with 503 or timed out, with their latencies, and how many slow pages the
server still rendered for clients that had given up (and for how long). The figures go into
docs/performance.md by hand; nothing here is asserted.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from innolab import create_app  # noqa: E402
from innolab.extensions import db  # noqa: E402
from tests.gunicorn import Gunicorn  # noqa: E402

RATE = float(os.environ.get("BENCH_RATE", "40"))            # requests per second
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
SLOW = float(os.environ.get("BENCH_SLOW_SECONDS", "0.5"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))         # GUNICORN_THREADS, one worker
BOUND = int(os.environ.get("BENCH_BOUND", "3"))             # MAX_CONCURRENT_REQUESTS
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "5"))       # client timeout, seconds


@dataclass
class Outcome:
    ok: list[float] = field(default_factory=list)        # latencies of 200s, seconds
    shed: list[float] = field(default_factory=list)      # of 503s
    other: list[float] = field(default_factory=list)     # any other status or error
    timed_out: int = 0
    probes: list[float | None] = field(default_factory=list)  # /healthz; None: timed out
    served: int = 0          # slow pages the server finished (its access lines), in the end
    drained_after: float = 0.0  # seconds after the last request until it was done
    lock: threading.Lock = field(default_factory=threading.Lock)


def _one(url: str, outcome: Outcome) -> None:
    started = time.perf_counter()
    try:
        response = requests.get(f"{url}/bench/slow", timeout=TIMEOUT,
                                headers={"Connection": "close"})
    except requests.Timeout:
        with outcome.lock:
            outcome.timed_out += 1
        return
    except requests.RequestException:
        with outcome.lock:
            outcome.other.append(time.perf_counter() - started)
        return
    took = time.perf_counter() - started
    with outcome.lock:
        {200: outcome.ok, 503: outcome.shed}.get(response.status_code, outcome.other).append(
            took)


def _probe(url: str, outcome: Outcome, until: float) -> None:
    while time.monotonic() < until:
        started = time.perf_counter()
        try:
            ok = requests.get(f"{url}/healthz", timeout=TIMEOUT).status_code == 200
            outcome.probes.append(time.perf_counter() - started if ok else None)
        except requests.RequestException:
            outcome.probes.append(None)
        time.sleep(0.5)


def load(url: str) -> Outcome:
    outcome = Outcome()
    total = int(RATE * SECONDS)
    started = time.monotonic()
    prober = threading.Thread(target=_probe, args=(url, outcome, started + SECONDS))
    prober.start()
    with ThreadPoolExecutor(max_workers=int(RATE * (TIMEOUT + 1)) + 8) as pool:
        for n in range(total):  # open loop: a new request every 1/RATE s, answered or not
            wait = started + n / RATE - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pool.submit(_one, url, outcome)
    prober.join()
    return outcome


def _served(server: Gunicorn) -> int:
    return server.output().count("GET /bench/slow 200")


def _drain(server: Gunicorn) -> tuple[int, float]:
    """Wait until the server has worked off what it accepted: the number of slow pages it
    served in all (its access lines), and how long after the load that took."""
    started, last, still = time.monotonic(), -1, time.monotonic()
    while time.monotonic() - started < 120:
        served = _served(server)
        if served != last:
            last, still = served, time.monotonic()
        elif time.monotonic() - still > 2 * SLOW + 1:
            break
        time.sleep(0.25)
    return last, max(0.0, still - started)


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "–"
    values = sorted(values)
    if q == 0.5:
        return f"{statistics.median(values) * 1000:.0f}"
    return f"{values[min(len(values) - 1, int(len(values) * q))] * 1000:.0f}"


def report(runs: dict[str, Outcome]) -> None:
    names = list(runs)
    width = 26
    print(f"{'':34}" + "".join(f"{name:>{width}}" for name in names))

    def row(label, cell):
        print(f"{label:34}" + "".join(f"{cell(runs[n]):>{width}}" for n in names))

    row("requests sent", lambda o: str(len(o.ok) + len(o.shed) + len(o.other) + o.timed_out))
    row("answered 200", lambda o: str(len(o.ok)))
    row("  latency median / p95 ms", lambda o: f"{_ms(o.ok, 0.5)} / {_ms(o.ok, 0.95)}")
    row("refused 503 (shed)", lambda o: str(len(o.shed)))
    row("  latency median / p95 ms", lambda o: f"{_ms(o.shed, 0.5)} / {_ms(o.shed, 0.95)}")
    row(f"timed out (> {TIMEOUT:g} s)", lambda o: str(o.timed_out))
    row("other answers or errors", lambda o: str(len(o.other)))
    row("pages served for nobody", lambda o: str(o.served - len(o.ok)))
    row("  busy after the load, s", lambda o: f"{o.drained_after:.0f}")
    row("/healthz answered", lambda o: f"{sum(p is not None for p in o.probes)} of "
                                       f"{len(o.probes)}")
    row("  /healthz median / max ms",
        lambda o: f"{_ms([p for p in o.probes if p is not None], 0.5)} / "
                  + (f"{max(p for p in o.probes if p is not None) * 1000:.0f}"
                     if any(p is not None for p in o.probes) else "–"))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="innolab-overload-"))
    database = f"sqlite:///{tmp / 'bench.sqlite'}"
    setup = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench",
                        "UPLOAD_FOLDER": str(tmp / "uploads"), "RATELIMIT_ENABLED": False})
    with setup.app_context():
        db.create_all()
    env = {"INNOLAB_ENV": "testing", "SECRET_KEY": "bench-" + "x" * 40,
           "DATABASE_URL": database, "UPLOAD_FOLDER": str(tmp / "uploads"),
           "DATA_EXPORT_FOLDER": str(tmp / "exports"), "RATELIMIT_ENABLED": "false",
           "MAIL_SEND_AFTER_REQUEST": "false", "BENCH_SLOW_SECONDS": str(SLOW),
           "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": str(THREADS),
           "GUNICORN_LOGLEVEL": "warning", "LOG_FORMAT": "text"}
    capacity = THREADS / SLOW
    print(f"gunicorn.conf.py, 1 worker × {THREADS} threads; page takes {SLOW:g} s "
          f"(at most {capacity:g}/s with every thread, {BOUND / SLOW:g}/s with the bound); "
          f"{RATE:g} requests/s for {SECONDS:g} s, client timeout {TIMEOUT:g} s")
    runs = {}
    for name, bound in (("without shedding", 0), (f"MAX_CONCURRENT_REQUESTS={BOUND}", BOUND)):
        with Gunicorn({**env, "MAX_CONCURRENT_REQUESTS": str(bound)}, tmp,
                      app="bench.slow_app:app") as server:
            outcome = runs[name] = load(server.url)
            outcome.served, outcome.drained_after = _drain(server)
    print()
    report(runs)


if __name__ == "__main__":
    main()
