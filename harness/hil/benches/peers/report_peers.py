#!/usr/bin/env python3
"""The failure report's aggregates computed by general-purpose engines, as peers for `hil report`.

    report_peers.py [--engine polars|duckdb|pandas] RUN_DIR [RUN_DIR ...]

Reads cycles.csv and steps.csv of every run folder (several are merged, as `hil report` merges them) and
computes what the report counts: per board, per phase and per (board, phase) cycles and failures over final
attempts; failures by failed_step and by error_kind; counts by hse_verdict, by temperature (rounded to 1 °C),
by PLLM and by USB clock error bin; and the steps.csv rows of the 50 earliest failing cycles, ordered like
hil's drill-down (run, time_s, board, cycle, attempt).

With --engine the one engine runs in this process; without it every installed engine runs in a process of
its own, so each peak RSS is that engine's alone. Each engine prints

    check <name> <cycles> <failures> <drilldown step rows>
    peer <name> <wall_s> <peak_rss_kib>

wall_s counts from interpreter start-up to the end (imports and CSV parsing included, as a user waits for
them); peak_rss_kib is this process's ru_maxrss.
"""

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

ENGINES = ("polars", "duckdb", "pandas")
USB_EDGES = [-30_000, -10_000, -2_500, 2_500, 10_000, 30_000]
DRILLDOWN = 50
KEYS = ["run", "board", "phase", "cycle", "attempt"]
ORDER = ["run", "time_s", "board", "cycle", "attempt"]
# Declared rather than inferred: a long soak's first rows often leave failed_step or the clock columns
# empty, and an engine's guess from them would make the column null-typed.
CYCLE_TYPES = {
    "time_s": "float",
    "board": "str",
    "phase": "str",
    "cycle": "int",
    "attempt": "int",
    "final_attempt": "bool",
    "temperature_c": "float",
    "outcome": "str",
    "failed_step": "str",
    "error_kind": "str",
    "pllm": "int",
    "hse_verdict": "str",
    "usb_clock_error_ppm": "float",
}
STEP_TYPES = {
    "board": "str",
    "phase": "str",
    "cycle": "int",
    "attempt": "int",
    "step": "str",
    "outcome": "str",
    "error_kind": "str",
    "error_class": "str",
    "detail": "str",
}


def files(dirs, name):
    return [os.path.join(os.path.abspath(d), name) for d in dirs]


