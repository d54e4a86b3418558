#!/usr/bin/env python
"""Throughput of the tracked-link redirect and the loader's ingestion, against a bare server.

Starts two uvicorn servers on 127.0.0.1, each as `bantico serve` runs uvicorn (log level
warning, no access log, no proxy headers, httptools and uvloop, `--workers` processes, the
startup heap frozen with `gc.freeze()` unless `--no-gc-freeze`): a bare Starlette hello-world
(`bare_app`, the baseline: the ceiling of this stack) and the real Bantico app (`bench_app`) on
a fresh temporary SQLite database unless `--database-url` says otherwise, with a project and a
tracked link created through the services and hello routes mounted on the app. Then `wrk` (one
thread, `--connections` keep-alive connections) drives each scenario for `--duration` seconds
after a `--warmup`:

* `bare`                                the bare hello-world (its own process);
* `hello`, `hello_last`                 the app's hello route, matched first and last;
* `hello_fast`                          the same bytes from a raw-ASGI handler on the fast path;
* `hello_auth`                          `GET /api/v1/__hello` with the secret key: an
                                        authenticated API call doing nothing else;
* `redirect`                            `GET /l/{key}`, a desktop browser's click;
* `collect`                             the loader's `page_view`, a new visitor every four;
* `collect_new`                         the same, a new visitor on every request;
* `collect_stale`                       a landing (UTM tags, linkId) whose clickId matches no
                                        click, a new visitor and click id on every request.

For each it prints requests/s, the server's CPU time per request (read from /proc, steadier
than requests/s on a shared machine; on PostgreSQL also the PostgreSQL processes' CPU time),
latency percentiles, wrk's error counts, and the ratios to the bare hello-world (and to the
app's hello). Then a paced run of the endpoints at half their measured rate (connections that
wait 10 ms before each request: wrk cannot set a rate) gives their latency below saturation.
It checks that every answer was a redirect or a 2xx, and that the rows each run stored match
wrk's count. `--rounds N` repeats the scenarios interleaved and reports medians. Loopback only;
every run is bounded; the servers are stopped and, on a `--database-url`, the run's project
deleted at the end. Not a pytest test: run it by hand. Exits 1 if a check fails (not if a
target is missed).

    .venv/bin/python benchmarks/bench_tracking.py [--duration 10] [--warmup 2] [--rounds 3]
        [--connections 32] [--workers 1] [--only redirect,collect_new] [--no-paced]
        [--no-gc-freeze] [--json] [--database-url postgresql://postgres@127.0.0.1:5432/bench]
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
HELLO_AUTH_PATH = "/api/v1/__hello"
BARE_PATH = "/__hello"
# Ratios to the bare uvicorn + Starlette hello-world (the real ceiling of this server stack).
TARGETS = {"redirect": 0.50, "collect_new": 0.35}
# A landing whose click id is unknown must cost no more than a plain page view of a new visitor.
STALE_VS_PLAIN = 1.0
# The paced run: this share of the endpoint's measured maximum rate, and its p99 limit.
PACED_SHARE = 0.5
PACED_P99_MS = 10.0
PACED_DELAY_MS = 10


# --- the server side: imported by uvicorn in the subprocess -------------------------------------


def _maybe_freeze() -> None:
    if os.environ.get("BANTICO_BENCH_GC_FREEZE") == "1":
        # What `bantico serve` does once the app is built (bantico/cli.py): keep the long-lived
        # startup heap (modules, models, routes) out of every later full garbage collection.
        gc.collect()
        gc.freeze()


def bare_app() -> Any:
    """The ceiling: a bare Starlette hello-world on the same uvicorn (httptools, uvloop), one
    route answering the same bytes as the app's hello, nothing else (plus /healthz, matched
    after it, for the start-up probe)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route(BARE_PATH, hello), Route("/healthz", healthz)])
    _maybe_freeze()
    return app


