"""Cold-start cost of the loader against plain Polars reading the same CSVs.

Each measurement is a whole new Python process, so imports count: first
``import relations_data; relations_data.load("events")`` against
``import polars as pl; pl.read_csv(<same file>, schema=<same dtypes>)``, then
``load_package()`` against reading every table with plain Polars. Both at the bundled size
and with an events table of ``--rows`` generated rows. Prints medians and ratios
(targets: <= 1.3 for one table, <= 1.5 for the package). Not a test: nothing asserts.

Run: python benchmarks/load.py [--repeat 7] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from relations_data.dtypes import polars_schema
from relations_data.package import DataPackage, open_package
from relations_data.schema import Field

TARGET_TABLE = 1.3
TARGET_PACKAGE = 1.5


def dtype_code(dtype: pl.DataType) -> str:
    """Python source for a dtype, so the plain-Polars process needs no relations_data."""
    if isinstance(dtype, pl.Enum):
        return f"pl.Enum({dtype.categories.to_list()!r})"
    return f"pl.{dtype!r}"


def read_csv_code(package: DataPackage, table: str) -> str:
    table_resource = package.resource(table)
    schema = table_resource.schema
    columns = ", ".join(
        f"{name!r}: {dtype_code(dtype)}" for name, dtype in polars_schema(schema).items()
    )
    nulls = list(schema.missing_values)
    return f"pl.read_csv({str(table_resource.path)!r}, schema={{{columns}}}, null_values={nulls!r})"


def run_once(code: str, environment: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one new process running ``code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=environment)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_medians(codes: list[str], repeat: int) -> list[tuple[float, float]]:
    """Median wall and CPU time of each code; runs alternate so load drifts hit both alike."""
    with tempfile.TemporaryDirectory(prefix="relations-data-pyc-") as pycache:
        # An installed wheel has compiled bytecode (as polars has here), so let the
        # warm-up run write it, outside the source tree, whatever the shell says.
        environment = {**os.environ, "PYTHONPYCACHEPREFIX": pycache}
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        for code in codes:
            run_once(code, environment)  # warm the file, page and bytecode caches
        times: list[list[tuple[float, float]]] = [[] for _ in codes]
        for _ in range(repeat):
            for position, code in enumerate(codes):
                times[position].append(run_once(code, environment))
    return [
        (statistics.median(w for w, _ in series), statistics.median(c for _, c in series))
        for series in times
    ]


def sample_column(field: Field, rows: int) -> pl.Expr:
    """Values of the field's type and vocabulary (patterns aside: the loader ignores them)."""
    index = pl.int_range(0, rows)
    if field.enum is not None:
        categories = pl.Series([str(v) for v in field.enum])
        value = pl.lit(categories).gather(index % len(categories))
    elif field.type == "date":
        value = (pl.lit(date(1990, 1, 1)) + pl.duration(days=index % 12_000)).dt.to_string()
    elif field.type in ("integer", "year"):
        value = (index % 3000).cast(pl.String)
    elif field.type == "number":
        value = (index.cast(pl.Float64) / 7).round(4).cast(pl.String)
    elif field.type == "boolean":
        value = pl.when(index % 2 == 0).then(pl.lit(field.true_values[0]))
        value = value.otherwise(pl.lit(field.false_values[0]))
    else:
        value = pl.format("{}-{}", pl.lit(field.name.replace("_", "-")), index)
    return value.alias(field.name)


def scaled_package(rows: int, folder: Path) -> Path:
    """A copy of the bundled package whose events table has ``rows`` generated rows."""
    bundled = open_package()
    shutil.copy2(bundled.descriptor_path, folder / "datapackage.json")
    for table in bundled.resources:
        for relpath in (table.relpath, table.schema_relpath):
            if relpath is not None:
                (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(bundled.root / relpath, folder / relpath)
    events = bundled.resource("events").schema
    frame = pl.select(sample_column(f, rows) for f in events.fields)
    frame.write_csv(folder / "data" / "events.csv")
    return folder


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        ram = f", {kib / 1024**2:.1f} GiB RAM"
    return (
        f"{os.cpu_count()} CPUs ({cpu}){ram}; Python {platform.python_version()}, "
        f"Polars {pl.__version__}"
    )


def compare(label: str, ours: str, plain: str, repeat: int, target: float) -> None:
    try:
        (ours_wall, ours_cpu), (plain_wall, plain_cpu) = run_medians([ours, plain], repeat)
    except subprocess.CalledProcessError:
        print(f"{label:<40} skipped: the data does not load (see the error above)", flush=True)
        return
    ratio = ours_wall / plain_wall
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{label:<40} wall: relations_data {ours_wall * 1000:5.0f} ms, polars "
        f"{plain_wall * 1000:5.0f} ms, ratio {ratio:4.2f} (target <= {target}: {verdict}); "
        f"CPU: {ours_cpu * 1000:5.0f} ms vs {plain_cpu * 1000:5.0f} ms, "
        f"ratio {ours_cpu / plain_cpu:4.2f}",
        flush=True,
    )


def bench(package: DataPackage, source: str | None, label: str, repeat: int) -> None:
    argument = "" if source is None else f"source={source!r}"
    table_arguments = ", ".join(["'events'", *([argument] if argument else [])])
    rows = pl.scan_csv(package.resource("events").path, infer_schema=False).select(pl.len())
    print(f"-- {label}: events has {rows.collect().item()} rows", flush=True)
    compare(
        "import + load('events')",
        f"import relations_data; relations_data.load({table_arguments})",
        f"import polars as pl; {read_csv_code(package, 'events')}",
        repeat,
        TARGET_TABLE,
    )
    reads = "; ".join(read_csv_code(package, name) for name in package.table_names)
    compare(
        "import + load_package() (every table)",
        f"from relations_data.loader import load_package; load_package({argument})",
        f"import polars as pl; {reads}",
        repeat,
        TARGET_PACKAGE,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="events rows when scaled")
    args = parser.parse_args()
    print(f"Machine: {machine()}; medians of {args.repeat} runs", flush=True)
    bench(open_package(), None, "bundled package", args.repeat)
    with tempfile.TemporaryDirectory(prefix="relations-data-bench-") as temporary:
        folder = scaled_package(args.rows, Path(temporary))
        bench(open_package(folder), str(folder), f"{args.rows:,} events", args.repeat)


if __name__ == "__main__":
    main()