def run_polars(dirs):
    import polars as pl

    kinds = {"float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "str": pl.String}

    run_of = pl.LazyFrame({"dir": [os.path.abspath(d) for d in dirs], "run": range(len(dirs))})

    def scan(name, types):
        # One scan over every folder's file rather than a concat of one scan per folder (hundreds of
        # scans hung the engine); undeclared columns stay strings, as they can infer differently per file.
        schema = {k: kinds[v] for k, v in types.items()}
        frame = pl.scan_csv(
            files(dirs, name), infer_schema=False, schema_overrides=schema, include_file_paths="path"
        )
        frame = frame.select([*types, pl.col("path").str.strip_suffix("/" + name).alias("dir")])
        return frame.join(run_of, on="dir").drop("dir")

    cycles = scan("cycles.csv", CYCLE_TYPES)
    steps = scan("steps.csv", STEP_TYPES)
    usb_bin = pl.lit(None, dtype=pl.Int64)
    for edge in USB_EDGES:
        usb_bin = pl.when(pl.col("usb_clock_error_ppm") >= edge).then(edge).otherwise(usb_bin)
    final = (
        cycles.filter(pl.col("final_attempt"))
        .with_columns(
            failed=pl.col("outcome") != "pass",
            temperature=pl.col("temperature_c").round(0),
            usb_bin=usb_bin,
        )
        .cache()
    )
    counts = [pl.len().alias("cycles"), pl.col("failed").sum().alias("failures")]
    failing = final.filter(pl.col("failed"))
    first = failing.sort(ORDER).head(DRILLDOWN).select(KEYS)
    queries = [
        final.select(counts),
        final.group_by("board").agg(counts),
        final.group_by("phase").agg(counts),
        final.group_by("board", "phase").agg(counts),
        failing.group_by("failed_step").len(),
        failing.group_by("error_kind").len(),
        final.group_by("hse_verdict").agg(counts),
        final.group_by("temperature").agg(counts),
        final.group_by("pllm").agg(counts),
        final.group_by("usb_bin").agg(counts),
        steps.join(first, on=KEYS, how="semi"),
    ]
    results = pl.collect_all(queries)
    total, drill = results[0], results[-1]
    return total["cycles"][0], total["failures"][0], drill.height


def run_duckdb(dirs):
    import duckdb

    kinds = {"float": "DOUBLE", "int": "BIGINT", "bool": "BOOLEAN", "str": "VARCHAR"}
    con = duckdb.connect()
    runs = [os.path.abspath(d) for d in dirs]
    con.execute(
        "CREATE TEMP TABLE runs AS SELECT unnest($r) AS dir, generate_subscripts($r, 1) - 1 AS run",
        {"r": runs},
    )

    def read(name, types):
        declared = ", ".join(f"'{k}': '{kinds[v]}'" for k, v in types.items())
        return (
            f"SELECT r.run, t.* FROM read_csv($files, header = true, filename = true, "
            f"types = {{{declared}}}) t JOIN runs r ON t.filename = r.dir || '/{name}'"
        )

    bins = " ".join(f"WHEN usb_clock_error_ppm >= {e} THEN {e}" for e in reversed(USB_EDGES))
    con.execute(
        f"""CREATE TEMP TABLE final AS
            SELECT run, time_s, board, phase, cycle, attempt, failed_step, error_kind, hse_verdict, pllm,
                   outcome <> 'pass' AS failed, round(temperature_c) AS temperature,
                   CASE {bins} END AS usb_bin
            FROM ({read("cycles.csv", CYCLE_TYPES)}) WHERE final_attempt""",
        {"files": files(dirs, "cycles.csv")},
    )
    counts = "count(*) AS cycles, count(*) FILTER (failed) AS failures"
    for by in ["board", "phase", "board, phase", "hse_verdict", "temperature", "pllm", "usb_bin"]:
        con.execute(f"SELECT {by}, {counts} FROM final GROUP BY {by}").fetchall()
    for by in ["failed_step", "error_kind"]:
        con.execute(f"SELECT {by}, count(*) FROM final WHERE failed GROUP BY {by}").fetchall()
    total = con.execute(f"SELECT {counts} FROM final").fetchone()
    keys = ", ".join(KEYS)
    drill = con.execute(
        f"""WITH first AS (SELECT {keys} FROM final WHERE failed
                           ORDER BY {", ".join(ORDER)} LIMIT {DRILLDOWN})
            SELECT s.* FROM ({read("steps.csv", STEP_TYPES)}) s SEMI JOIN first USING ({keys})""",
        {"files": files(dirs, "steps.csv")},
    ).fetchall()
    return total[0], total[1], len(drill)


def run_pandas(dirs):
    import pandas as pd

    kinds = {"float": "float64", "int": "Int64", "bool": "boolean", "str": "string"}
    cycle_types = {k: kinds[v] for k, v in CYCLE_TYPES.items()}
    step_types = {k: kinds[v] for k, v in STEP_TYPES.items()}
    frames = []
    for i, path in enumerate(files(dirs, "cycles.csv")):
        frame = pd.read_csv(path, usecols=list(cycle_types), dtype=cycle_types)
        frames.append(frame[frame["final_attempt"].fillna(False)].assign(run=i))
    final = pd.concat(frames, ignore_index=True)
    final["failed"] = final["outcome"] != "pass"
    final["temperature"] = final["temperature_c"].round(0)
    final["usb_bin"] = pd.cut(
        final["usb_clock_error_ppm"], USB_EDGES + [float("inf")], right=False, labels=USB_EDGES
    )
    for by in ["board", "phase", ["board", "phase"], "hse_verdict", "temperature", "pllm", "usb_bin"]:
        final.groupby(by, dropna=False, observed=True)["failed"].agg(["size", "sum"])
    failing = final[final["failed"]]
    for by in ["failed_step", "error_kind"]:
        failing.groupby(by, dropna=False).size()
    first = failing.sort_values(ORDER).head(DRILLDOWN)[KEYS]
    drill = []
    # steps.csv is the larger file: streamed in chunks and filtered against the 50 keys, as one would
    # with pandas, instead of held whole (its object columns would take several GB at a million cycles).
    for i, path in enumerate(files(dirs, "steps.csv")):
        wanted = first[first["run"] == i]
        if wanted.empty:
            continue
        for chunk in pd.read_csv(path, dtype=step_types, chunksize=1_000_000):
            drill.append(chunk.assign(run=i).merge(wanted, on=KEYS))
    rows = sum(len(d) for d in drill)
    return len(final), int(final["failed"].sum()), rows


RUNNERS = {"polars": run_polars, "duckdb": run_duckdb, "pandas": run_pandas}


def one(engine, dirs):
    cycles, failures, drill_rows = RUNNERS[engine](dirs)
    wall_s = time.perf_counter() - T0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"check {engine} {cycles} {failures} {drill_rows}")
    print(f"peer {engine} {wall_s:.3f} {peak_kib}", flush=True)


def every_installed(dirs):
    for engine in ENGINES:
        if importlib.util.find_spec(engine) is None:
            print(f"peer {engine} not installed")
            continue
        subprocess.run([sys.executable, __file__, "--engine", engine, *dirs], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    args = parser.parse_args()
    if args.engine:
        one(args.engine, args.runs)
    else:
        every_installed(args.runs)


if __name__ == "__main__":
    main()
