#!/usr/bin/env python
"""How long each report takes on a large project, on SQLite and PostgreSQL.

Runs against databases filled by `benchmarks/generate.py` (by default 5,000,000 events and
100,000 payments over a year). Every report is called in-process exactly as its route calls it
(the report function, then `present.*` and `present.jsonable`, then JSON encoding), one
session per call like a request: the attribution report for each groupBy and each model, the
time series per day, week and month (overall and for the busiest link), and the funnel
(overall, for the busiest link and for the busiest campaign). Each runs once to warm up and
then `--runs` times; the median is reported, for the default range (the last 30 days) and for
the whole year. One HTTP request per report type through `fastapi.testclient` shows what the
HTTP layer adds. "Now" is the data's last event, so the figures do not drift with the clock.

Not a pytest test: run it by hand.

    .venv/bin/python benchmarks/bench_reports.py \\
        --database-url sqlite:////tmp/bantico-bench.db \\
        --database-url postgresql://postgres@127.0.0.1:5432/bantico_bench \\
        [--runs 3] [--only attribution] [--dump /tmp/reports-out] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import delete, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bantico.app import create_app  # noqa: E402
from bantico.config import Settings  # noqa: E402
from bantico.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from bantico.projects.models import Project, SecretKey  # noqa: E402
from bantico.projects.service import create_secret_key  # noqa: E402
from bantico.reports import present  # noqa: E402
from bantico.reports.attribution import attribution_report  # noqa: E402
from bantico.reports.filters import Filters, make_filters  # noqa: E402
from bantico.reports.funnel import funnel  # noqa: E402
from bantico.reports.timeseries import timeseries  # noqa: E402
from bantico.tracking.models import Event  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_reports:start -->", "<!-- bench_reports:end -->"
TARGET_SECONDS = 1.0
DIMENSIONS = ("link", "campaign", "source", "medium", "content", "lead")
MODELS = ("last_touch", "first_touch", "linear")
RANGES = ("30 days", "1 year")
Report = Callable[[Session, Filters], dict[str, Any]]


@dataclass
class Case:
    kind: str  # attribution, timeseries or funnel: the route it stands for
    name: str
    model: str
    run: Report
    params: dict[str, str] = field(default_factory=dict)  # the same report over HTTP


def attribution(dimension: str, session: Session, filters: Filters) -> dict[str, Any]:
    return present.attribution_out(session, attribution_report(session, filters, dimension))


def series(
    interval: str, scope: str | None, value: str | None, session: Session, filters: Filters
) -> dict[str, Any]:
    return present.timeseries_out(
        filters, interval, timeseries(session, filters, interval, scope, value)
    )


def steps(
    scope: str | None, value: str | None, session: Session, filters: Filters
) -> dict[str, Any]:
    return present.funnel_out(filters, funnel(session, filters, scope, value))


def cases(link_id: str, campaign_id: str) -> list[Case]:
    found: list[Case] = []
    for dimension in DIMENSIONS:
        for model in MODELS:
            found.append(
                Case(
                    "attribution",
                    f"attribution groupBy={dimension} model={model}",
                    model,
                    partial(attribution, dimension),
                    {"groupBy": dimension, "model": model},
                )
            )
    for interval in ("day", "week", "month"):
        found.append(
            Case(
                "timeseries",
                f"timeseries {interval}",
                "last_touch",
                partial(series, interval, None, None),
                {"interval": interval},
            )
        )
        found.append(
            Case(
                "timeseries",
                f"timeseries {interval} linkId=busiest",
                "last_touch",
                partial(series, interval, "link", link_id),
                {"interval": interval, "linkId": link_id},
            )
        )
    found.append(Case("funnel", "funnel", "last_touch", partial(steps, None, None)))
    found.append(
        Case(
            "funnel",
            "funnel linkId=busiest",
            "last_touch",
            partial(steps, "link", link_id),
            {"linkId": link_id},
        )
    )
    found.append(
        Case(
            "funnel",
            "funnel campaignId=busiest",
            "last_touch",
            partial(steps, "campaign", campaign_id),
            {"campaignId": campaign_id},
        )
    )
    return found


@dataclass
class Timing:
    wall: float  # median seconds
    cpu: float  # median CPU seconds of this process (all of SQLite's work; PostgreSQL's is not)


def paired(first: Callable[[], Any], second: Callable[[], Any], runs: int) -> tuple[Timing, Timing]:
    """Both warmed up, then timed alternately `runs` times each."""
    first(), second()
    walls: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for call, wall in zip((first, second), walls, strict=True):
            started = time.perf_counter()
            call()
            wall.append(time.perf_counter() - started)
    return Timing(statistics.median(walls[0]), 0.0), Timing(statistics.median(walls[1]), 0.0)


def timed(call: Callable[[], Any], runs: int) -> tuple[Timing, Any]:
    result = call()  # warm-up: caches, statement compilation
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        result = call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return Timing(statistics.median(wall), statistics.median(cpu)), result


class Bench:
    def __init__(self, url: str, project_id: str, runs: int) -> None:
        self.url, self.project_id, self.runs = url, project_id, runs
        self.engine = make_engine(url)
        self.factory = make_sessionmaker(self.engine)
        with self.factory() as session:
            # The data's "now": its last page view (one index lookup).
            last = session.execute(
                select(func.max(Event.occurred_at)).where(
                    Event.project_id == project_id, Event.name == "page_view"
                )
            ).scalar_one()
            if last is None:
                raise SystemExit(f"no benchmark data in {url}; run benchmarks/generate.py")
            self.now = last + timedelta(seconds=1)
            self.link_id, self.campaign_id = self.busiest(session)
            self.sizes = self.count(session)

    def busiest(self, session: Session) -> tuple[str, str]:
        clicks = (Event.project_id == self.project_id, Event.name == "link_clicked")
        link = session.execute(
            select(Event.link_id)
            .where(*clicks)
            .group_by(Event.link_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        campaign = session.execute(
            select(Event.campaign_id)
            .where(*clicks, Event.campaign_id.is_not(None))
            .group_by(Event.campaign_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        return str(link), str(campaign)

    def count(self, session: Session) -> dict[str, int]:
        return {
            table: session.execute(
                text(f"SELECT count(*) FROM {table} WHERE project_id = :p"), {"p": self.project_id}
            ).scalar_one()
            for table in (
                "events",
                "visitors",
                "sessions",
                "touches",
                "payments",
                "attribution_credits",
                "visitor_days",
                "traffic_days",
                "funnel_clicks",
            )
        }

    def filters(self, model: str, span: str) -> Filters:
        since = None if span == "30 days" else self.now - timedelta(days=366)
        return make_filters(
            self.project_id, mode="live", model=model, since=since, until=self.now, now=self.now
        )

    def call(self, case: Case, span: str) -> Callable[[], str]:
        """The report as its route computes it, in a session of its own."""
        filters = self.filters(case.model, span)

        def call() -> str:
            with self.factory() as session:
                body = json.dumps(present.jsonable(case.run(session, filters)))
                session.rollback()
            return body

        return call

    def in_process(self, case: Case, span: str) -> tuple[Timing, str]:
        return timed(self.call(case, span), self.runs)

    def http(self, cases: list[Case]) -> list[tuple[Case, str, Timing, Timing]]:
        """The first case of each report type through the whole app, each request alternating
        with the same report in-process, so that both see the same load on the machine."""
        settings = Settings(
            database_url=self.url, secret_key="bench-" + "x" * 32, dodo_sync_interval_seconds=0
        )
        with session_scope(self.factory) as session:
            project = session.get(Project, self.project_id)
            assert project is not None
            key = create_secret_key(session, project)
        picked = [c for n, c in enumerate(cases) if c.kind not in {p.kind for p in cases[:n]}]
        found = []
        try:
            with TestClient(create_app(settings, engine=self.engine)) as client:
                for case in picked:
                    for span in RANGES:
                        filters = self.filters(case.model, span)
                        params = {
                            **case.params,
                            "from": filters.since.isoformat(),
                            "to": filters.until.isoformat(),
                        }
                        path = f"/api/v1/reports/{case.kind}"

                        def get(p: dict[str, str] = params, url: str = path) -> None:
                            reply = client.get(
                                url, params=p, headers={"Authorization": f"Bearer {key}"}
                            )
                            assert reply.status_code == 200, reply.text

                        alone, request = paired(self.call(case, span), get, self.runs)
                        found.append((case, span, request, alone))
        finally:
            with session_scope(self.factory) as session:
                session.execute(
                    delete(SecretKey).where(
                        SecretKey.project_id == self.project_id, SecretKey.hint == key[-4:]
                    )
                )
        return found

    def label(self) -> str:
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                version = connection.exec_driver_sql("select sqlite_version()").scalar_one()
            return f"SQLite {version}"
        with self.engine.connect() as connection:
            version = connection.exec_driver_sql("show server_version").scalar_one()
        return f"PostgreSQL {version.split()[0]}"


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{date.today().isoformat()}"
    )


def ms(timing: Timing, cpu: bool) -> str:
    text = f"{timing.wall * 1000:,.0f}"
    if cpu:
        text += f" ({timing.cpu * 1000:,.0f})"
    return f"**{text}**" if timing.wall > TARGET_SECONDS else text


def table(results: dict[str, dict[tuple[str, str], Timing]], names: list[str]) -> str:
    columns = [(db, span) for db in results for span in RANGES]
    header = ["report"] + [f"{db}, {span}" for db, span in columns]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * len(columns)]
    for name in names:
        cells = [ms(results[db][(name, span)], db.startswith("SQLite")) for db, span in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load() -> str:
    return "/".join(f"{n:.1f}" for n in os.getloadavg())


def wrap(text: str, first: str = "", rest: str = "") -> str:
    return textwrap.fill(text, 100, initial_indent=first, subsequent_indent=rest)


def write_docs(section: str) -> None:
    """Replace the generated part of the "Reports" section, leaving the rest of the file."""
    block = f"{START}\n{section.strip()}\n{END}"
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if START in current and END in current:
        updated = re.sub(
            re.escape(START) + ".*?" + re.escape(END), lambda _: block, current, flags=re.S
        )
    elif "\n## Reports" in current:
        updated = current.replace("\n## Reports\n", f"\n## Reports\n\n{block}\n", 1)
    else:
        updated = current.rstrip("\n") + f"\n\n## Reports\n\n{block}\n"
    DOCS.write_text(updated)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", dest="urls")
    parser.add_argument("--project", default="prj_benchmark")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--dump", type=Path, help="write each report's JSON here (to diff)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--write-docs", action="store_true", help=f"write the figures into {DOCS.name}"
    )
    args = parser.parse_args(argv)
    urls = args.urls or ["sqlite:////tmp/bantico-bench.db"]

    results: dict[str, dict[tuple[str, str], Timing]] = {}
    http: list[str] = []
    notes: list[str] = []
    names: list[str] = []
    for url in urls:
        bench = Bench(url, args.project, args.runs)
        db = bench.label()
        chosen = [
            c
            for c in cases(bench.link_id, bench.campaign_id)
            if not args.only or args.only in c.name
        ]
        names = [c.name for c in chosen]
        results[db] = {}
        before = load()
        print(f"\n{db} ({url}); now = {bench.now.isoformat()}; load {before}", flush=True)
        for case in chosen:
            for span in RANGES:
                timing, body = bench.in_process(case, span)
                results[db][(case.name, span)] = timing
                over = "   OVER 1 s" if timing.wall > TARGET_SECONDS else ""
                print(
                    f"  {case.name:<48} {span:>8} {timing.wall * 1000:9.1f} ms"
                    f"  (cpu {timing.cpu * 1000:7.1f} ms){over}",
                    flush=True,
                )
                if args.dump:
                    folder = args.dump / bench.engine.dialect.name
                    folder.mkdir(parents=True, exist_ok=True)
                    slug = re.sub(r"[^a-z0-9]+", "-", f"{case.name} {span}".lower())
                    (folder / f"{slug}.json").write_text(body)
        if not args.no_http and chosen:
            for case, span, request, alone in bench.http(chosen):
                extra = (request.wall - alone.wall) * 1000
                http.append(
                    f"| {db} | {case.name} | {span} | {request.wall * 1000:,.0f} "
                    f"| {alone.wall * 1000:,.0f} | {extra:+,.0f} |"
                )
                print(
                    f"  HTTP {case.name:<43} {span:>8} {request.wall * 1000:9.1f} ms"
                    f"  (in-process {alone.wall * 1000:.1f} ms)"
                )
        sizes = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in bench.sizes.items())
        notes.append(
            f"{db}: {sizes}; busiest link `{bench.link_id}`, busiest campaign "
            f"`{bench.campaign_id}`; load average {before} before, {load()} after."
        )
        bench.engine.dispose()

    figures = table(results, names)
    print("\n" + figures)
    if args.write_docs:
        http_table = "\n".join(
            [
                "| database | report | range | HTTP ms | in-process ms | difference ms |",
                "|---|---|---|---:|---:|---:|",
                *http,
            ]
        )
        write_docs(
            "\n\n".join(
                [
                    wrap(f"Measured by `benchmarks/bench_reports.py` on {machine()}."),
                    "\n".join(wrap(note, "- ", "  ") for note in notes),
                    wrap(
                        f"Median wall-clock milliseconds of {args.runs} runs after a warm-up, "
                        "in-process (the report function, `present.*`, JSON encoding; one "
                        "session per call); for SQLite, the process's CPU time in brackets. "
                        '**Bold**: over the 1 s target. "30 days" is the default range; '
                        '"1 year" is all the data.'
                    ),
                    figures,
                    wrap(
                        "The first report of each type again, through the whole app "
                        "(`fastapi.testclient`: authentication, validation, JSON response), "
                        f"each request alternating with an in-process call; medians of "
                        f"{args.runs}:"
                    ),
                    http_table,
                ]
            )
        )
        print(f"\nwritten to {DOCS}")


if __name__ == "__main__":
    main()
