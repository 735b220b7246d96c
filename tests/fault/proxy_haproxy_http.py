"""fault.proxy_haproxy_http: issue #15 case 1 behind a real HAProxy in `mode http` with
`option forwardfor` (as docs/cluster.md): connections counted and failed logins limited per
client address, logs naming the client. The scenario is lib/behind_proxy.py."""

import sys

from lib import behind_proxy
from lib.edge import HAProxy, require


def main():
    require("haproxy")
    behind_proxy.run(lambda work, ws_port: HAProxy(work).start_http(ws_port))


if __name__ == "__main__":
    sys.exit(main())
