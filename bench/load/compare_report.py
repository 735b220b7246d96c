#!/usr/bin/env python3
"""Helpers of bench/compare.sh.

  compare_report.py merge LABEL TARGET REP FILE...   one JSON line per generator process in
      each FILE -> one merged JSON line on stdout (rates and counts summed, latencies and CPU
      taken as the worst process), tagged with label, target and repetition.
  compare_report.py report RESULTS DOC META          medians per (label, target) -> markdown
      between <!-- broker-bench:start --> and <!-- broker-bench:end --> in DOC (section
      "## Broker" appended when the markers are missing). META is a JSON file of run facts.
"""
import json
import os
import re
import statistics
import sys

SUMMED = {"receivers", "publishers", "connections", "sent", "sent_per_s", "delivered_per_s",
          "setup_conn_per_s", "conn_per_s", "expected", "received", "lost", "duplicates",
          "out_of_order", "malformed", "rate_offered"}
START, END = "<!-- broker-bench:start -->", "<!-- broker-bench:end -->"
TARGETS = [("stompbox", "stompbox"), ("baseline", "baseline"), ("rabbitmq", "RabbitMQ")]


def write_block(doc, lines, start, end, heading=""):
    """Puts `lines` (starting with `start`, ending with `end`) in place of the block between
    those markers in `doc`; appended (after `heading`, when given) when the markers are missing,
    to a new file when `doc` does not exist (DOC=/tmp/x.md keeps the repository untouched)."""
    block = "\n".join(lines)
    text = open(doc).read() if os.path.exists(doc) else ""
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + heading + block + "\n"
    with open(doc, "w") as f:
        f.write(text)


def merge(label, target, rep, files):
    parts = []
    for name in files:
        with open(name) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
        parts.append(json.loads(lines[-1]) if lines else
                     {"status": "error", "error": "no result (generator crashed?)"})
    out = dict(parts[0])
    for p in parts[1:]:
        for k, v in p.items():
            if k in SUMMED and isinstance(v, (int, float)):
                out[k] = out.get(k, 0) + v
            elif isinstance(v, (int, float)):
                out[k] = max(out.get(k, v), v)
            elif k in ("status", "error") and v != "ok":
                out[k] = v
    out.update(label=label, target=target, rep=int(rep), procs=len(parts))
    print(json.dumps(out))


def median(rows, key):
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.3g}{unit}"


def cell(groups, label, target, key, unit="", cpu=False):
    rows = groups.get((label, target), [])
    if not rows:
        return "-"
    bad = [r for r in rows if r.get("status") != "ok"]
    if bad:
        err = bad[0].get("error", bad[0].get("status"))
        return f"**{bad[0].get('status')}** ({err[:70]})"
    v = fmt(median(rows, key), unit)
    gen = median(rows, "gen_cpu_pct")
    if cpu:
        broker = median(rows, "broker_cpu_pct")
        v += f" ({fmt(broker)}% / {fmt(gen)}%)"
    return v + (" (gen-bound)" if gen is not None and gen > 90 else "")


def ratio(groups, label, a, b, key):
    ra, rb = groups.get((label, a), []), groups.get((label, b), [])
    if any(r.get("status") != "ok" for r in ra + rb):
        return "n/a"
    va, vb = median(ra, key), median(rb, key)
    return f"{va / vb:.2f}" if va and vb else "n/a"


def table_rate(groups, labels, key, unit=""):
    lines = ["| Case | stompbox | baseline | RabbitMQ | stompbox / baseline | stompbox / RabbitMQ |",
             "|---|---|---|---|---|---|"]
    for label, title in labels:
        cells = [cell(groups, label, t, key, unit, cpu=True) for t, _ in TARGETS]
        lines.append(f"| {title} | " + " | ".join(cells) + f" | "
                     f"{ratio(groups, label, 'stompbox', 'baseline', key)} | "
                     f"{ratio(groups, label, 'stompbox', 'rabbitmq', key)} |")
    return lines


