#!/usr/bin/env python3
"""Charts of the benchmarks for docs/performance.md, as PNG files.

Reads Google Benchmark JSON (--benchmark_out=FILE --benchmark_out_format=json)
of bench/icp_bench and bench/complexity_bench, and the JSON that
bench/http/compare.py --json writes, and draws what each input allows:

  db-size.png       icp_bench: get and list-for-user against the number of ICPs
                    in the database, per store, beside each store's floor
  body-size.png     complexity_bench: create, update and stored read against
                    the size of a body, and the cost per byte of 1 MiB bodies
  http-cpu.png      compare.py: server CPU per request, icp-server beside the
                    Node.js peer and the C floors
  http-latency.png  compare.py: p50 and p99 latency of the same servers

  python3 bench/plot.py --bench build/release/bench/icp_bench.json \\
      [build/release/bench/complexity_bench.json] --http compare.json --out docs/img

Times are medians when the run was repeated (else the mean of the runs), CPU
time except for benchmarks that asked for wall-clock time (the PostgreSQL
ones: their work is in the server). Needs matplotlib (Debian:
apt-get install --no-install-recommends python3-matplotlib).
"""
import argparse
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

try:
    import matplotlib
except ImportError:
    sys.exit("plot.py needs matplotlib (Debian: apt-get install --no-install-recommends "
             "python3-matplotlib, then run it with /usr/bin/python3)")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import FuncFormatter  # noqa: E402

# icp_bench's fixed database (kIcpCount): the size of benchmarks without an argument.
FIXED_DB_SIZE = 100_000

TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}

STORE_STYLE = {  # colour and marker of each store's line
    "memory": ("tab:green", "s"),
    "SQLite": ("tab:blue", "o"),
    "PostgreSQL": ("tab:purple", "D"),
}

SERVER_COLOUR = {
    "icp-server": "tab:blue",
    "icp-server+ops": "tab:cyan",
    "baseline": "tab:olive",
    "peer": "tab:orange",
    "floor-sqlite": "0.55",
    "floor-static": "0.75",
}
SERVER_ORDER = ["icp-server", "icp-server+ops", "baseline", "peer", "floor-sqlite", "floor-static"]
SERVER_LABEL = {
    "icp-server": "icp-server",
    "icp-server+ops": "icp-server\n+ JSON log, /metrics",
    "baseline": "baseline\n(another build)",
    "peer": "Node.js peer\n(Fastify)",
    "floor-sqlite": "floor: C,\nSQLite read",
    "floor-static": "floor: C,\nfixed answer",
}


# ---- reading Google Benchmark JSON ----------------------------------------------


class Run:
    """One benchmark instance: its name split into family, numeric arguments
    and flags, and its time in microseconds."""

    def __init__(self, run_name, us, bytes_per_second=None, date=None, repetitions=None):
        parts = run_name.split("/")
        self.name = run_name
        self.family = parts[0]
        self.args = [int(p) for p in parts[1:] if p.isdigit()]
        self.flags = [p for p in parts[1:] if not p.isdigit()]
        self.us = us
        self.bytes_per_second = bytes_per_second
        self.date = date  # of the run, from the file's context
        self.repetitions = repetitions  # None: not repeated

    @property
    def wall_clock(self):
        return "real_time" in self.flags


def read_benchmarks(paths):
    """Every benchmark of the files, one Run per instance: the median when
    repeated, else the mean of its iterations. Errors and BigO/RMS skipped."""
    medians = {}
    iterations = defaultdict(list)
    dates = {}
    for path in paths:
        document = json.loads(Path(path).read_text())
        date = document.get("context", {}).get("date")
        for entry in document.get("benchmarks", []):
            if entry.get("error_occurred"):
                continue
            run_name = entry.get("run_name", entry["name"])
            dates[run_name] = date
            if entry.get("run_type") == "aggregate":
                if entry.get("aggregate_name") != "median":
                    continue  # mean, stddev, cv, BigO, RMS
                if entry.get("aggregate_unit", "time") != "time":
                    continue
                medians[run_name] = entry
            elif "time_unit" in entry:
                iterations[run_name].append(entry)
    runs = {}
    for run_name in list(medians) + [n for n in iterations if n not in medians]:
        entries = [medians[run_name]] if run_name in medians else iterations[run_name]
        wall = "real_time" in run_name.split("/")
        key = "real_time" if wall else "cpu_time"
        us = statistics.mean(e[key] * TO_US[e.get("time_unit", "ns")] for e in entries)
        rates = [e["bytes_per_second"] for e in entries if "bytes_per_second" in e]
        repetitions = medians[run_name].get("repetitions") if run_name in medians else None
        runs[run_name] = Run(run_name, us, statistics.mean(rates) if rates else None,
                             dates.get(run_name), repetitions)
    return runs


