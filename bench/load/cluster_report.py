#!/usr/bin/env python3
"""Table of bench/cluster.sh results (see docs/benchmarks.md, "Three nodes against one").

    cluster_report.py RESULTS.jsonl DOC META-JSON

RESULTS has one JSON line per run: stompbox-bench's output plus case, nodes, rep, run_s,
redis_kind, nodes_cpu_pct and redis_cpu_pct. Writes medians between <!-- cluster-bench:start -->
and <!-- cluster-bench:end --> in DOC (appended at the end when the markers are missing); with
meta "mode": "tls" (MODE=tls bench/cluster.sh: plain Redis against TLS+AUTH, same node count),
between <!-- cluster-tls-bench:start --> and <!-- cluster-tls-bench:end --> instead.
"""
import json
import sys
from collections import defaultdict

from compare_report import fmt, median, write_block

START, END = "<!-- cluster-bench:start -->", "<!-- cluster-bench:end -->"
TLS_START, TLS_END = "<!-- cluster-tls-bench:start -->", "<!-- cluster-tls-bench:end -->"
KINDS = {"plain": "plain", "tls": "TLS + AUTH"}
CASES = {
    "fanout": "fan-out, max rate",
    "latency": "fan-out, fixed rate",
    "notify": "notify (durable user queues), max rate",
    "notify-latency": "notify (durable user queues), fixed rate",
    "queue": "queue (competing consumers of one /queue/), max rate",
    "queue-latency": "queue (competing consumers of one /queue/), fixed rate",
}


def verdict(rows):
    """Exactly-once result of a group of runs: ok, or what went wrong in which run."""
    bad = [r for r in rows if r.get("status") != "ok"]
    if not bad:
        lost = sum(r.get("lost", 0) + r.get("duplicates", 0) + r.get("out_of_order", 0)
                   for r in rows)
        return f"ok ({len(rows)} run(s))" if lost == 0 else "violation"
    return "; ".join(f"rep {r['rep']}: {r.get('status')} {r.get('error', '')}".strip()
                     + f" (lost {fmt(r.get('lost'))}, dup {fmt(r.get('duplicates'))})"
                     for r in bad)


def row(case, n, rows):
    cpu = [fmt(median(rows, k), "%") for k in ("nodes_cpu_pct", "redis_cpu_pct", "gen_cpu_pct")]
    lat = [fmt(median(rows, k), " us") for k in ("lat_p50_us", "lat_p99_us")]
    return (f"| {CASES[case]} | {KINDS.get(n, n)} | {fmt(median(rows, 'delivered_per_s'))} | "
            + " | ".join(lat + cpu) + f" | {verdict(rows)} |")


def ratio_lines(groups, nodes):
    out = []
    for case, key, what in (("fanout", "delivered_per_s", "deliveries/s"),
                            ("notify", "delivered_per_s", "deliveries/s"),
                            ("queue", "delivered_per_s", "deliveries/s"),
                            ("latency", "lat_p99_us", "p99"),
                            ("notify-latency", "lat_p99_us", "p99"),
                            ("queue-latency", "lat_p99_us", "p99")):
        one, many = median(groups[(case, 1)], key), median(groups[(case, nodes)], key)
        if one and many:
            out.append(f"- {CASES[case]}: {what} of {nodes} nodes / 1 node = {many / one:.2f}")
    return out


def notes(meta):
    out = ["Reading the table: at max rate the generator keeps a window of deliveries in flight "
           "(max(10000, 16 x S)), so p50/p99 there are mostly that window divided by the rate "
           "(queueing in the generator's window, Little's law); the fixed-rate rows are the "
           "latency figures (offered: "
           f"{meta['lat_rate']} msg/s x S for fan-out, {meta['notify_rate']} msg/s for notify, "
           f"{meta.get('queue_rate', '-')} msg/s for queue). "
           "Where three nodes beat one at max rate, it is because one `--threads 1` node can use "
           "one core and three nodes can use both, not because the cluster scales here."]
    if meta["stores_in_flight"] == "0":
        out += ["", "`max_stores_in_flight = 0`: no bound on a publisher's durable SENDs awaiting "
                "Redis, so they queue in the node instead of slowing the publisher (flow control "
                "off for the store)."]
    return out


def tls_ratio_lines(groups):
    out = []
    for case in CASES:
        key = "lat_p99_us" if "latency" in case else "delivered_per_s"
        what = "p99" if "latency" in case else "deliveries/s"
        plain, tls = median(groups[(case, "plain")], key), median(groups[(case, "tls")], key)
        cpu = [median(groups[(case, k)], "redis_cpu_pct") for k in ("plain", "tls")]
        ncpu = [median(groups[(case, k)], "nodes_cpu_pct") for k in ("plain", "tls")]
        if plain and tls:
            out.append(f"- {CASES[case]}: {what} TLS+AUTH / plain = {tls / plain:.2f}"
                       + (f"; CPU of the nodes {ncpu[1] / ncpu[0]:.2f}x" if all(ncpu) else "")
                       + (f", of redis-server {cpu[1] / cpu[0]:.2f}x" if all(cpu) else ""))
    return out