def goals(groups, fan, latency, unpinned):
    """The table of issue #19's goals against the medians above."""
    def value(label, target, key):
        rows = groups.get((label, target), [])
        ok = rows and all(r.get("status") == "ok" for r in rows)
        return median(rows, key) if ok else None

    def row(goal, measured, met):
        return f"| {goal} | {measured} | {'yes' if met else '**no**'} |"

    lines = ["### Against the goals of issue #19", "",
             "| Goal | Measured (medians above) | Met? |", "|---|---|---|"]
    for l in fan:
        s, b = value(l, "stompbox", "delivered_per_s"), value(l, "baseline", "delivered_per_s")
        if s and b:
            lines.append(row(f"{l}: deliveries/s >= 0.9x the baseline", f"{s / b:.2f}x",
                             s >= 0.9 * b))
    for l in latency:
        s, b = value(l, "stompbox", "lat_p99_us"), value(l, "baseline", "lat_p99_us")
        if s and b:
            lines.append(row(f"{l}: p99 <= 1.2x the baseline's",
                             f"{s:,.0f} us / {b:,.0f} us = {s / b:.2f}x", s <= 1.2 * b))
    for label, limit, name in (("idle", 4096, "WebSocket"), ("idle-tcp", 2048, "TCP")):
        s = value(label, "stompbox", "bytes_per_conn")
        if s:
            lines.append(row(f"idle {name}: <= {limit} B of broker RSS per connection",
                             f"{s:,.0f} B", s <= limit))
        s, b = value(label, "stompbox", "conn_per_s"), value(label, "baseline", "conn_per_s")
        if s and b:
            lines.append(row(f"idle {name}: set-up rate >= the baseline's",
                             f"{s:,.0f}/s against {b:,.0f}/s", s >= b))
    for l in unpinned:
        t1 = value(l, "stompbox-t1", "delivered_per_s")
        t2 = value(l, "stompbox-t2", "delivered_per_s")
        if t1 and t2:
            lines.append(row(f"{l[9:]}: --threads 2 not slower than --threads 1",
                             f"{t2 / t1:.2f}x", t2 >= t1))
    return lines