def bench_app() -> Any:
    """The real app (settings from BANTICO_* env vars) plus hello-world routes."""
    from bantico.app import create_app
    from bantico.deps import ProjectDep

    app = create_app()

    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    def hello_auth(project: Any) -> dict[str, str]:
        return {"hello": "world"}

    # Annotations are strings in this module; FastAPI must see the dependency itself.
    hello_auth.__annotations__ = {"project": ProjectDep, "return": dict[str, str]}

    # An authenticated API call that does nothing else: every middleware, the routing of
    # /api/v1, the session and the secret key's look-up (as any /api/v1 route pays).
    app.add_api_route(HELLO_AUTH_PATH, hello_auth, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())

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
    _maybe_freeze()
    return app


# --- the database ---------------------------------------------------------------------------------


def prepare_database(url: str) -> dict[str, str]:
    """Migrate, then create a project and one tracked link through the real services."""
    from bantico.db import make_engine, make_sessionmaker, migrate, session_scope
    from bantico.links.schemas import LinkCreate
    from bantico.links.service import create_link
    from bantico.projects.service import create_project
    from bantico.wiring import connect_hooks

    connect_hooks()  # as every entry point does (creating a link announces its labels)
    engine = make_engine(url)
    try:
        migrate(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            created = create_project(session, "Benchmark")
            project = created.project
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
                "secret_key": created.secret_key,
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


def postgres_pids(url: str) -> list[int]:
    """The PostgreSQL backends working for this run: those connected to its database (the
    app's pooled connections, connected once the warm-up has run). The server's shared
    processes (WAL writer, checkpointer, background writer) are left out: they also work for
    every other database on the server, which on a shared machine swamps the run's share."""
    from sqlalchemy import text

    from bantico.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ).all()
            return [int(row[0]) for row in rows]
    finally:
        engine.dispose()


# --- the server processes -------------------------------------------------------------------------

# As `bantico serve` runs uvicorn (bantico/cli.py): no proxy headers unless trusted proxies
# are configured, no access log, uvicorn's defaults otherwise (httptools and uvloop when
# installed, named here so that both servers surely use them).
UVICORN_OPTIONS = [
    "--no-proxy-headers",
    "--no-access-log",
    "--http",
    "httptools",
    "--loop",
    "uvloop",
]


def start_server(
    url: str, port: int, workers: int, log: Path, *, gc_freeze: bool = False, bare: bool = False
) -> subprocess.Popen[bytes]:
    """uvicorn as `bantico serve` runs it, one process group: the app, or (`bare`) the bare
    Starlette hello-world, with the same options and worker count."""
    env = {
        **os.environ,
        "BANTICO_DATABASE_URL": url,
        # No background Dodo reconciliation competing for the CPU (and no network) during runs.
        "BANTICO_DODO_SYNC_INTERVAL_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
        "BANTICO_BENCH_GC_FREEZE": "1" if gc_freeze else "0",
    }
    options = ["--app-dir", str(Path(__file__).resolve().parent), "--workers", str(workers)]
    app = "bench_tracking:bare_app" if bare else "bench_tracking:bench_app"
    return start_uvicorn(app, port, log, env, [*options, *UVICORN_OPTIONS])


# --- wrk ------------------------------------------------------------------------------------------

# Appended to every script: print wrk's totals as one JSON line we can parse.
DONE_LUA = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "p999_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
"""

HELLO_LUA = DONE_LUA

HELLO_AUTH_LUA = (
    """
