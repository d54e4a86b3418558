#!/usr/bin/env python
"""Throughput of the tracked-link redirect and the loader's ingestion, against hello-world.

Starts the real Bantico app under uvicorn (a subprocess on 127.0.0.1, as `bantico serve` runs it:
log level warning, no access log, proxy headers, `--workers` processes, the startup heap frozen
with `gc.freeze()` unless `--no-gc-freeze`) on a fresh temporary SQLite database
unless `--database-url` says otherwise, creates a project and a tracked link through the
services, and mounts two bare hello-world routes on the app: an `async def` returning a constant
JSON object, once matched before every other route (`/__hello`, the strict baseline: the
cheapest request this uvicorn + middleware + FastAPI stack answers) and once appended after all
of them (`/__hello_last`, what any route added to the finished app pays for routing). Then `wrk`
(one thread, `--connections` keep-alive connections) drives each endpoint for `--duration`
seconds after a `--warmup`:

* `GET /__hello`, `GET /__hello_last`   the baselines;
* `GET /__hello_fast`                   for transparency only (its ratios are in `--json`):
                                        the same answer (same bytes) served by a raw-ASGI
                                        handler through the app's fast path
                                        (bantico/ingest/fastpath.py), as the two endpoints
                                        below are;
* `GET /l/{key}`                        the redirect, with a desktop browser's User-Agent (a
                                        human click: one `link_clicked` event per request);
* `POST /api/collect`                   the loader's `page_view` (text/plain JSON, as the
                                        loader sends it), a new visitor every four requests,
                                        carrying the link's context.

For each it prints requests/s, the server's CPU time per request (read from /proc, steadier
than requests/s on a shared machine), latency, wrk's error counts, and the ratios to both
baselines. It checks that every answer was a redirect or a 2xx, and that the rows each run
stored match wrk's count (each run tags its rows: the click's referrer, the visitor ids), and it
prints the gzipped (level 9) size of `bantico/tracking/static/bantico.js`, or "missing".
`--rounds N` repeats the endpoints interleaved and reports medians. Loopback only; every run is
bounded; the server is stopped and, on a `--database-url`, the run's project deleted at the end.
Not a pytest test: run it by hand. Exits 1 if a check fails (not if a target is missed).

    .venv/bin/python benchmarks/bench_tracking.py [--duration 10] [--warmup 2] [--rounds 3]
        [--connections 50] [--workers 1] [--no-gc-freeze] [--json]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from uvicorn_server import free_port, start_uvicorn, stop_server  # noqa: E402  (benchmarks/)

LOADER = ROOT / "bantico" / "tracking" / "static" / "bantico.js"
HELLO_PATH = "/__hello"
HELLO_LAST_PATH = "/__hello_last"
HELLO_FAST_PATH = "/__hello_fast"
HELLO_BODY = b'{"hello":"world"}'  # what FastAPI sends for the routes' {"hello": "world"}
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
TARGETS = {"redirect": 0.60, "collect": 0.50}


# --- the server side: imported by uvicorn in the subprocess -------------------------------------


def bench_app() -> Any:
    """The real app (settings from BANTICO_* env vars) plus two bare hello-world routes."""
    from bantico.app import create_app

    app = create_app()

    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    # The strict baseline is matched before every other route: the cheapest request this stack
    # (uvicorn, the app's middleware, FastAPI routing and a JSON response) can answer. The
    # other is simply appended, as a route added to the finished app is, and so is matched
    # after all of the app's routes: what an endpoint at the end of the table pays.
    app.add_api_route(HELLO_LAST_PATH, hello, methods=["GET"], include_in_schema=False)
    app.add_api_route(HELLO_PATH, hello, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())

    # For transparency, not as a baseline: the same answer, byte for byte, served the way the
    # redirect and collect are, by a raw-ASGI handler on the app's fast path.
    headers = [
        (b"content-length", str(len(HELLO_BODY)).encode()),
        (b"content-type", b"application/json"),
    ]

    async def hello_fast(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": HELLO_BODY})

    fast_routes = getattr(app.state, "fast_routes", None)
    if fast_routes is not None:
        fast_routes.add(("GET",), HELLO_FAST_PATH, hello_fast)
    if os.environ.get("BANTICO_BENCH_GC_FREEZE") == "1":
        # What `bantico serve` does once the app is built (bantico/cli.py): keep the long-lived
        # startup heap (modules, models, routes) out of every later full garbage collection.
        gc.collect()
        gc.freeze()
    return app


# --- the database ---------------------------------------------------------------------------------


def prepare_database(url: str) -> dict[str, str]:
    """Migrate, then create a project and one tracked link through the real services."""
    from bantico.db import make_engine, make_sessionmaker, migrate, session_scope
    from bantico.links.schemas import LinkCreate
    from bantico.links.service import create_link
    from bantico.projects.service import create_project

    engine = make_engine(url)
    try:
        migrate(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            project = create_project(session, "Benchmark").project
            link = create_link(
                session,
                project.id,
                LinkCreate(
                    destination_url="https://shop.example/pricing?plan=pro",
                    campaign_id="bench26",
                    source="linkedin",
                    medium="dm",
                    content="hero",
                    lead_id="lead_42",
                ),
            )
            return {
                "project_id": project.id,
                "token": project.token,
                "link_id": link.id,
                "link_key": link.key,
            }
    finally:
        engine.dispose()


def count_run(url: str, project_id: str, name: str, run: str) -> int:
    """Human events of one wrk run: clicks carry the run in their referrer, page views in their
    visitor id, so stragglers of the warm-up or of an earlier run are never counted."""
    from sqlalchemy import func, select

    from bantico.db import make_engine
    from bantico.tracking.models import Event

    query = (
        select(func.count())
        .select_from(Event)
        .where(Event.project_id == project_id, Event.name == name, Event.is_bot.is_(False))
    )
    if name == "link_clicked":
        query = query.where(Event.referrer == f"https://www.linkedin.com/feed/?bench={run}")
    else:
        query = query.where(Event.visitor_id.like(f"bv{run}%"))
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def delete_project(url: str, project_id: str) -> None:
    """Remove everything the run stored (every table cascades from the project)."""
    from sqlalchemy import delete

    from bantico.db import make_engine
    from bantico.projects.models import Project

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(Project).where(Project.id == project_id))
    finally:
        engine.dispose()


# --- the server process ---------------------------------------------------------------------------


def start_server(
    url: str, port: int, workers: int, log: Path, *, gc_freeze: bool = False
) -> subprocess.Popen[bytes]:
    """uvicorn as `bantico serve` runs it (log level warning, no access log, proxy headers), one
    process group."""
    env = {
        **os.environ,
        "BANTICO_DATABASE_URL": url,
        # No background Dodo reconciliation competing for the CPU (and no network) during runs.
        "BANTICO_DODO_SYNC_INTERVAL_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
        "BANTICO_BENCH_GC_FREEZE": "1" if gc_freeze else "0",
    }
    options = ["--app-dir", str(Path(__file__).resolve().parent), "--workers", str(workers)]
    return start_uvicorn("bench_tracking:bench_app", port, log, env, [*options, "--no-access-log"])


# --- wrk ------------------------------------------------------------------------------------------

# Appended to every script: print wrk's totals as one JSON line we can parse.
DONE_LUA = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

HELLO_LUA = DONE_LUA

REDIRECT_LUA = (
    """