def report(results, doc, meta_file):
    with open(meta_file) as f:
        meta = json.load(f)
    rows = [json.loads(l) for l in open(results) if l.startswith("{")]
    groups = {}
    for r in rows:
        groups.setdefault((r["label"], r["target"]), []).append(r)
    labels = sorted({r["label"] for r in rows})
    bad = [r for r in rows if r.get("status") == "violation"]
    meta["violations"] = ", ".join(
        f"{r['label']} on {r['target']} rep {r['rep']} (lost {r.get('lost')}, duplicates "
        f"{r.get('duplicates')}, out of order {r.get('out_of_order')})" for r in bad) or "none"
    def numbered(prefix):  # labels PREFIX<S>, by S
        found = [l for l in labels if re.fullmatch(re.escape(prefix) + r"\d+", l)]
        return sorted(found, key=lambda l: int(l[len(prefix):]))
    fan, fan_tcp = numbered("fanout-"), numbered("fanout-tcp-")
    latency, notify = numbered("latency-"), numbered("notify-")
    out = [START, "", f"Command: `{meta['command']}`", "",
           f"Machine: {meta['machine']}. Run {meta['date']}, {meta['elapsed']}. "
           f"Load average at start: {meta['load']}. RabbitMQ: {meta['rabbitmq']}.", "",
           f"Medians of {meta['reps']} repetition(s), run interleaved (each scenario against "
           f"each broker in turn); broker on CPU {meta['broker_cpu']} (`taskset`), generator on "
           f"CPU {meta['gen_cpu']}, {meta['gen_procs']} generator process(es), "
           f"{meta['duration']} s of publishing per run, {meta['size']}-byte bodies. "
           "stompbox and the baseline run `--threads 1` when pinned and are restarted for every "
           "run; RabbitMQ is started once and restarted before each idle run. "
           "\"(gen-bound)\" marks a median where the generator used more than 90% of its core: "
           "that figure is the generator's limit, not the broker's. In brackets after a rate: "
           "the broker's and the generator's CPU use during the run, in % of one core; when "
           "neither is near 100% the two cores were shared with other work (see the load "
           "average) and the rates are lower bounds. "
           "Every run checked exactly-once delivery (no loss, no duplicate, per-publisher order); "
           f"violations: {meta['violations']}.", ""]
    for title, cases in (("WebSocket", fan), ("TCP", fan_tcp)):
        if not cases:
            continue
        out += [f"### Fan-out at maximum rate over {title} (deliveries/s)", "",
                "One publisher, S subscribers on `/topic/bench`, at most max(10000, 16 x S) "
                "deliveries in flight.", ""]
        out += table_rate(groups, [(l, f"S = {l.rsplit('-', 1)[1]}") for l in cases],
                          "delivered_per_s")
        out.append("")
    if latency:
        out += [f"### Fan-out latency at a fixed rate ({meta['lat_deliveries']:,} deliveries/s: "
                "5,000 / S msg/s to S subscribers, WebSocket)", "",
                "| S | stompbox p50 | stompbox p99 | baseline p50 | baseline p99 | RabbitMQ p99 "
                "| p99 stompbox / baseline |", "|---|---|---|---|---|---|---|"]
        for l in latency:
            cells = [cell(groups, l, t, k, " us") for t, k in
                     (("stompbox", "lat_p50_us"), ("stompbox", "lat_p99_us"),
                      ("baseline", "lat_p50_us"), ("baseline", "lat_p99_us"),
                      ("rabbitmq", "lat_p99_us"))]
            out.append(f"| {l[8:]} | " + " | ".join(cells) +
                       f" | {ratio(groups, l, 'stompbox', 'baseline', 'lat_p99_us')} |")
        out.append("")
    out += [f"### Notify: {meta['notify_publishers']} publishers to random users "
            "(delivered/s at maximum rate)", "",
            "stompbox and the baseline: users subscribe `/user/queue/notifications`, publishers "
            "send `/user/user<i>/queue/notifications`. RabbitMQ has no user destinations: both "
            "sides use `/queue/user<i>-notifications-r<run>` (a fresh queue name per run so no "
            "message of an earlier run is left in it).", ""]
    out += table_rate(groups, [(l, f"U = {l[7:]}") for l in notify], "delivered_per_s")
    out += ["", f"### Idle connections (N = {meta['idle_n']}, heart-beat 10000,10000, held "
            f"{meta['hold']} s)", "",
            "| Broker | transport | connections/s (connect + CONNECT + SUBSCRIBE + RECEIPT) | "
            "broker RSS bytes per connection | broker CPU while idle (% of a core) |",
            "|---|---|---|---|---|"]
    for label, transport in (("idle", "WebSocket"), ("idle-tcp", "TCP")):
        for t, name in TARGETS:
            if (label, t) in groups:
                out.append(f"| {name} | {transport} | {cell(groups, label, t, 'conn_per_s')} | "
                           f"{cell(groups, label, t, 'bytes_per_conn')} | "
                           f"{cell(groups, label, t, 'broker_idle_cpu_pct', ' %')} |")
    unpinned = sorted({l for l in labels if l.startswith("unpinned-")})
    if unpinned:
        out += ["", "### stompbox unpinned, `--threads 1` vs `--threads 2` (delivered/s)", "",
                "| Case | --threads 1 | --threads 2 | 2 / 1 |", "|---|---|---|---|"]
        for l in unpinned:
            c1 = cell(groups, l, "stompbox-t1", "delivered_per_s", cpu=True)
            c2 = cell(groups, l, "stompbox-t2", "delivered_per_s", cpu=True)
            out.append(f"| {l[9:]} | {c1} | {c2} | "
                       f"{ratio(groups, l, 'stompbox-t2', 'stompbox-t1', 'delivered_per_s')} |")
    out += [""] + goals(groups, fan + fan_tcp, latency, unpinned)
    out += ["", END]
    write_block(doc, out, START, END, heading="## Broker\n\n")


if __name__ == "__main__":
    if sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        report(sys.argv[2], sys.argv[3], sys.argv[4])