wrk.headers["Authorization"] = "Bearer @SECRET@"
"""
    + DONE_LUA
)

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

# Each wrk thread numbers its requests; a visitor makes @PER_VISITOR@ page views in one
# session. @EXTRA@ is more of the body: the carried context, or a landing's click and tags.
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
  local visitor = math.floor(counter / @PER_VISITOR@)
  local body = string.format(
    '{"token":"@TOKEN@","name":"page_view","visitorId":"bv%s%08d",' ..
    '"sessionId":"bs%s%08d","url":"https://shop.example/pricing","referrer":"",' ..
    @EXTRA@ .. '}',
    prefix, visitor, prefix, visitor, prefix, counter)
  return wrk.format("POST", "/api/collect", {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["Origin"] = "https://shop.example",
    ["User-Agent"] = "@UA@",
  }, body)
end
"""
    + DONE_LUA
)
# The page view of a visitor who carries a link's context (the loader's cookie).
CARRIED = """'"context":{"linkId":"@LINK_ID@"}'"""
# A landing from a tracked link, as the loader sends it (the link's tags, its id and the click
# id from the address bar), whose click id matches no stored click: a made-up or stale one, a
# click deleted since, another project's. Each visitor has its own.
STALE_LANDING = (
    """'"utm":{"source":"linkedin","medium":"dm","campaign":"bench26","content":"hero"},' .. """
    """'"linkId":"@LINK_ID@","clickId":"clk_%s%08d"'"""
)


def collect_lua(extra: str, per_visitor: int) -> str:
    return COLLECT_LUA.replace("@EXTRA@", extra).replace("@PER_VISITOR@", str(per_visitor))


def paced(script: str, delay_ms: int) -> str:
    """`script` with every connection waiting `delay_ms` before each request: wrk cannot set
    a rate, but N connections that each wait D ms after every answer send at most N/D per ms
    (the delay is wrk's own `delay()` hook; the latency it records excludes the wait)."""
    return script + f"\ndelay = function()\n  return {delay_ms}\nend\n"


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
        f"-t{min(threads, connections)}",
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
    result["connections"] = connections
    return result


def cpu_times() -> tuple[dict[int, int], dict[int, float]]:
    """Every process's parent and user + system CPU seconds so far, from /proc."""
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
    return parents, times


def process_tree_cpu(root: int) -> float:
    """User + system CPU seconds used so far by `root` and its descendants (uvicorn workers)."""
    parents, times = cpu_times()
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(times.get(pid, 0.0) for pid in tree)


def pids_cpu(pids: list[int]) -> float:
    _, times = cpu_times()
    return sum(times.get(pid, 0.0) for pid in pids)


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
    bare: bool = False  # served by the bare hello-world server
    runs: list[dict[str, Any]] = field(default_factory=list)
    paced_runs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Servers:
    app_base: str
    app_pid: int
    bare_base: str
    bare_pid: int
    postgres: Callable[[], list[int]] | None = None  # the PostgreSQL processes to count