def source_note(runs, what):
    """What the chart shows and where from: the tool, dates, repetitions."""
    parts = [what]
    dates = sorted({str(run.date)[:10] for run in runs if run.date})
    if dates:
        parts.append(" and ".join(dates))
    repetitions = sorted({run.repetitions for run in runs if run.repetitions})
    if repetitions:
        parts.append("medians of " + " or ".join(str(r) for r in repetitions) + " repetitions")
    elif runs:
        parts.append("one run each")
    return ", ".join(parts)


def plain_number(value, _position=None):
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def save(figure, out, name, note):
    """Writes the chart with `note` (its source) in small grey at the foot."""
    figure.text(0.01, 0.005, note, fontsize=7, color="0.4")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    path = out / name
    # No software version in the file, so that charts of the same data compare equal.
    figure.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    print(f"wrote {path}")


# ---- cost by database size (icp_bench) ------------------------------------------


def classify_db_run(run):
    """(operation, store, is_floor, ICPs in the database) of an icp_bench run
    that reads a database, else None."""
    family = run.family
    if not re.match(r"^BM_(Scale_|Service(Get|List)_|(Sqlite|Postgres)Floor_)", family):
        return None
    if "List" in family:
        operation = "list"
    elif "Get" in family or "Lookup" in family:
        operation = "get"
    else:
        return None
    if "Memory" in family:
        store = "memory"
    elif "Postgres" in family:
        store = "PostgreSQL"
    else:
        store = "SQLite"
    size = run.args[0] if run.args else FIXED_DB_SIZE
    return operation, store, "Floor" in family, size


def label_figures(axis, figures, min_gap):
    """Writes each point's value right of it; values at one x are spread apart
    (by at least min_gap, in data units) so that close ones stay readable."""
    by_x = defaultdict(list)
    for x, y, colour in figures:
        by_x[x].append((y, colour))
    for x, points in by_x.items():
        points.sort()
        placed = []
        for y, colour in points:
            at = max(y, placed[-1] + min_gap) if placed else y
            placed.append(at)
            axis.annotate(f"{y:.3g}", (x, y), xytext=(x * 1.15, at + min_gap * 0.1),
                          textcoords="data", va="bottom", ha="left", fontsize=8, color=colour,
                          bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                "alpha": 0.8})


def plot_db_size(runs, out):
    series = defaultdict(dict)  # (operation, store, floor) -> {size: us}
    wall_clock = set()
    used = []
    for run in runs.values():
        what = classify_db_run(run)
        if what is None:
            continue
        used.append(run)
        operation, store, floor, size = what
        series[(operation, store, floor)][size] = run.us
        if run.wall_clock:
            wall_clock.add(store)
    if not series:
        print("plot.py: no database benchmarks of icp_bench in --bench; db-size.png skipped",
              file=sys.stderr)
        return False

    operations = [op for op in ("get", "list") if any(k[0] == op for k in series)]
    figure, axes = plt.subplots(1, len(operations), figsize=(6.2 * len(operations), 4.4),
                                squeeze=False)
    titles = {"get": "IcpService::get", "list": "IcpService::list (first page of 50)"}
    sizes = sorted({size for points in series.values() for size in points})
    figures = []  # (x, y, colour) of every point, labelled once the axis is scaled
    for axis, operation in zip(axes[0], operations):
        for (op, store, floor), points in sorted(series.items(), key=lambda i: (i[0][1], i[0][2])):
            if op != operation:
                continue
            colour, marker = STORE_STYLE.get(store, ("black", "x"))
            xs = sorted(points)
            ys = [points[x] for x in xs]
            label = f"{store} floor (bare client, same rows)" if floor else store
            if store in wall_clock:
                label += ", wall clock"
            axis.plot(xs, ys, color=colour, marker=marker, linestyle="--" if floor else "-",
                      markerfacecolor="white" if floor else colour, label=label)
            figures.extend((x, points[x], colour) for x in xs)
        axis.set_xscale("log")
        axis.set_xticks(sizes)
        axis.xaxis.set_major_formatter(FuncFormatter(plain_number))
        axis.xaxis.set_minor_formatter(FuncFormatter(lambda *_: ""))
        axis.set_xlim(sizes[0] / 2, sizes[-1] * 4)  # room for the figures right of the points
        top = max(y for _, y, _ in figures) * 1.15
        axis.set_ylim(0, top)
        label_figures(axis, figures, min_gap=top * 0.065)
        figures.clear()
        axis.set_xlabel("ICPs in the database")
        axis.set_ylabel("µs per call (lower is better)")
        axis.set_title(titles[operation])
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2,
                    frameon=False)
    figure.suptitle("Cost by database size")
    save(figure, out, "db-size.png",
         source_note(used, "bench/icp_bench, CPU time unless marked"))
    return True


