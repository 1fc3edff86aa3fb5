"""``python -m bench`` (``make bench``): measure, print the table, write the JSON.

Order: cold starts (new interpreters), the AWS cost of a lifecycle (an in-process platform), then
the local platform as ``make local`` runs it, driven over HTTP: the bare engine and the platform's
lifecycle measured alternately, the same lifecycle among 1,000 and 10,000 running workflows,
8 clients against 1; last, a year skipped on a second platform holding 1,000 running workflows.

``BENCH_POPULATION`` (default 10000) and ``BENCH_RUNS`` (lifecycles per measurement, default 20)
make a quicker run for trying the benchmark itself; the targets are read at the defaults.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import aws_cost, batch, cold_start, concurrency, population, time_skip
from bench.http_client import ApiClient
from bench.lifecycle import LifecycleRun, active_project, run_lifecycle
from functions.domain.batches import MAX_RATE_PER_SECOND
from infra.local.launcher import ROOT, start_local_platform

OUT_DIR = ROOT / ".local" / "bench"
TARGETS = {
    "b_ratio_to_bare_engine": 3.0,
    "c_ratio_10000_to_0": 1.3,
    "c_slowest_request_seconds": 2.0,
    "d_throughput_ratio": 1.0,
    "e_api_cold_start_ratio": 1.3,
    "f_transitions_per_signal": 3,
    "f_write_transactions_per_signal": 2,
    "g_year_skip_seconds": 30.0,
    "h_batch_ratio_to_loop": 0.7,
}
# (h): a batch over this many drafts, between two halves of a client's loop over LOOP_WORKFLOWS (the baseline).
# A batch does more for each workflow than the loop's one request (a claim before, its outcome after: each acted
# on and counted once, whatever fails): that bookkeeping may cost at most 30 % of the loop's pace.
BATCH_WORKFLOWS = 1000
LOOP_WORKFLOWS = 200


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bare_engine(waits: int, runs: int) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, "-m", "bench.bare_engine", str(waits), str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def lifecycles(client: ApiClient, label: str, runs: int) -> list[LifecycleRun]:
    for warm in range(2):
        run_lifecycle(client, f"{label}-warm-{warm}")
    return [run_lifecycle(client, f"{label}-{number}") for number in range(runs)]


def summary(outcomes: list[LifecycleRun]) -> dict[str, Any]:
    requests = [seconds for outcome in outcomes for seconds in outcome.request_seconds]
    return {
        "median_seconds": statistics.median(outcome.seconds for outcome in outcomes),
        "request_median_seconds": statistics.median(requests),
        "slowest_request_seconds": max(requests),
        "not_2xx": sum(1 for outcome in outcomes for status in outcome.statuses if not 200 <= status < 300),
    }


def engine_threads(client: ApiClient) -> int:
    return int(client.call("GET", "/local/clock", identity=None).body["engineThreads"])


def main() -> int:
    size = int(os.environ.get("BENCH_POPULATION", "10000"))
    runs = int(os.environ.get("BENCH_RUNS", "20"))
    levels = [0, min(1000, size), size] if size > 1000 else [0, size]
    work = Path(tempfile.mkdtemp(prefix="accu-bench-"))
    results: dict[str, Any] = {"date": datetime.now(tz=UTC).isoformat(), "population": size, "runs": runs}
    began = time.perf_counter()

    say("(e) cold starts")
    starts = cold_start.measure()
    results["e_cold_start"] = [{**start.__dict__, "ratio": start.ratio} for start in starts]

    say("(f) the AWS cost of one lifecycle")
    cost = aws_cost.measure()
    results["f_cost"] = aws_cost.as_json(cost)
    # The waits the lifecycle completes: one per signal that moved its execution on.
    waits = sum(1 for count in cost.transitions_per_signal if count)

    say("starting the local platform")
    platform = start_local_platform(work / "platform")
    try:
        client = ApiClient(platform.api_url)
        active_project(client)
        say(f"(a) and (b): the bare engine ({waits} waits) and the platform's lifecycle, alternately")
        bare_runs: list[float] = []
        first: list[LifecycleRun] = []
        for round_number in range(2):  # alternately, so that the machine's drift hits both alike
            bare_runs += bare_engine(waits, runs // 2)["seconds"]
            first += lifecycles(client, f"b{round_number}", runs // 2)
        results["a_bare_engine"] = {"waits": waits, "median_seconds": statistics.median(bare_runs)}
        results["b_platform"] = {"median_seconds": summary(first)["median_seconds"]}
        results["b_ratio_to_bare_engine"] = results["b_platform"]["median_seconds"] / statistics.median(bare_runs)

        say("(c) the lifecycle among running workflows")
        footprint = population.ProcessFootprint.of(platform.process.pid)
        by_level: dict[str, Any] = {
            "0": {
                **summary(first),
                "resident_mib": footprint.resident_mib,
                "os_threads": footprint.os_threads,
                "engine_threads": engine_threads(client),
            }
        }
        seeded = 0
        for level in levels[1:]:
            started = time.perf_counter()
            population.seed(platform.api_url, seeded, level - seeded)
            say(f"    {level} running workflows stored in {time.perf_counter() - started:.0f} s")
            seeded = level
            time.sleep(2)  # let the engine and the event delivery settle
            measured = summary(lifecycles(client, f"c{level}", runs))
            footprint = population.ProcessFootprint.of(platform.process.pid)
            by_level[str(level)] = {
                **measured,
                "resident_mib": footprint.resident_mib,
                "os_threads": footprint.os_threads,
                "engine_threads": engine_threads(client),
            }
        results["c_levels"] = by_level
        results["c_ratio_10000_to_0"] = by_level[str(levels[-1])]["median_seconds"] / by_level["0"]["median_seconds"]
        results["c_slowest_request_seconds"] = max(level["slowest_request_seconds"] for level in by_level.values())

        say(f"(d) 1 client, then 8 clients, among {seeded} running workflows")
        alone_projects = concurrency.projects_for(platform.api_url, "d1", 1)
        together_projects = concurrency.projects_for(platform.api_url, "d8", 8)
        alone = concurrency.drive(platform.api_url, alone_projects, max(8, runs), "d1")
        together = concurrency.drive(platform.api_url, together_projects, max(2, runs // 2), "d8")
        results["d_concurrency"] = {
            "one_client_requests_per_second": alone.requests_per_second,
            "eight_clients_requests_per_second": together.requests_per_second,
            "p50_seconds": together.median,
            "p99_seconds": together.percentile(0.99),
            "one_client_p50_seconds": alone.median,
            "not_2xx": alone.not_2xx + together.not_2xx,
            "refusals": alone.refusals + together.refusals,
            "lost_or_duplicated": concurrency.lost_or_duplicated(
                platform.api_url, alone.workflow_ids + together.workflow_ids
            ),
        }
        results["d_throughput_ratio"] = together.requests_per_second / alone.requests_per_second
    finally:
        platform.stop()

    year_population = min(1000, size)
    say(f"(g) a year skipped with {year_population} running workflows")
    platform = start_local_platform(work / "year")
    try:
        active_project(ApiClient(platform.api_url))  # the applicant's project the applications are for
        population.seed(platform.api_url, 0, year_population)
        time.sleep(2)
        skipped = time_skip.skip(platform.api_url, year_population)
        results["g_year_skip"] = {**skipped.__dict__, "complete": skipped.complete}
    finally:
        platform.stop()

    say(f"(h) {BATCH_WORKFLOWS} drafts terminated by a batch, between two client loops of {LOOP_WORKFLOWS // 2}")
    platform = start_local_platform(work / "batch")
    try:
        active_project(ApiClient(platform.api_url))
        half = LOOP_WORKFLOWS // 2
        population.seed(platform.api_url, 0, half + BATCH_WORKFLOWS, submitted_every=None)
        # The loop before and after the batch, so that the machine's drift hits both alike.
        loop_seconds = batch.terminate_one_by_one(platform.api_url, [f"seed-{number}" for number in range(half)])
        counted, dry_seconds, done, seconds = batch.terminate_in_a_batch(platform.api_url, MAX_RATE_PER_SECOND)
        first_after = half + BATCH_WORKFLOWS
        population.seed(platform.api_url, first_after, half, submitted_every=None)
        loop_seconds += batch.terminate_one_by_one(
            platform.api_url, [f"seed-{number}" for number in range(first_after, first_after + half)]
        )
        run = batch.BatchRun(
            workflows=BATCH_WORKFLOWS,
            rate_per_second=MAX_RATE_PER_SECOND,
            loop_workflows=2 * half,
            loop_seconds=loop_seconds,
            dry_run_seconds=dry_seconds,
            dry_run_matched=counted["matched"],
            seconds=seconds,
            matched=done["matched"],
            applied=done["applied"],
            skipped=done["skipped"],
            failed=done["failed"],
        )
        results["h_batch"] = {
            **run.__dict__,
            "achieved_per_second": run.achieved_per_second,
            "loop_per_second": run.loop_per_second,
            "ratio_to_loop": run.ratio_to_loop,
            "exact": run.exact,
        }
    finally:
        platform.stop()

    results["e_api_cold_start_ratio"] = next(start.ratio for start in starts if start.function == "Api")
    results["f_transitions_per_signal"] = max(cost.transitions_per_signal)
    results["f_write_transactions_per_signal"] = max(cost.write_transactions_per_signal)
    results["g_year_skip_seconds"] = results["g_year_skip"]["seconds"]
    results["h_batch_ratio_to_loop"] = results["h_batch"]["ratio_to_loop"]
    results["bench_seconds"] = time.perf_counter() - began
    results["targets"] = TARGETS
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (OUT_DIR / name).write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\nThe same figures: {OUT_DIR / 'latest.json'} (and bench-{stamp}.json)")
    return 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(results: dict[str, Any]) -> str:
    """The benchmark's figures, each beside its target."""
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, measured: str, target: str = "", met: bool | None = None) -> None:
        rows.append((name, measured, target, "" if met is None else ("yes" if met else "NO")))

    a, b = results["a_bare_engine"], results["b_platform"]
    row(f"(a) bare engine: {a['waits']} task-token waits", _ms(a["median_seconds"]))
    row("(b) platform: accu-application start + 5 signals, HTTP", _ms(b["median_seconds"]))
    ratio = results["b_ratio_to_bare_engine"]
    row("(b) / (a)", f"{ratio:.2f}x", "<= 3x", ratio <= TARGETS["b_ratio_to_bare_engine"])
    for level, figures in results["c_levels"].items():
        row(
            f"(c) lifecycle with {int(level):,} running workflows",
            f"{_ms(figures['median_seconds'])} (slowest request {_ms(figures['slowest_request_seconds'])})",
        )
        row(
            f"    memory, OS threads, engine threads at {int(level):,}",
            f"{figures['resident_mib']:,.0f} MiB, {figures['os_threads']}, {figures['engine_threads']:,}",
        )
    ratio = results["c_ratio_10000_to_0"]
    last = list(results["c_levels"])[-1]
    row(f"(c) {int(last):,} / 0", f"{ratio:.2f}x", "<= 1.3x", ratio <= TARGETS["c_ratio_10000_to_0"])
    slowest = results["c_slowest_request_seconds"]
    row("(c) slowest request", _ms(slowest), "<= 2 s", slowest <= TARGETS["c_slowest_request_seconds"])
    d = results["d_concurrency"]
    row("(d) 1 client", f"{d['one_client_requests_per_second']:.1f} req/s, p50 {_ms(d['one_client_p50_seconds'])}")
    row(
        "(d) 8 clients",
        f"{d['eight_clients_requests_per_second']:.1f} req/s, p50 {_ms(d['p50_seconds'])}, p99 {_ms(d['p99_seconds'])}",
    )
    ratio = results["d_throughput_ratio"]
    row("(d) 8 clients / 1 client, throughput", f"{ratio:.2f}x", ">= 1x", ratio >= TARGETS["d_throughput_ratio"])
    row("(d) answers not 2xx", str(d["not_2xx"]), "0", d["not_2xx"] == 0)
    row(
        "(d) lifecycles with a lost or doubled transition",
        str(d["lost_or_duplicated"]),
        "0",
        d["lost_or_duplicated"] == 0,
    )
    for start in results["e_cold_start"]:
        is_api = start["function"] == "Api"
        row(
            f"(e) cold start {start['function']}: import vs its libraries alone",
            f"{start['handler_seconds']:.2f} s vs {start['baseline_seconds']:.2f} s = {start['ratio']:.2f}x",
            "<= 1.3x" if is_api else "",
            start["ratio"] <= TARGETS["e_api_cold_start_ratio"] if is_api else None,
        )
    f = results["f_cost"]
    prices = f["pricesUsd"]
    row(
        "(f) state transitions (per signal, most)",
        f"{f['state_transitions']} ({max(f['transitions_per_signal'])})",
        "<= 3 per signal",
        max(f["transitions_per_signal"]) <= TARGETS["f_transitions_per_signal"],
    )
    row(
        "(f) DynamoDB write transactions (per signal, most)",
        f"{f['write_transactions']} ({max(f['write_transactions_per_signal'])})",
        "<= 2 per signal",
        max(f["write_transactions_per_signal"]) <= TARGETS["f_write_transactions_per_signal"],
    )
    row(
        "(f) Lambda invocations",
        ", ".join(f"{name} {count}" for name, count in sorted(f["lambda_invocations"].items())),
    )
    row("(f) DynamoDB request units", f"{f['read_units']:g} read, {f['write_units']:g} write")
    row("(f) API requests, events, SNS messages", f"{f['api_requests']}, {f['events_published']}, {f['sns_messages']}")
    row(
        "(f) one lifecycle in AWS, list prices",
        f"${prices['AWS total']:.6f} ("
        + ", ".join(
            f"{name} ${value:.6f}" for name, value in prices.items() if name not in ("AWS total", "Temporal Cloud")
        )
        + ")",
    )
    row(
        "(f) the same on Temporal Cloud",
        f"${prices['Temporal Cloud']:.6f} ({sum(f['temporalActions'].values())} Actions)",
    )
    g = results["g_year_skip"]
    row(
        f"(g) 365 days skipped, {g['workflows']:,} running workflows",
        f"{g['seconds']:.1f} s",
        "<= 30 s",
        g["seconds"] <= TARGETS["g_year_skip_seconds"],
    )
    row(
        "(g) everything due took effect",
        f"reports missing {g['reports_missing']}, escalations {g['escalations_found']}/{g['escalations_expected']}, "
        f"recovery runs {g['recovery_runs']}/{g['hours']}",
        "all",
        g["complete"],
    )
    h = results["h_batch"]
    row(
        f"(h) a client's loop: {h['loop_workflows']:,} drafts terminated, one request each (before and after)",
        f"{h['loop_seconds']:.1f} s ({h['loop_per_second']:.1f}/s)",
    )
    row(
        f"(h) a batch: {h['workflows']:,} drafts terminated (rate asked {h['rate_per_second']}/s)",
        f"{h['seconds']:.1f} s ({h['achieved_per_second']:.1f}/s); its dry run {h['dry_run_seconds']:.1f} s",
    )
    row(
        "(h) batch / loop, workflows per second",
        f"{h['ratio_to_loop']:.2f}x",
        ">= 0.7x",
        h["ratio_to_loop"] >= TARGETS["h_batch_ratio_to_loop"],
    )
    row(
        "(h) every draft counted and terminated once",
        f"dry run {h['dry_run_matched']}, matched {h['matched']}, applied {h['applied']}, skipped {h['skipped']}, "
        f"failed {h['failed']}",
        "all, exactly",
        h["exact"],
    )
    row("bench duration", f"{results['bench_seconds'] / 60:.1f} min", "< 15 min", results["bench_seconds"] < 900)
    widths = [
        max(len(cells[column]) for cells in [*rows, ("measure", "measured", "target", "met")]) for column in range(4)
    ]
    lines = [
        " | ".join(
            text.ljust(width) for text, width in zip(("measure", "measured", "target", "met"), widths, strict=True)
        )
    ]
    lines.append("-+-".join("-" * width for width in widths))
    lines += [" | ".join(text.ljust(width) for text, width in zip(cells, widths, strict=True)) for cells in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