def measure(
    scenario: Scenario,
    servers: Servers,
    args: argparse.Namespace,
    scratch: Path,
    *,
    connections: int,
    script: str,
) -> dict[str, Any]:
    base, pid = (
        (servers.bare_base, servers.bare_pid)
        if scenario.bare
        else (servers.app_base, servers.app_pid)
    )
    wrk_args = {"connections": connections, "threads": args.threads, "scratch": scratch}
    if args.warmup > 0:
        run_wrk(base, scenario.path, script, duration=args.warmup, **wrk_args)
    postgres = servers.postgres() if servers.postgres and not scenario.bare else []
    load = os.getloadavg()[0]
    cpu, pg_cpu = process_tree_cpu(pid), pids_cpu(postgres)
    result = run_wrk(base, scenario.path, script, duration=args.duration, **wrk_args)
    result["server_cpu_s"] = process_tree_cpu(pid) - cpu
    result["load_average"] = load
    requests = result["requests"] or 1
    result["cpu_us_per_request"] = result["server_cpu_s"] * 1e6 / requests
    if postgres:
        result["postgres_cpu_s"] = pids_cpu(postgres) - pg_cpu
        result["postgres_cpu_us_per_request"] = result["postgres_cpu_s"] * 1e6 / requests
    if scenario.stored:
        count = scenario.stored
        tag = result["run"]
        result["stored"] = wait_until_stable(lambda: count(tag))
    stored = f"  stored {result['stored']}" if "stored" in result else ""
    postgres_note = (
        f"  +PG {result['postgres_cpu_us_per_request']:.0f} us"
        if "postgres_cpu_s" in result
        else ""
    )
    print(
        f"  {scenario.name:<12}{result['rps']:>8.0f} req/s  {result['cpu_us_per_request']:>5.0f} "
        f"us CPU/req{postgres_note}  p50 {result['p50_us'] / 1000:6.2f} ms  p99 "
        f"{result['p99_us'] / 1000:7.2f} ms  requests {result['requests']}  non-2xx/3xx "
        f"{result['non_2xx_3xx']}  socket errors {result['errors']}{stored}  (c={connections}, "
        f"load {load:.1f})",
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
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every endpoint this many times, interleaved, and "
        "report the median (steadier on a shared machine)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated scenario names to run (the bare hello always runs)",
    )
    parser.add_argument(
        "--no-paced",
        dest="paced",
        action="store_false",
        help="skip the paced latency runs at half the measured rate",
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
        help="freeze the servers' startup heap (gc.collect(); gc.freeze()) once "
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


def ratio_table(
    by_name: dict[str, Scenario], names: list[str], base: str
) -> dict[str, dict[str, float]]:
    """Per scenario, the median over the rounds of (req/s ratio, CPU ratio) to `base`."""
    ratios: dict[str, dict[str, float]] = {}
    for name in names:
        pairs = list(zip(by_name[name].runs, by_name[base].runs, strict=True))
        ratios[name] = {
            "rps": statistics.median(run["rps"] / ref["rps"] for run, ref in pairs),
            "cpu": statistics.median(
                ref["cpu_us_per_request"] / run["cpu_us_per_request"] for run, ref in pairs
            ),
        }
    return ratios


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    load = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="bantico-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    shown_url = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
    try:
        fixture = prepare_database(url)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    port, bare_port = free_port(), free_port()
    print(
        f"database {shown_url}\nuvicorn  {args.workers} worker(s) on 127.0.0.1:{port} (app) and "
        f"127.0.0.1:{bare_port} (bare hello-world); wrk {args.threads} thread(s), "
        f"{args.connections} connections; {args.rounds} round(s) of {args.warmup:g} s warm-up "
        f"+ {args.duration:g} s per endpoint"
        + (
            "; startup heap frozen (as `bantico serve`)"
            if args.gc_freeze
            else "; startup heap NOT frozen (--no-gc-freeze)"
        ),
        flush=True,
    )
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    print(flush=True)
    subs = {
        "@UA@": DESKTOP_UA,
        "@TOKEN@": fixture["token"],
        "@LINK_ID@": fixture["link_id"],
        "@SECRET@": fixture["secret_key"],
    }
    project_id = fixture["project_id"]

    def page_views(run: str) -> int:
        return count_run(url, project_id, "page_view", run)

    scenarios = [
        Scenario("bare", f"GET {BARE_PATH} (bare)", BARE_PATH, HELLO_LUA, bare=True),
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
            "POST /api/collect (4/visitor)",
            "/api/collect",
            fill(collect_lua(CARRIED, 4), subs),
            page_views,
        ),
        Scenario(
            "collect_new",
            "POST /api/collect (new visitor)",
            "/api/collect",
            fill(collect_lua(CARRIED, 1), subs),
            page_views,
        ),
        Scenario(
            "collect_stale",
            "POST /api/collect (unknown click)",
            "/api/collect",
            fill(collect_lua(STALE_LANDING, 1), subs),
            page_views,
        ),
        # Last: its backlog (sessions waiting for pooled connections) must not run into
        # the hot paths' runs.
        Scenario(
            "hello_auth", f"GET {HELLO_AUTH_PATH}", HELLO_AUTH_PATH, fill(HELLO_AUTH_LUA, subs)
        ),
    ]
    if args.only:
        wanted = {"bare", *args.only.split(",")}
        scenarios = [scenario for scenario in scenarios if scenario.name in wanted]
    by_name = {scenario.name: scenario for scenario in scenarios}
    app_server = start_server(
        url, port, args.workers, scratch / "uvicorn.log", gc_freeze=args.gc_freeze
    )
    bare_server = None
    try:
        bare_server = start_server(
            url,
            bare_port,
            args.workers,
            scratch / "bare.log",
            gc_freeze=args.gc_freeze,
            bare=True,
        )
        servers = Servers(
            f"http://127.0.0.1:{port}",
            app_server.pid,
            f"http://127.0.0.1:{bare_port}",
            bare_server.pid,
            (lambda: postgres_pids(url)) if url.startswith("postgresql") else None,
        )
        for round_number in range(args.rounds):
            if args.rounds > 1:
                print(f"round {round_number + 1}/{args.rounds}", flush=True)
            for scenario in scenarios:
                scenario.runs.append(
                    measure(
                        scenario,
                        servers,
                        args,
                        scratch,
                        connections=args.connections,
                        script=scenario.script,
                    )
                )
        if args.paced:
            # Latency below saturation: N connections each waiting PACED_DELAY_MS before
            # every request, N chosen for PACED_SHARE of the endpoint's median maximum rate.
            print(
                f"\npaced runs: {PACED_SHARE:.0%} of each endpoint's median rate above "
                f"(connections x 1 request per {PACED_DELAY_MS} ms + its latency)",
                flush=True,
            )
            for scenario in scenarios:
                if scenario.name not in ("bare", "redirect", "collect_new", "collect_stale"):
                    continue
                rate = median_run(scenario.runs)["rps"] * PACED_SHARE
                connections = max(1, round(rate * PACED_DELAY_MS / 1000))
                result = measure(
                    scenario,
                    servers,
                    args,
                    scratch,
                    connections=connections,
                    script=paced(scenario.script, PACED_DELAY_MS),
                )
                result["target_rps"] = rate
                scenario.paced_runs.append(result)
    finally:
        stop_server(app_server)
        if bare_server is not None:
            stop_server(bare_server)
        for name in ("uvicorn.log", "bare.log"):
            path = scratch / name
            server_log = path.read_text(errors="replace").strip() if path.exists() else ""
            if server_log:
                print(f"\n{name} (last lines):\n{chr(10).join(server_log.splitlines()[-20:])}")
        if not args.keep:
            if args.database_url:
                delete_project(url, project_id)
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"kept {scratch}")
    load_after = os.getloadavg()

    results = {scenario.name: median_run(scenario.runs) for scenario in scenarios}
    size = loader_gzip_size()
    # Ratios are taken within each round (runs minutes apart see different background load),
    # then the median over the rounds is reported.
    others = [scenario.name for scenario in scenarios if scenario.name != "bare"]
    vs_bare = ratio_table(by_name, others, "bare")
    vs_hello = ratio_table(by_name, others, "hello") if "hello" in by_name else {}
    print(
        f"\n{'endpoint':<36}{'req/s':>8}{'CPU/req':>9}{'p99':>9}   {'of bare':>15}"
        f"{'of app hello':>16}{'target':>9}"
    )
    print(f"{'':<62}{'req/s':>9}{'CPU':>7}{'req/s':>9}{'CPU':>7}")
    for scenario in scenarios:
        result = results[scenario.name]
        row = (
            f"{scenario.label:<36}{result['rps']:>8.0f}{result['cpu_us_per_request']:>7.0f}us"
            f"{result['p99_us'] / 1000:>7.1f}ms"
        )
        if scenario.name in vs_bare:
            mine = vs_bare[scenario.name]
            row += f"{mine['rps']:>12.1%}{mine['cpu']:>7.1%}"
            if scenario.name in vs_hello and scenario.name != "hello":
                row += (
                    f"{vs_hello[scenario.name]['rps']:>9.1%}{vs_hello[scenario.name]['cpu']:>7.1%}"
                )
            else:
                row += " " * 16
            if scenario.name in TARGETS:
                row += f"{'>=' + format(TARGETS[scenario.name], '.0%'):>9}"
        if "postgres_cpu_us_per_request" in result:
            row += f"   + PostgreSQL {result['postgres_cpu_us_per_request']:.0f} us CPU/req"
        print(row)
    print(
        "\nreq/s, CPU/req and p99: medians over the rounds; ratios: the median of each round's "
        "ratio.\nbare: a bare Starlette hello-world on the same uvicorn (the ceiling). CPU = "
        "the server's CPU\ntime per request, compared as bare's CPU/req divided by the "
        "endpoint's: the throughput\nratio of a CPU-bound server, steadier than req/s when "
        "other processes share the machine."
    )
    for name, target in TARGETS.items():
        if name in vs_bare:
            mine = vs_bare[name]
            verdict = "met" if mine["rps"] >= target else "missed"
            print(
                f"target {name} >= {target:.0%} of bare: {verdict} (req/s {mine['rps']:.1%}, "
                f"CPU {mine['cpu']:.1%})"
            )
    if "collect_stale" in by_name and "collect_new" in by_name:
        stale = ratio_table(by_name, ["collect_stale"], "collect_new")["collect_stale"]
        verdict = "met" if stale["cpu"] >= STALE_VS_PLAIN * 0.95 else "missed"
        print(
            f"target unknown-click landing no slower than a plain page view: {verdict} "
            f"(req/s {stale['rps']:.1%}, CPU {stale['cpu']:.1%} of collect_new; 5% noise allowed)"
        )
    for scenario in scenarios:
        for run in scenario.paced_runs:
            verdict = "met" if run["p99_us"] / 1000 < PACED_P99_MS else "missed"
            print(
                f"paced {scenario.name}: {run['rps']:.0f} req/s (aimed at {run['target_rps']:.0f},"
                f" {run['connections']} connections): p50 {run['p50_us'] / 1000:.2f} ms, p99 "
                f"{run['p99_us'] / 1000:.2f} ms, p99.9 {run['p999_us'] / 1000:.2f} ms, CPU "
                f"{run['cpu_us_per_request']:.0f} us/req; p99 < {PACED_P99_MS:g} ms: {verdict}"
            )
    print("loader bantico.js gzip -9: " + (f"{size} bytes" if size is not None else "missing"))
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")

    every = [run for scenario in scenarios for run in (*scenario.runs, *scenario.paced_runs)]
    checks = [("no socket errors or timeouts", all(run["errors"] == 0 for run in every))]
    for scenario in scenarios:
        runs = [*scenario.runs, *scenario.paced_runs]
        if scenario.stored is None:
            continue
        what = "redirect" if scenario.name == "redirect" else "2xx"
        checks.append(
            (f"{scenario.name}: every answer a {what}", all(run["status"] == 0 for run in runs))
        )
        checks.append(
            (
                f"{scenario.name}: rows stored match wrk's count in every run",
                all(
                    run["requests"] <= run["stored"] <= run["requests"] + run["connections"]
                    for run in runs
                ),
            )
        )
    print(
        "\n(each run's rows are counted by its tag. A request wrk counted was answered, so it "
        "was committed:\nstored >= wrk's count. Up to the connections' requests still in flight "
        "at wrk's deadline are\nanswered and stored after it, so stored may exceed the count by "
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
                    "load_average_before": load,
                    "load_average_after": load_after,
                    "loader_gzip_bytes": size,
                    "gc_freeze": args.gc_freeze,
                    "median": results,
                    "ratios_to_bare": vs_bare,
                    "ratios_to_app_hello": vs_hello,
                    "runs": {sc.name: sc.runs for sc in scenarios},
                    "paced": {sc.name: sc.paced_runs for sc in scenarios if sc.paced_runs},
                },
                indent=2,
            )
        )
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
