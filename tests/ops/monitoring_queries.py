#!/usr/bin/env python3
"""docs/grafana/stompbox.json and docs/prometheus/stompbox-rules.yml against a real broker.

A one-node cluster (redis-server and stompbox, so the cluster metrics exist) is scraped every
second by a real Prometheus that also loads the alerting rules. Then:
  - every stompbox_* metric named by a dashboard query or a rule exists in /metrics;
  - every dashboard query is accepted by Prometheus, and those on gauges return a series;
  - every rule is loaded and evaluated healthy; no alert fires on the healthy broker.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cluster"))
from cluster_lib import HOST, Cluster, free_port, skip, wait_until  # noqa: E402

SOURCE = os.environ.get("STOMPBOX_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(SOURCE, "docs", "grafana", "stompbox.json")
RULES = os.path.join(SOURCE, "docs", "prometheus", "stompbox-rules.yml")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
METRIC = re.compile(r"\bstompbox_[a-z0-9_]+")


def dashboard_queries():
    """(panel title, PromQL) of every target, with the dashboard's variables filled in."""
    with open(DASHBOARD) as f:
        board = json.load(f)
    out = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$instance", ".*").replace("$__rate_interval", "10s")
            out.append((panel["title"], expr))
    assert out, "the dashboard has no queries"
    return out


def exposed_families(text):
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


class Prometheus:
    def __init__(self, workdir, target):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    f"rule_files: ['{RULES}']\n"
                    "scrape_configs:\n"
                    "  - job_name: stompbox\n"
                    f"    static_configs: [{{targets: ['{target}']}}]\n")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address={HOST}:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = f"http://{HOST}:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def scraped(self):
        result = self.api("query", query='up{job="stompbox"}')["data"]["result"]
        return bool(result) and result[0]["value"][1] == "1"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def tail(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()[-3000:]


def main():
    if not os.path.exists(PROMETHEUS):
        skip("prometheus not installed (Debian package prometheus)")
    with Cluster(nodes=1) as cluster:
        node = cluster.nodes[0]
        status, text = node.http("/metrics")
        assert status == 200
        families = exposed_families(text)

        named = {}
        for title, expr in dashboard_queries():
            for name in METRIC.findall(expr):
                named.setdefault(name, f"dashboard panel {title!r}")
        with open(RULES) as f:
            for name in METRIC.findall(f.read()):
                named.setdefault(name, "the alerting rules")
        unknown = {n: where for n, where in named.items() if n not in families}
        assert not unknown, f"metrics the broker does not expose: {unknown}"
        print(f"{len(named)} metric names used, all exposed ({len(families)} families)")

        prom = Prometheus(cluster.work.path, f"{HOST}:{node.metrics_port}")
        try:
            wait_until(prom.ready, 30.0, "prometheus ready")
            wait_until(prom.scraped, 30.0, "a successful scrape of the broker")
            client = node.client("monitor")  # a session and a subscription for the gauges
            client.subscribe("/topic/monitor", sub_id="1")
            for i in range(20):
                client.send("/topic/monitor", f"m{i}")
                time.sleep(0.2)  # the rates need a few scrapes
            check_queries(prom)
            check_rules(prom)
            client.disconnect()
        except BaseException:
            print(prom.tail())
            raise
        finally:
            prom.stop()


def check_queries(prom):
    empty = []
    for title, expr in dashboard_queries():
        reply = prom.api("query", query=expr)
        assert reply["status"] == "success", f"{title}: {expr}: {reply.get('error')}"
        if not reply["data"]["result"]:
            empty.append((title, expr))
    # Rates of counters that never moved in this short run and filtered limits may be empty;
    # plain gauges must not be.
    gauges_empty = [e for e in empty if "rate(" not in e[1] and "> 0" not in e[1]]
    assert not gauges_empty, f"dashboard queries with no series on a live broker: {gauges_empty}"
    delivered = prom.api("query", query="sum(stompbox_messages_delivered_total)")
    assert float(delivered["data"]["result"][0]["value"][1]) >= 1, "no delivery scraped"
    print(f"{len(dashboard_queries())} dashboard queries accepted, {len(empty)} empty (rates)")


def check_rules(prom):
    def evaluated():
        groups = prom.api("rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "").startswith("20")
                                      and not r["lastEvaluation"].startswith("0001")
                                      for r in rules) else None
    rules = wait_until(evaluated, 20.0, "every rule evaluated")
    with open(RULES) as f:
        expected = len(re.findall(r"^\s*- alert:", f.read(), re.M))
    assert len(rules) == expected, f"prometheus loaded {len(rules)} of {expected} rules"
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, f"rules that fail to evaluate: {bad}"
    firing = [r["name"] for r in rules if r["state"] != "inactive"]
    assert not firing, f"alerts pending or firing on a healthy broker: {firing}"
    print(f"{len(rules)} rules loaded and healthy, none firing")


if __name__ == "__main__":
    main()
