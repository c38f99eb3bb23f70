#!/usr/bin/env python3
"""Turns the runs scripts/bench kept in target/bench-runs/ into BENCHMARKS.md (on stdout).

Every run's JSON is flattened to dotted keys; each figure is the median over the runs with the runs' min-max
beside it (a single run shows its own in-run min-max where the benchmark recorded one). Headline rows pair a
gridmap figure with the alternative's from the same runs and give the ratio of the medians and the issue's target.
`--noisy DIR` prints the benchmarks whose headline figures spread over 25 % (scripts/bench runs those again).
"""

import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys

# (section, what, gridmap key, alternative, alternative key, unit, higher is better, target ratio or None)
HEADLINES = [
    ("Lookup (street + community + grid)", "in-process, 1 thread", "locate.in_process_cells_random_per_s",
     "PostGIS ST_Covers set join", "locate.postgis_points_per_s", "points/s", True, 100),
    ("Lookup (street + community + grid)", "in-process incl. H3 cell, 1 thread",
     "locate.in_process_cells_h3_random_per_s", "PostGIS ST_Covers set join", "locate.postgis_points_per_s",
     "points/s", True, None),
    ("Lookup (street + community + grid)", "POST /locate, 200 000-point batch", "locate.http_batch_points_per_s",
     "PostGIS ST_Covers set join", "locate.postgis_points_per_s", "points/s", True, 20),
    ("Lookup (street + community + grid)", "GET /locate, wrk 64 connections", "locate.http_get_requests_per_s",
     "PostGIS prepared, pgbench 64 clients", "locate.postgis_prepared_queries_per_s", "requests/s", True, 1),
    ("Nearest 5 available responders", "10 000 responders, in-process 1 thread",
     "dispatch.10000.in_process_nearest.queries_per_s", "PostGIS KNN (<->), 4 connections",
     "dispatch.10000.postgis_knn.queries_per_s_4_connections", "queries/s", True, 10),
    ("Nearest 5 available responders", "10 000 responders, HTTP (wrk)", "dispatch.10000.http.requests_per_s",
     "PostGIS KNN (<->), 4 connections", "dispatch.10000.postgis_knn.queries_per_s_4_connections", "queries/s",
     True, None),
    ("Nearest 5 available responders", "100 000 responders, in-process 1 thread",
     "dispatch.100000.in_process_nearest.queries_per_s", "PostGIS KNN (<->), 4 connections",
     "dispatch.100000.postgis_knn.queries_per_s_4_connections", "queries/s", True, 10),
    ("Nearest 5 available responders", "100 000 responders, HTTP (wrk)", "dispatch.100000.http.requests_per_s",
     "PostGIS KNN (<->), 4 connections", "dispatch.100000.postgis_knn.queries_per_s_4_connections", "queries/s",
     True, None),
    ("Vector tiles (grids, wrk 4 connections)", "z14 cold", "tiles.grids_z14_cold_tiles_per_s",
     "martin, cache off", "tiles.martin_grids_z14_cold_tiles_per_s", "tiles/s", True, 3),
    ("Vector tiles (grids, wrk 4 connections)", "z10 cold", "tiles.grids_z10_cold_tiles_per_s",
     "martin, cache off", "tiles.martin_grids_z10_cold_tiles_per_s", "tiles/s", True, 10),
    ("Vector tiles (grids, wrk 4 connections)", "z14 cached", "tiles.grids_z14_cached_tiles_per_s",
     "martin, cached", "tiles.martin_grids_z14_cached_tiles_per_s", "tiles/s", True, 1),
    ("Vector tiles (grids, wrk 4 connections)", "z10 cached", "tiles.grids_z10_cached_tiles_per_s",
     "martin, cached", "tiles.martin_grids_z10_cached_tiles_per_s", "tiles/s", True, 1),
    ("Import of the 9 504-grid file (all checks)", "gridmap import, SQLite", "import.gridmap_sqlite.median_s",
     "ogr2ogr into PostGIS (no checks)", "import.ogr2ogr_postgis.median_s", "s", False, 2),
    ("Import of the 9 504-grid file (all checks)", "gridmap import, PostGIS", "import.gridmap_postgis.median_s",
     "ogr2ogr into PostGIS (no checks)", "import.ogr2ogr_postgis.median_s", "s", False, 2),
    ("Heatmap of 1 000 000 incidents", "whole city, res 8, SQLite store", "tiles.heatmap_sqlite_city_res8_ms.median",
     "PostGIS GROUP BY stored h3", "tiles.postgis_group_by_h3_ms.median", "ms", False, None),
    ("Heatmap of 1 000 000 incidents", "whole city, res 8, PostGIS store",
     "tiles.heatmap_postgis_city_res8_ms.median", "PostGIS GROUP BY stored h3", "tiles.postgis_group_by_h3_ms.median",
     "ms", False, None),
    ("Heatmap of 1 000 000 incidents", "z13 view", "tiles.heatmap_sqlite_core_zoom13_ms.median", None, None, "ms",
     False, None),
    ("Heatmap of 1 000 000 incidents", "/stats/grids (9 504 grids)", "tiles.stats_grids_sqlite_ms.median", None, None,
     "ms", False, None),
    ("History import, 100 000 GBK CSV rows (every row checked, geocoded, stored)", "import-incidents, SQLite",
     "history.import_100k_sqlite.median_s", None, None, "s", False, None),
    ("History import, 100 000 GBK CSV rows (every row checked, geocoded, stored)", "import-incidents, PostGIS",
     "history.import_100k_postgis.median_s", None, None, "s", False, None),
    ("Assessment of 1 000 000 incidents", "by grid (9 504 rows), SQLite store, HTTP",
     "history.assessment_grid_sqlite.median_s", "PostGIS GROUP BY grid_code, same figures",
     "history.postgis_group_by_grid.median_s", "s", False, None),
    ("Assessment of 1 000 000 incidents", "by grid (9 504 rows), PostGIS store, HTTP",
     "history.assessment_grid_postgis.median_s", "PostGIS GROUP BY grid_code, same figures",
     "history.postgis_group_by_grid.median_s", "s", False, None),
    ("Assessment of 1 000 000 incidents", "by street, SQLite store", "history.assessment_street_sqlite.median_s",
     None, None, "s", False, None),
    ("Assessment of 1 000 000 incidents", "by grid as XLSX, SQLite store",
     "history.assessment_grid_xlsx_sqlite.median_s", None, None, "s", False, None),
    ("Resident memory", "server, city layers + 1 000 000 incidents (SQLite)",
     "tiles.server_rss_mib_sqlite_with_incidents", None, None, "MiB", False, None),
    ("Resident memory", "server, city layers + 1 000 000 incidents (PostGIS)",
     "tiles.server_rss_mib_postgis_with_incidents", None, None, "MiB", False, None),
    ("Resident memory", "server, city layers after a 200 000-point batch", "locate.server_rss_mib", None, None, "MiB",
     False, None),
]