wrk.method = "GET"
wrk.headers["User-Agent"] = "@UA@"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.9"
wrk.headers["Referer"] = "https://www.linkedin.com/feed/?bench=@RUN@"
"""
    + DONE_LUA
)

# Each wrk thread numbers its requests; a visitor makes four page views in one session.
COLLECT_LUA = (
    """
local counter = 0
prefix = "@RUN@"
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("prefix", "@RUN@" .. threads .. "x")
end

request = function()
  counter = counter + 1
  local visitor = math.floor(counter / 4)
  local body = string.format(
    '{"token":"@TOKEN@","name":"page_view","visitorId":"bv%s%08d",' ..
    '"sessionId":"bs%s%08d","url":"https://shop.example/pricing","referrer":"",' ..
    '"context":{"linkId":"@LINK_ID@"}}',
    prefix, visitor, prefix, visitor)
  return wrk.format("POST", "/api/collect", {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["Origin"] = "https://shop.example",
    ["User-Agent"] = "@UA@",
  }, body)
end
"""
    + DONE_LUA
)


def fill(script: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        script = script.replace(placeholder, value)
    return script


def run_wrk(
    base: str,
    path: str,
    script: str,
    *,
    duration: float,
    connections: int,
    threads: int,
    scratch: Path,
) -> dict[str, Any]:
    run = f"r{time.time_ns() % 10**12:010x}"  # tags this run's rows (referrer, visitor ids)
    lua = scratch / f"wrk-{run}.lua"
    lua.write_text(script.replace("@RUN@", run))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        "-s",
        str(lua),
        base + path,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(match.group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    result["non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "timeout"))
    result["run"] = run
    return result


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds used so far by `root` and its descendants (uvicorn workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(times.get(pid, 0.0) for pid in tree)


def wait_until_stable(count: Callable[[], int], timeout: float = 10.0) -> int:
    """The server may still be finishing requests wrk gave up on; wait for the count to settle."""
    last, deadline = count(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = count()
        if now == last:
            return now
        last = now
    return last


@dataclass
class Scenario:
    name: str
    label: str
    path: str
    script: str
    stored: Callable[[str], int] | None = None  # rows one run (by its tag) stored
    runs: list[dict[str, Any]] = field(default_factory=list)


def run_scenario(
    scenario: Scenario, base: str, server_pid: int, args: argparse.Namespace, scratch: Path
) -> dict[str, Any]:
    wrk_args = {"connections": args.connections, "threads": args.threads, "scratch": scratch}
    if args.warmup > 0:
        run_wrk(base, scenario.path, scenario.script, duration=args.warmup, **wrk_args)
    cpu = process_tree_cpu(server_pid)
    result = run_wrk(base, scenario.path, scenario.script, duration=args.duration, **wrk_args)
    result["server_cpu_s"] = process_tree_cpu(server_pid) - cpu
    result["cpu_us_per_request"] = (
        result["server_cpu_s"] * 1e6 / result["requests"] if result["requests"] else 0.0
    )
    if scenario.stored:
        count = scenario.stored
        tag = result["run"]
        result["stored"] = wait_until_stable(lambda: count(tag))
    scenario.runs.append(result)
    stored = f"  stored {result['stored']}" if "stored" in result else ""
    print(
        f"  {scenario.name:<9}{result['rps']:>8.0f} req/s  {result['cpu_us_per_request']:>5.0f} "
        f"us CPU/req  p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:7.2f} "
        f"ms  requests {result['requests']}  non-2xx/3xx {result['non_2xx_3xx']}  "
        f"socket errors {result['errors']}{stored}",
        flush=True,
    )
    return result


# --- the loader -----------------------------------------------------------------------------------


def loader_gzip_size() -> int | None:
    if not LOADER.is_file():
        return None
    return len(gzip.compress(LOADER.read_bytes(), compresslevel=9, mtime=0))


# --- main -----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat hello, redirect, collect this many times, interleaved, and "
        "report the median (steadier on a shared machine)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file in a temporary directory; a "
        "PostgreSQL URL is migrated and the run's project deleted afterwards",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the run's rows (and the temporary SQLite directory)",
    )
    parser.add_argument(
        "--gc-freeze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="freeze the server's startup heap (gc.collect(); gc.freeze()) once "
        "the app is built, as `bantico serve` does (the default); "
        "--no-gc-freeze measures without",
    )
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60 or not 1 <= args.rounds <= 20:
        parser.error("--duration must be in (0, 600], --warmup in [0, 60], --rounds in 1..20")
    if not 1 <= args.connections <= 1000 or not 1 <= args.threads <= 64 or args.workers < 1:
        parser.error("--connections must be 1..1000, --threads 1..64, --workers at least 1")
    args.threads = min(args.threads, args.connections)
    return args


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda run: run["rps"])
    return ordered[(len(ordered) - 1) // 2]


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    load = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="bantico-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    shown_url = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
    try:
        fixture = prepare_database(url)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(
        f"database {shown_url}\nuvicorn  {args.workers} worker(s) on {base}; wrk "
        f"{args.threads} thread(s), {args.connections} connections; {args.rounds} round(s) of "
        f"{args.warmup:g} s warm-up + {args.duration:g} s per endpoint"
        + (
            "; startup heap frozen (as `bantico serve`)"
            if args.gc_freeze
            else "; startup heap NOT frozen (--no-gc-freeze)"
        ),
        flush=True,
    )
    if load > 0.5:
        print(
            f"warning: load average {load:.1f} before starting; other processes share the "
            "CPUs, so req/s will be low and noisy (CPU/req is steadier)",
            flush=True,
        )
    print(flush=True)
    subs = {"@UA@": DESKTOP_UA, "@TOKEN@": fixture["token"], "@LINK_ID@": fixture["link_id"]}
    project_id = fixture["project_id"]
    scenarios = [
        Scenario("hello", f"GET {HELLO_PATH}", HELLO_PATH, HELLO_LUA),
        Scenario("hello_last", f"GET {HELLO_LAST_PATH}", HELLO_LAST_PATH, HELLO_LUA),
        Scenario("hello_fast", f"GET {HELLO_FAST_PATH}", HELLO_FAST_PATH, HELLO_LUA),
        Scenario(
            "redirect",
            "GET /l/{key}",
            f"/l/{fixture['link_key']}",
            fill(REDIRECT_LUA, subs),
            lambda run: count_run(url, project_id, "link_clicked", run),
        ),
        Scenario(
            "collect",
            "POST /api/collect",
            "/api/collect",
            fill(COLLECT_LUA, subs),
            lambda run: count_run(url, project_id, "page_view", run),
        ),
    ]
    by_name = {scenario.name: scenario for scenario in scenarios}
    server = start_server(
        url, port, args.workers, scratch / "uvicorn.log", gc_freeze=args.gc_freeze
    )
    try:
        for round_number in range(args.rounds):
            if args.rounds > 1:
                print(f"round {round_number + 1}/{args.rounds}", flush=True)
            for scenario in scenarios:
                run_scenario(scenario, base, server.pid, args, scratch)
    finally:
        stop_server(server)
        server_log = (scratch / "uvicorn.log").read_text(errors="replace").strip()
        if server_log:
            print(f"\nuvicorn log (last lines):\n{chr(10).join(server_log.splitlines()[-20:])}")
        if not args.keep:
            if args.database_url:
                delete_project(url, project_id)
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")

    results = {scenario.name: median_run(scenario.runs) for scenario in scenarios}
    size = loader_gzip_size()
    # Ratios are taken within each round (runs minutes apart see different background load),
    # then the median over the rounds is reported.
    ratios: dict[str, dict[str, float]] = {}
    for name in TARGETS:
        for base in ("hello", "hello_last", "hello_fast"):
            pairs = list(zip(by_name[name].runs, by_name[base].runs, strict=True))
            rps = statistics.median(run["rps"] / ref["rps"] for run, ref in pairs)
            cpu = statistics.median(
                ref["cpu_us_per_request"] / run["cpu_us_per_request"] for run, ref in pairs
            )
            ratios.setdefault(name, {})[f"rps_vs_{base}"] = rps
            ratios[name][f"cpu_vs_{base}"] = cpu
    print(
        f"\n{'endpoint':<20}{'req/s':>8}{'CPU/req':>9}   {'of hello (first)':>20}"
        f"{'of hello (last)':>20}{'target':>9}"
    )
    print(f"{'':<37}{'req/s':>10}{'CPU':>8}{'req/s':>12}{'CPU':>8}")
    for scenario in scenarios:
        result = results[scenario.name]
        row = f"{scenario.label:<20}{result['rps']:>8.0f}{result['cpu_us_per_request']:>7.0f}us"
        if scenario.name in TARGETS:
            mine = ratios[scenario.name]
            row += (
                f"{mine['rps_vs_hello']:>10.1%}{mine['cpu_vs_hello']:>8.1%}  "
                f"{mine['rps_vs_hello_last']:>10.1%}{mine['cpu_vs_hello_last']:>8.1%}"
                f"{'>=' + format(TARGETS[scenario.name], '.0%'):>9}"
            )
        print(row)
    print("\nreq/s and CPU/req: medians over the rounds; ratios: the median of each round's ratio.")
    print("hello (first) is matched before every other route; hello (last) after all of them,")
    print("as any route appended to the app. hello (fast path): the same answer served by the")
    print("fast path, as the redirect and collect are (shown for transparency; ratios to it are")
    print("in --json only). CPU = the server's CPU time per request, compared")
    print("the same way (hello's CPU/req divided by the endpoint's): the throughput ratio of a")
    print("CPU-bound server, and steadier than req/s when other processes share the machine.")
    for scenario in scenarios:
        if scenario.name not in TARGETS:
            continue
        mine, target = ratios[scenario.name], TARGETS[scenario.name]
        verdicts = [
            f"{'met' if mine[f'rps_vs_{base}'] >= target else 'missed'} against hello ({where})"
            for base, where in (("hello", "first"), ("hello_last", "last"))
        ]
        print(f"target {scenario.name} >= {target:.0%} of hello: {'; '.join(verdicts)}")
    print("loader bantico.js gzip -9: " + (f"{size} bytes" if size is not None else "missing"))

    every = [run for scenario in scenarios for run in scenario.runs]
    redirects, collects = results["redirect"], results["collect"]
    redirect_runs, collect_runs = by_name["redirect"].runs, by_name["collect"].runs
    checks = [
        (
            "redirect: every answer a redirect (no 4xx/5xx)",
            all(run["status"] == 0 for run in redirect_runs),
        ),
        (
            f"redirect: clicks stored match wrk's count ({redirects['stored']} stored, "
            f"{redirects['requests']} counted by wrk)",
            all(
                run["requests"] <= run["stored"] <= run["requests"] + args.connections
                for run in redirect_runs
            ),
        ),
        ("collect: every answer 2xx", all(run["status"] == 0 for run in collect_runs)),
        (
            f"collect: page views stored match wrk's count ({collects['stored']} stored, "
            f"{collects['requests']} counted by wrk)",
            all(
                run["requests"] <= run["stored"] <= run["requests"] + args.connections
                for run in collect_runs
            ),
        ),
        ("no socket errors or timeouts", all(run["errors"] == 0 for run in every)),
    ]
    print(
        "\n(each run's rows are counted by its tag. A request wrk counted was answered, so it "
        "was committed:\nstored >= wrk's count. Up to --connections requests still in flight at "
        "wrk's deadline are\nanswered and stored after it, so stored may exceed the count by "
        "that much, never more.)"
    )
    for label, passed in checks:
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    if args.json:
        print(
            json.dumps(
                {
                    "database": url.split(":", 1)[0].split("+", 1)[0],
                    "workers": args.workers,
                    "connections": args.connections,
                    "duration": args.duration,
                    "rounds": args.rounds,
                    "load_average_at_start": load,
                    "loader_gzip_bytes": size,
                    "gc_freeze": args.gc_freeze,
                    "median": results,
                    "ratios": ratios,
                    "runs": {sc.name: sc.runs for sc in scenarios},
                },
                indent=2,
            )
        )
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