def report_tls(rows, doc, meta):
    """MODE=tls: the same NODES nodes on a plain Redis and on one with TLS and AUTH."""
    groups = defaultdict(list)
    for r in rows:
        groups[(r["case"], r.get("redis_kind", "plain"))].append(r)
    n = meta["nodes"]
    out = [TLS_START, "", f"Command: `{meta['command']}`", "",
           f"Machine: {meta['machine']}. Run {meta['date']}, {meta['elapsed']}. "
           f"Load average at start: {meta['load']}. redis-server {meta['redis']} (Debian).", "",
           f"Medians of {meta['reps']} repetition(s), interleaved: each case on {n} nodes over a "
           "plain redis-server, then on fresh nodes over a second redis-server on TLS only "
           "(`--port 0 --tls-port`, a CA and certificate made by the script, `requirepass`, no "
           "client certificate), the nodes on `rediss://` with `redis_tls_ca_file` and "
           f"`redis_password_file`. Same load as the table above ({meta['duration']} s, "
           f"{meta['size']}-byte bodies, S = {meta['fanout_s']}, U = {meta['notify_u']}, "
           f"{meta['queue_c']} queue consumers).", "",
           "| Case | Redis | deliveries/s | p50 | p99 | CPU of the nodes | CPU of redis-server | "
           "generator CPU | exactly once |",
           "|---|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        for kind in ("plain", "tls"):
            if groups.get((case, kind)):
                out.append(row(case, kind, groups[(case, kind)]))
    out += ["", *tls_ratio_lines(groups), "", TLS_END]
    write_block(doc, out, TLS_START, TLS_END)


def report(results, doc, meta):
    rows = [json.loads(line) for line in open(results) if line.strip()]
    if meta.get("mode") == "tls":
        report_tls(rows, doc, meta)
        return
    groups = defaultdict(list)
    for r in rows:
        groups[(r["case"], r["nodes"])].append(r)
    n = meta["nodes"]
    out = [START, "", f"Command: `{meta['command']}`", "",
           f"Machine: {meta['machine']}. Run {meta['date']}, {meta['elapsed']}. "
           f"Load average at start: {meta['load']}. redis-server {meta['redis']} (Debian).", "",
           f"Medians of {meta['reps']} repetition(s), interleaved (each case on 1 node, then on "
           f"{n} nodes, fresh nodes every run, Redis flushed between runs); {meta['duration']} s "
           f"of publishing, {meta['size']}-byte bodies, WebSocket; S = {meta['fanout_s']}, the "
           f"fixed rate is {meta['lat_rate']} msg/s to S subscribers; notify: "
           f"U = {meta['notify_u']}, {meta['notify_p']} publishers, fixed rate "
           f"{meta['notify_rate']} msg/s in total"
           + (f"; queue: {meta['queue_c']} consumers of one `/queue/`, {meta['queue_p']} "
              f"publishers, fixed rate {meta['queue_rate']} msg/s in total (clustered, every "
              "message goes through the shared Redis stream, even on one node)"
              if "queue_c" in meta else "")
           + ". The generator's connections "
           "go to the nodes in turn (publishers included), so most deliveries cross Redis. "
           "Nodes run `bench/load/bench.toml`"
           + (f" plus `max_stores_in_flight = {meta['stores_in_flight']}`"
              if meta["stores_in_flight"]
              else " (broker defaults but `send_rate = 0` and a user-queue bound above the"
                   " generator's window)")
           + ".", "",
           "CPU columns are % of one core: the nodes (summed) and redis-server over the whole run "
           "(connection ramp, publishing, drain), the generator during publishing only.", "",
           "On this 2-core machine the nodes, redis-server and the generator all share the same "
           "two CPUs (nothing is pinned), so three nodes cannot add capacity here: the figures "
           "show what clustering costs (every delivery that crosses nodes goes through Redis "
           "pub/sub, every durable SEND through a fsynced Redis stream), not how a cluster scales "
           "out on several machines.", "",
           "| Case | nodes | deliveries/s | p50 | p99 | CPU of the nodes | CPU of redis-server | "
           "generator CPU | exactly once |",
           "|---|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        for k in (1, n):
            if groups.get((case, k)):
                out.append(row(case, k, groups[(case, k)]))
    out += ["", *ratio_lines(groups, n), "", *notes(meta), "", END]
    write_block(doc, out, START, END)


if __name__ == "__main__":
    report(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