# ---- cost by body size (complexity_bench) ---------------------------------------

BODY_FAMILIES = {
    "BM_Create_FilterKeys": "create, keys in filters",
    "BM_Create_UserIds": "create, userIds",
    "BM_Create_DuplicateKeyAtEnd": "create, a duplicate key at the end",
    "BM_Update_FilterKeys": "update, keys in filters",
    "BM_Update_UserIds": "update, userIds",
    "BM_StoredRead_FilterKeys": "stored read, keys in filters",
    "BM_StoredRead_UserIds": "stored read, userIds",
}
PER_BYTE_LABEL = {
    "BM_PerByte_SmallArrays": "many [0] arrays",
    "BM_PerByte_DuplicateKeyAtEnd": "a duplicate key at the end",
    "BM_PerByte_UserIds": "many user ids",
    "BM_PerByte_FilterKeys": "many keys",
}


def plot_body_size(runs, out):
    lines = defaultdict(dict)
    used = []
    for run in runs.values():
        if run.family in BODY_FAMILIES and run.args:
            lines[run.family][run.args[0]] = run.us
            used.append(run)
    typical = runs.get("BM_PerByte_Typical")
    ratios = {}
    if typical is not None and typical.bytes_per_second:
        for family in PER_BYTE_LABEL:
            run = runs.get(family)
            if run is not None and run.bytes_per_second:
                ratios[family] = typical.bytes_per_second / run.bytes_per_second
                used.append(run)
    if not lines and not ratios:
        print("plot.py: no complexity_bench results in --bench; body-size.png skipped",
              file=sys.stderr)
        return False

    panels = int(bool(lines)) + int(bool(ratios))
    figure, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 4.4), squeeze=False)
    axes = list(axes[0])
    if lines:
        axis = axes.pop(0)
        for family, label in BODY_FAMILIES.items():
            points = lines.get(family)
            if not points:
                continue
            xs = sorted(points)
            axis.plot(xs, [points[x] for x in xs], marker="o", markersize=3, label=label,
                      linestyle="--" if family.startswith("BM_Update") else
                      ":" if family.startswith("BM_StoredRead") else "-")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.xaxis.set_major_formatter(FuncFormatter(plain_number))
        axis.set_xlabel("n (keys, user ids)")
        axis.set_ylabel("µs per call (log)")
        axis.set_title("Cost against the size of a body")
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=7)
    if ratios:
        axis = axes.pop(0)
        names = [f for f in PER_BYTE_LABEL if f in ratios]
        values = [ratios[f] for f in names]
        bars = axis.barh([PER_BYTE_LABEL[f] for f in names], values, color="tab:blue")
        axis.bar_label(bars, labels=[f"{v:.2f}x" for v in values], padding=3, fontsize=8)
        axis.axvline(10, color="tab:red", linestyle="--", linewidth=1)
        axis.text(10, len(names) - 0.45, " target: at most 10x", color="tab:red", fontsize=8,
                  va="bottom")
        axis.axvline(1, color="0.5", linewidth=1)
        axis.set_xlim(0, max(11, max(values) * 1.2))
        axis.invert_yaxis()
        axis.set_xlabel("cost per byte of a 1 MiB create body / the typical ~700-byte body")
        axis.set_title("The worst 1 MiB bodies, per byte")
    save(figure, out, "body-size.png", source_note(used, "bench/complexity_bench, CPU time"))
    return True


# ---- HTTP (compare.py --json) ---------------------------------------------------


def http_servers(document):
    servers = document.get("servers", {})
    known = [name for name in SERVER_ORDER if name in servers]
    return known + sorted(name for name in servers if name not in SERVER_ORDER)