# (what, microbenchmark path, bound path, what the bound is)
BOUNDS = [
    ("lookup, street + community + grid (cell caches)", "micro_locate/full_answer",
     "micro_locate/bound_three_random_reads", "three independent random reads from a table the size of the caches"),
    ("lookup by R-tree descent and ring tests only", "micro_locate/rtree_and_rings",
     "micro_locate/bound_three_random_reads", "same bound"),
    ("lookup with the H3 cell (what /locate answers)", "micro_locate/with_h3", "micro_locate/h3_only",
     "the H3 cell alone (h3o), part of the answer"),
    ("nearest 5 available, 10 000 responders", "micro_nearest/nearest_5/10000", "micro_nearest/knn_walk_5/10000",
     "the R-tree's nearest-neighbour walk for 5, no filters"),
    ("nearest 5 available, 100 000 responders", "micro_nearest/nearest_5/100000", "micro_nearest/knn_walk_5/100000",
     "same bound"),
]

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
RATE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}


def parse_divan(text):
    """{"bench/fn/arg": {"median_s", "items_per_s", "bytes_per_s"}} from divan's tree table."""
    out, stack, last, seps = {}, [], None, None
    for line in text.splitlines():
        if seps is None:
            if "fastest" in line and "median" in line:
                # Columns sit at the header's separator offsets (the tree's own "│" would confuse a split).
                seps = [i for i, c in enumerate(line) if c == "│"]
            continue
        if len(line) <= seps[1]:
            continue
        bounds = [0, *seps, len(line)]
        cols = [line[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
        cols[1:] = [c.lstrip("│") for c in cols[1:]]
        m = re.match(r"^((?:[│ ] {2})*)[├╰]─ (\S+)\s*(.*)$", cols[0])
        if m:
            depth = len(m.group(1)) // 3
            stack = stack[:depth] + [m.group(2)]
            t = re.match(r"^([\d.]+) (ns|µs|us|ms|s)$", cols[2].strip())
            last = None
            if t:
                last = "/".join(stack)
                out[last] = {"median_s": float(t.group(1)) * UNITS[t.group(2)]}
            continue
        if last:
            r = re.match(r"^([\d.]+) ([KMGT]?)(i?)(item|B)/s$", cols[2].strip())
            if r:
                key = "items_per_s" if r.group(4) == "item" else "bytes_per_s"
                scale = 1024 ** " KMGT".index(r.group(2) or " ") if r.group(3) else RATE[r.group(2)]
                out[last][key] = float(r.group(1)) * scale
    return out


def micro(directory):
    found = {}
    for path in sorted(glob.glob(os.path.join(directory, "micro_*.txt"))):
        name = os.path.basename(path)[:-4]
        for k, v in parse_divan(open(path).read()).items():
            found[k if k.startswith(name) else f"{name}/{k}"] = v
    return found


def flatten(value, prefix, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = float(value)


def load(directory):
    """{key: [value per run]} over every bench-run JSON, keys prefixed by the benchmark's name."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(directory, "*-*.json"))):
        name = os.path.basename(path).rsplit("-", 1)[0]
        flat = {}
        with open(path) as f:
            flatten(json.load(f), name, flat)
        for k, v in flat.items():
            runs.setdefault(k, []).append(v)
    return runs


def spread(runs, key):
    """(median, min, max) of a key over the runs; one run shows its own in-run min-max where recorded."""
    values = runs.get(key)
    if not values:
        return None
    med, lo, hi = statistics.median(values), min(values), max(values)
    if len(values) == 1:
        for a, b, c in ((".median", ".min", ".max"), (".median_s", ".min_s", ".max_s")):
            if key.endswith(a):
                base = key[: -len(a)]
                lo = runs.get(base + b, [lo])[0]
                hi = runs.get(base + c, [hi])[0]
    return med, lo, hi, len(values)


def fmt(x):
    if x >= 100:
        return f"{x:,.0f}".replace(",", " ")
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def cell(s, unit):
    if s is None:
        return "not measured"
    med, lo, hi, n = s
    return f"{fmt(med)} {unit} ({fmt(lo)}–{fmt(hi)})"


def noisy(runs):
    out = set()
    for _, _, key, _, alt_key, _, _, _ in HEADLINES:
        for k in (key, alt_key):
            s = spread(runs, k) if k else None
            if s and s[3] > 1 and s[0] > 0 and (s[2] - s[1]) / s[0] > 0.25:
                out.add(k.split(".", 1)[0])
    return sorted(out)


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kib = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    pg = command("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                 "SELECT split_part(version(), ' ', 2) || ', PostGIS ' || postgis_lib_version()", "gridmap_bench")
    martin = command("target/martin/bin/martin", "--version") or command("martin", "--version")
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; memory {mem_kib / 1048576:.0f} GiB; {platform.platform()}",
        f"- {command('rustc', '--version')}; PostgreSQL {pg or '?'}; {martin or 'martin: not built'}; "
        f"{command('ogr2ogr', '--version') or 'ogr2ogr: absent'}; {command('wrk', '--version').splitlines()[0] if command('wrk', '--version') else 'wrk'}",
        f"- gridmap commit {command('git', 'rev-parse', '--short', 'HEAD')}"
        f"{' with uncommitted changes' if command('git', 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md') else ''}; "
        f"written {command('date', '-u', '+%Y-%m-%d %H:%M UTC')}",
        "- Server, load generator and PostgreSQL share the same cores (loopback only).",
    ]


def minutes(seconds):
    return f"{seconds // 60} min {seconds % 60} s"


def phases(directory):
    """The invocation's phases (phases.txt) and each benchmark run's duration (run-times.txt), as bullet lines."""
    lines = []
    path = os.path.join(directory, "phases.txt")
    if os.path.exists(path):
        parts = [l.rsplit(" ", 1) for l in open(path).read().splitlines() if l.strip()]
        lines.append("- Phases: " + "; ".join(f"{name} {minutes(int(s))}" for name, s in parts) + ".")
    path = os.path.join(directory, "run-times.txt")
    if os.path.exists(path):
        per = {}
        for l in open(path).read().splitlines():
            name, _, secs = l.split()
            per.setdefault(name, []).append(secs)
        lines.append("- Seconds per run: " + "; ".join(f"{n} {', '.join(v)}" for n, v in per.items()) + ".")
    return lines


def report(directory, elapsed):
    runs = load(directory)
    per_bench = {}
    for path in glob.glob(os.path.join(directory, "*-*.json")):
        name = os.path.basename(path).rsplit("-", 1)[0]
        per_bench[name] = per_bench.get(name, 0) + 1
    n_runs = ", ".join(f"{b} {n}" for b, n in sorted(per_bench.items())) or "none"
    lines = [
        "# Benchmarks",
        "",
        "Written by `scripts/bench` (do not edit by hand). Every figure is the median over the runs of one invocation,",
        "with the runs' min–max in brackets; each ratio divides the two medians (for times: the alternative's over",
        "gridmap's), so > 1× means gridmap is faster. Nothing is dropped: the raw runs are in `target/bench-runs/`.",
        "A figure measured in one run only (the heatmap, stats and `GROUP BY` times: the tile benchmark's first run,",
        "which seeds the million incidents, times each query 5 times) shows that run's min–max.",
        "",
        "## Machine",
        "",
        *machine(),
        f"- Runs per benchmark: {n_runs} (one more than asked where a headline figure spread over 25 %)"
        + (f"; whole invocation {minutes(elapsed)}." if elapsed else "."),
        *phases(directory),
        "",
    ]
    section = None
    for sec, what, key, alt, alt_key, unit, higher, target in HEADLINES:
        if sec != section:
            section = sec
            lines += ["", f"## {sec}", "", "| gridmap | median (min–max) | alternative | median (min–max) | ratio | target | met |",
                      "|---|---|---|---|---|---|---|"]
        g = spread(runs, key)
        a = spread(runs, alt_key) if alt_key else None
        ratio, met = "", ""
        if g and a and g[0] > 0 and a[0] > 0:
            r = g[0] / a[0] if higher else a[0] / g[0]
            ratio = f"{r:.2f}×" if r < 10 else f"{r:.0f}×"
            if target is not None:
                met = "yes" if r >= target else f"no ({r / target:.2f} of target)"
        lines.append(
            f"| {what} | {cell(g, unit)} | {alt or '—'} | {cell(a, unit) if alt_key else '—'} | {ratio or '—'} | "
            f"{f'≥ {target}×' if target is not None else '—'} | {met or '—'} |"
        )
    m = micro(directory)
    lines += ["", "## Distance from a simple bound (microbenchmarks, one thread)", "",
              "| hot path | per item | bound | per item | hot path / bound |", "|---|---|---|---|---|"]
    for what, path, bound, bound_what in BOUNDS:
        a, b = m.get(path, {}).get("items_per_s"), m.get(bound, {}).get("items_per_s")
        if a and b:
            lines.append(f"| {what} | {1e9 / a:.0f} ns | {bound_what} | {1e9 / b:.0f} ns | {b / a:.1f}× |")
        else:
            lines.append(f"| {what} | not measured | {bound_what} | — | — |")
    lines += ["", "## Microbenchmarks (divan, one thread, `cargo bench --bench micro_*`)", ""]
    for path in sorted(glob.glob(os.path.join(directory, "micro_*.txt"))):
        text = open(path).read()
        table = [l for l in text.splitlines() if "│" in l]
        lines += [f"### {os.path.basename(path)[:-4]}", "", "```", *(table or text.splitlines()[-40:]), "```", ""]
    lines += ["## Every figure", "", "| key | median | min–max | runs |", "|---|---|---|---|"]
    for key in sorted(runs):
        med, lo, hi, n = spread(runs, key)
        lines.append(f"| `{key}` | {fmt(med)} | {fmt(lo)}–{fmt(hi)} | {n} |")
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) >= 2 and argv[0] == "--noisy":
        print("\n".join(noisy(load(argv[1]))))
        return
    elapsed = 0
    if len(argv) >= 3 and argv[0] == "--elapsed":
        elapsed, argv = int(argv[1]), argv[2:]
    sys.stdout.write(report(argv[0], elapsed))


if __name__ == "__main__":
    main(sys.argv[1:])
