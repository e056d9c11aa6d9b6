#!/usr/bin/env python3
"""Markdown tables from tests/bench/run-all results (one JSON object per line): medians over
the runs with the min-max spread, ratios against Ariadne measured in the same run, the
memory per idle connection, and Ariadne's commit batch sizes per load."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meta = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 else ""
systems = [s for s in ["ariadne", "ariadne-pg", "ariadne-pg2", "node", "prosody", "ejabberd"]
           if any(r.get("label") == s for r in rows)]


def spread(values, fmt="{:,.0f}"):
    values = [v for v in values if v is not None and v >= 0]
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


print(meta.replace("# ", "") + "\n")
print("### Throughput at saturation (window of in-flight messages per pair, rate 0)\n")
print("| system | delivered msg/s (wall) | msg per server CPU-s | server CPU use | p50 / p99 ms | driver CPU use | Ariadne ÷ system (per CPU-s) |")
print("|---|---|---|---|---|---|---|")
sat = defaultdict(list)
for r in rows:
    if r.get("offered_rate") == 0 and "delivered_per_s" in r:
        sat[r["label"]].append(r)
ariadne_eff = statistics.median([r["delivered_per_server_cpu_s"] for r in sat["ariadne"]]) if sat["ariadne"] else None
for s in systems:
    rs = sat[s]
    if not rs:
        continue
    eff = statistics.median([r["delivered_per_server_cpu_s"] for r in rs])
    ratio = f"{ariadne_eff / eff:.2f}×" if ariadne_eff and eff > 0 else "–"
    print(f"| {s} | {spread([r['delivered_per_s'] for r in rs])} | "
          f"{spread([r['delivered_per_server_cpu_s'] for r in rs])} | "
          f"{spread([r['server_cpu_util'] * 100 for r in rs], '{:.0f}')} % | "
          f"{spread([r['p50_ms'] for r in rs], '{:.2f}')} / {spread([r['p99_ms'] for r in rs], '{:.2f}')} | "
          f"{spread([r['driver_cpu_util'] * 100 for r in rs], '{:.0f}')} % | {ratio} |")

print("\n### Latency at fixed offered rates (send → receipt at the receiving client)\n")
print("| system | offered msg/s | delivered msg/s | p50 ms | p95 ms | p99 ms | server CPU use | errors |")
print("|---|---|---|---|---|---|---|---|")
fixed = defaultdict(list)
skipped = {}
for r in rows:
    if r.get("offered_rate", 0) > 0:
        if "skipped" in r:
            skipped[(r["label"], r["offered_rate"])] = r["skipped"]
        elif "delivered_per_s" in r:
            fixed[(r["label"], r["offered_rate"])].append(r)
for s in systems:
    for rate in sorted({k[1] for k in list(fixed) + list(skipped) if k[0] == s}):
        rs = fixed.get((s, rate), [])
        if not rs:
            print(f"| {s} | {rate:,} | not offered ({skipped.get((s, rate), '')}) | | | | | |")
            continue
        errors = sum(r["errors"] + r.get("backlog_skips", 0) for r in rs)
        print(f"| {s} | {rate:,} | {spread([r['delivered_per_s'] for r in rs])} | "
              f"{spread([r['p50_ms'] for r in rs], '{:.2f}')} | {spread([r['p95_ms'] for r in rs], '{:.2f}')} | "
              f"{spread([r['p99_ms'] for r in rs], '{:.2f}')} | "
              f"{spread([r['server_cpu_util'] * 100 for r in rs], '{:.0f}')} % | {errors} |")

print("\n### Memory per idle authenticated connection (server RSS delta ÷ connections)\n")
print("| system | connections | RSS before → after (MiB) | bytes per connection |")
print("|---|---|---|---|")
for r in rows:
    if "idle_connections" in r:
        print(f"| {r['label']} | {r['idle_connections']:,} | {r['server_rss_before_kib'] / 1024:.1f} → "
              f"{r['server_rss_after_kib'] / 1024:.1f} | {r['bytes_per_connection']:,.0f} |")

print("\n### Ariadne: commit batch sizes per load (from /metrics, messages per group commit)\n")
print("| offered msg/s | commits | mean batch | share of commits by batch size (≤1, ≤4, ≤16, ≤64, ≤256, >256) |")
print("|---|---|---|---|")
for r in rows:
    cb = r.get("commit_batch")
    if r.get("label") != "ariadne" or not cb or "offered_rate" not in r:
        continue  # idle runs carry no offered rate
    count = cb.get("ariadne_commit_batch_size_count", 0)
    total = cb.get("ariadne_commit_batch_size_sum", 0)

    def le(bound):
        return cb.get(f'ariadne_commit_batch_size_bucket{{le="{bound}"}}', 0)

    if count <= 0:
        continue
    cuts = [le(1), le(4), le(16), le(64), le(256), count]
    shares = [cuts[0]] + [cuts[i] - cuts[i - 1] for i in range(1, len(cuts))]
    label = "max" if r["offered_rate"] == 0 else f"{r['offered_rate']:,.0f}"
    print(f"| {label} | {count:,.0f} | {total / count:.1f} | "
          + ", ".join(f"{100 * x / count:.0f}%" for x in shares) + " |")