def http_note(document):
    parts = ["bench/http/compare.py"]
    if document.get("date"):
        parts.append(str(document["date"])[:10])
    if document.get("rounds") and document.get("duration_s"):
        parts.append(f"medians of {document['rounds']} rounds of {document['duration_s']} s")
    if document.get("connections"):
        parts.append(f"wrk -t1 -c{document['connections']}, each server on one CPU")
    return ", ".join(parts)


def plot_http_cpu(document, out):
    names = http_servers(document)
    servers = document["servers"]
    values = [servers[n]["cpu_us_per_request"] for n in names]
    figure, axis = plt.subplots(figsize=(1.5 * len(names) + 2.5, 4.4))
    positions = range(len(names))
    bars = axis.bar(positions, values, color=[SERVER_COLOUR.get(n, "tab:gray") for n in names])
    for bar, name in zip(bars, names):
        if name.startswith("floor"):
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    labels = [f"{v:.1f} µs" for v in values]
    if "peer" in servers:
        peer = servers["peer"]["cpu_us_per_request"]
        labels = [f"{v:.1f} µs\n{v / peer:.2f}x peer" if n != "peer" else f"{v:.1f} µs"
                  for n, v in zip(names, values)]
    # The spread of the rounds as a bar from the lowest to the highest, the
    # figures above whichever is higher.
    top = max(values)
    for position, name, value, label in zip(positions, names, values, labels):
        rounds = [r["cpu_us_per_request"] for r in servers[name].get("per_round", [])]
        if len(rounds) > 1:
            axis.errorbar(position, value, yerr=[[value - min(rounds)], [max(rounds) - value]],
                          color="black", capsize=6, linewidth=1, alpha=0.7)
            top = max(top, max(rounds))
        axis.annotate(label, (position, max([value, *rounds])), xytext=(0, 4),
                      textcoords="offset points", ha="center", va="bottom", fontsize=8)
    axis.set_xticks(list(positions), [SERVER_LABEL.get(n, n) for n in names], fontsize=8)
    axis.set_ylim(0, top * 1.3)
    axis.set_ylabel("server CPU per request, µs (lower is better)")
    axis.set_title("HTTP: server CPU per request (GET one ICP, 90% 200 / 5% 403 / 5% 404)")
    axis.grid(True, axis="y", alpha=0.3)
    save(figure, out, "http-cpu.png",
         http_note(document) + "; whiskers: lowest and highest round")


def plot_http_latency(document, out):
    names = http_servers(document)
    servers = document["servers"]
    width = 0.38
    figure, axis = plt.subplots(figsize=(1.5 * len(names) + 2.5, 4.4))
    for offset, key, label, alpha in ((-width / 2, "p50_us", "p50", 0.55),
                                      (width / 2, "p99_us", "p99", 1.0)):
        values = [servers[n][key] for n in names]
        bars = axis.bar([i + offset for i in range(len(names))], values, width, label=label,
                        color=[SERVER_COLOUR.get(n, "tab:gray") for n in names], alpha=alpha)
        axis.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=2, fontsize=7)
    axis.set_xticks(range(len(names)), [SERVER_LABEL.get(n, n) for n in names], fontsize=8)
    axis.set_ylabel("latency, µs (lower is better)")
    axis.set_title("HTTP: latency at the same load (light: p50, dark: p99)")
    axis.grid(True, axis="y", alpha=0.3)
    axis.set_ylim(0, axis.get_ylim()[1] * 1.1)
    save(figure, out, "http-latency.png", http_note(document))


# ---- main -----------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", nargs="+", default=[], metavar="FILE",
                        help="Google Benchmark JSON of icp_bench and/or complexity_bench")
    parser.add_argument("--http", metavar="FILE", help="the JSON of bench/http/compare.py --json")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where the PNG files go (created if missing)")
    args = parser.parse_args()
    if not args.bench and not args.http:
        parser.error("nothing to draw: give --bench FILE... and/or --http FILE")

    args.out.mkdir(parents=True, exist_ok=True)
    drawn = 0
    if args.bench:
        runs = read_benchmarks(args.bench)
        drawn += plot_db_size(runs, args.out)
        drawn += plot_body_size(runs, args.out)
    if args.http:
        document = json.loads(Path(args.http).read_text())
        if not document.get("servers"):
            print(f"plot.py: {args.http} has no servers; is it compare.py --json output?",
                  file=sys.stderr)
        else:
            plot_http_cpu(document, args.out)
            plot_http_latency(document, args.out)
            drawn += 2
    if drawn == 0:
        print("plot.py: no chart drawn", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
