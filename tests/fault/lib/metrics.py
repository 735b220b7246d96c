"""The broker's /metrics text, on the port its log announces (started with --metrics HOST:0)."""

import re
import urllib.request


def metrics_port(broker):
    """The last announced: brokers started one after another in a work dir share its log."""
    found = re.findall(r"listening: metrics at http://[^:]+:(\d+)/metrics", broker.log())
    return int(found[-1]) if found else None


def metric(broker, name):
    """The value of the unlabelled sample `stompbox_<name>`, or None when absent."""
    port = metrics_port(broker)
    if port is None:
        return None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    found = re.search(rf"^stompbox_{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def under_asan(broker):
    """True when the broker was built with AddressSanitizer: its RSS then holds ASan's
    quarantine of freed memory, not our growth."""
    with open(f"/proc/{broker.pid}/maps") as f:
        return "libasan" in f.read()
