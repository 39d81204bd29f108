"""Benchmark the validators on a package scaled to many events (not a test).

One run generates the scaled packages, then times in separate subprocesses (so each
peak RSS is its own): (a) reading every CSV with plain Polars, (b) the Polars engine
(and (b+) the same with the one-time import of Pandera in the clock), (c) the
frictionless engine on a smaller package, and (d) whole processes timed from start to
exit: ``relations-data validate --engine polars`` against a process that imports Polars
and reads every CSV; it prints times, ratios and peak memory, and checks that both
engines find the defects injected into the packages.

    python benchmarks/validate.py                      # 1,000,000 events, frictionless at 250,000
    python benchmarks/validate.py --events 200000 --frictionless-events 50000

(a), (b) and (b+) run ``--repeat`` times, alternating, and the median of the run-by-run
ratios is shown: on a shared machine one run of either can be 15 % off. Each clock
starts once its libraries are imported: Polars for (a); Polars, this package's
validation modules and Pandera for (b). (b+) starts right after ``import polars``, so it
also pays Pandera's import (NumPy, pydantic, Hypothesis when installed), which a process
pays once whatever the data's size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def inject_defects(root: Path) -> set[tuple[str, int, str]]:
    """Break a few cells in place (keeping row order); return their (table, line, column)."""
    import polars as pl

    from relations_data.package import open_package

    package = open_package(root)
    expected: set[tuple[str, int, str]] = set()
    events = package.resource("events")
    frame = pl.read_csv(events.path, infer_schema=False)
    date_field = next(f.name for f in events.schema.fields if f.type == "date")
    enum_field = next(
        f.name for f in events.schema.fields if f.enum and not f.name.endswith("precision")
    )
    for index, column, value in ((10, date_field, "2020-02-31"), (20, enum_field, "not-a-kind")):
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == index)
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )
        expected.add(("events", index + 2, column))
    frame.write_csv(events.path, line_terminator="\n")
    links = next(r for r in package.resources if len(r.schema.foreign_keys) >= 2)
    frame = pl.read_csv(links.path, infer_schema=False)
    fk = links.schema.foreign_keys[0]
    column = fk.fields[0]
    value = frame[column][5]
    # Keep the sort order: the broken key sorts right after the one it replaces.
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.lit(value + "-gone"))
        .otherwise(pl.col(column))
        .alias(column)
    )
    frame.write_csv(links.path, line_terminator="\n")
    expected.add((links.name, 7, column))
    return expected


def _import_engine() -> None:
    """Import what the Polars engine imports on its way, Pandera included (with the
    registrations of its first validation), as (a) has imported Polars."""
    import pandera.polars as pa
    import polars as pl

    import relations_data.validation.pandera_checks
    import relations_data.validation.semantic  # noqa: F401

    pa.DataFrameSchema({}).validate(pl.DataFrame())


def measure(kind: str, root: Path, events: int) -> dict[str, object]:
    """Run one measurement in this process; return seconds, peak RSS and findings."""
    import polars as pl

    if kind == "polars-warm":
        _import_engine()
    start = time.perf_counter()
    findings: list[tuple[str, int | None, str | None]] = []
    if kind == "generate":
        from benchmarks._scale import build_package

        build_package(root, events)
        expected = inject_defects(root)
        return {
            "kind": kind,
            "seconds": time.perf_counter() - start,
            "peak_bytes": 0,
            "rows": 0,
            "findings": sorted(expected),
        }
    if kind == "read":
        from relations_data.package import open_package

        package = open_package(root)
        # All tables held at once, as the validator must hold them (foreign keys).
        frames = {r.name: pl.read_csv(r.path) for r in package.resources}
        rows = sum(frame.height for frame in frames.values())
    else:
        from relations_data.validation import validate
        from relations_data.validation.typed import STRUCTURAL_RULES

        report = validate(root, engines=(kind.removesuffix("-warm"),))
        rows = sum(t.rows for t in report.tables)
        findings = [f.location for f in report.findings if f.rule in STRUCTURAL_RULES]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "kind": kind,
        "seconds": seconds,
        "peak_bytes": peak,
        "rows": rows,
        "findings": findings,
    }


def _median(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run with the median time, its peak memory replaced by the median peak."""
    ordered = sorted(runs, key=lambda run: float(run["seconds"]))  # type: ignore[arg-type]
    middle = dict(ordered[len(ordered) // 2])
    peaks = [int(run["peak_bytes"]) for run in runs]  # type: ignore[call-overload]
    middle["peak_bytes"] = statistics.median(peaks)
    return middle


def _ratio(run: dict[str, object], baseline: dict[str, object]) -> float:
    return float(run["seconds"]) / float(baseline["seconds"])  # type: ignore[arg-type]


def _paired_ratio(runs: list[dict[str, object]], baselines: list[dict[str, object]]) -> float:
    """Median of the ratios of runs taken one after the other: a slow spell of the
    machine then weighs on both sides of each ratio."""
    return statistics.median(_ratio(r, b) for r, b in zip(runs, baselines, strict=True))


def run_child(kind: str, root: Path, *extra: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--root", str(root), *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    data: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


#: A whole process reading every CSV of a package with plain Polars: the interpreter's
#: start and ``import polars`` included, as in the CLI's own process.
_PLAIN_READ = """
import json, sys
from pathlib import Path
import polars as pl
root = Path(sys.argv[1])
resources = json.loads((root / "datapackage.json").read_text("utf-8"))["resources"]
frames = {r["name"]: pl.read_csv(root / r["path"]) for r in resources}
"""


def whole_process(kind: str, root: Path) -> float:
    """Seconds from starting a new process to its exit: the CLI (``relations-data
    validate --engine polars``, exit 1 on the defects) or the plain read."""
    if kind == "cli":
        command = [sys.executable, "-m", "relations_data", "validate", "--engine", "polars"]
        command += [str(root), "--format", "json"]
    else:
        command = [sys.executable, "-c", _PLAIN_READ, str(root)]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--frictionless-events", type=int, default=250_000)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the packages here")
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternating runs of (a), (b) and (b+)"
    )
    parser.add_argument(
        "--measure",
        choices=["generate", "read", "polars", "polars-warm", "frictionless"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.root, args.events)))
        return 0
    with tempfile.TemporaryDirectory(prefix="relations-bench-") as tmp:
        work = args.workdir or Path(tmp)
        big, small = work / f"events-{args.events}", work / f"events-{args.frictionless_events}"
        started = time.perf_counter()
        # Generated in children too, so this process stays small and each child's peak
        # RSS (which survives fork and exec) is its own.
        generated = run_child("generate", big, "--events", str(args.events))
        expected_big = {tuple(f) for f in generated["findings"]}  # type: ignore[union-attr]
        generated = run_child("generate", small, "--events", str(args.frictionless_events))
        expected_small = {tuple(f) for f in generated["findings"]}  # type: ignore[union-attr]
        print(f"generated packages in {time.perf_counter() - started:.1f} s")
        reads, engines, colds = [], [], []
        plain_processes, cli_processes = [], []
        for _ in range(max(1, args.repeat)):
            reads.append(run_child("read", big))
            engines.append(run_child("polars-warm", big))
            colds.append(run_child("polars", big))
            plain_processes.append(whole_process("read", big))
            cli_processes.append(whole_process("cli", big))
        read, polars_big, polars_cold = _median(reads), _median(engines), _median(colds)
        read_small = run_child("read", small)
        polars_small = run_child("polars", small)
        frictionless_small = run_child("frictionless", small)
    mib = 1024 * 1024
    for label, data in (
        (f"(a) plain Polars read, {args.events:,} events", read),
        (f"(b) polars engine, {args.events:,} events", polars_big),
        (f"(b+) (b) with Pandera's import, {args.events:,} events", polars_cold),
        (f"(a') plain Polars read, {args.frictionless_events:,} events", read_small),
        (f"(b') polars engine, {args.frictionless_events:,} events", polars_small),
        (f"(c) frictionless engine, {args.frictionless_events:,} events", frictionless_small),
    ):
        print(
            f"{label:<50} {data['seconds']:>8.2f} s  peak {int(data['peak_bytes']) / mib:>7.0f} MiB"
            f"  rows {data['rows']:,}"
        )
    if len(reads) > 1:
        print(f"{len(reads)} alternating runs of (a), (b), (b+): times are medians; ratios are")
        print("medians of the run-by-run ratios:")
        for label, runs in (("(b)/(a) ", engines), ("(b+)/(a)", colds)):
            shown = ", ".join(f"{_ratio(e, r):.2f}" for r, e in zip(reads, runs, strict=True))
            print(f"  {label} run by run: {shown}")
    whole = [cli / plain for plain, cli in zip(plain_processes, cli_processes, strict=True)]
    print(
        f"(d) whole process, plain read {statistics.median(plain_processes):.2f} s, "
        f"`relations-data validate --engine polars` {statistics.median(cli_processes):.2f} s"
    )
    print(f"  (d) run by run: {', '.join(f'{r:.2f}' for r in whole)}")
    memory_ratio = max(int(d["peak_bytes"]) for d in (polars_big, polars_cold)) / int(
        read["peak_bytes"]
    )
    speedup = float(frictionless_small["seconds"]) / float(polars_small["seconds"])
    print(
        f"(b)/(a) time   {_paired_ratio(engines, reads):5.2f}x  (target <= 2.5x; each clock starts "
        "with its libraries imported)"
    )
    print(f"(b+)/(a) time  {_paired_ratio(colds, reads):5.2f}x  (and Pandera's import, once a run)")
    print(
        f"(d) time       {statistics.median(whole):5.2f}x  (target <= 2.5x; whole processes: "
        "interpreter, imports, reading, report)"
    )
    print(f"(b)/(a) memory {memory_ratio:5.2f}x  (target <= 2x)")
    print(f"(c)/(b') time  {speedup:5.1f}x  (target >= 15x; same package)")
    found = [{tuple(f) for f in run["findings"]} for run in (polars_big, polars_cold)]  # type: ignore[union-attr]
    found_polars = {tuple(f) for f in polars_small["findings"]}  # type: ignore[union-attr]
    found_fl = {tuple(f) for f in frictionless_small["findings"]}  # type: ignore[union-attr]
    agree = (
        found_polars == found_fl
        and expected_small <= found_fl
        and all(expected_big <= f for f in found)
    )
    print(f"injected defects found by both engines: {'yes' if agree else 'NO'}")
    if not agree:
        print(f"  expected {sorted(expected_small)}")
        print(f"  polars only {sorted(found_polars - found_fl)}")
        print(f"  frictionless only {sorted(found_fl - found_polars)}")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
