"""fault.proxy_nginx: issue #15 case 1 behind a real nginx (X-Forwarded-For, configured as in
docs/cluster.md): connections counted and failed logins limited per client address, logs
naming the client. The scenario is lib/behind_proxy.py."""

import sys

from lib import behind_proxy
from lib.edge import Nginx, require


def main():
    require("nginx")
    behind_proxy.run(lambda work, ws_port: Nginx(work).start(ws_port))


if __name__ == "__main__":
    sys.exit(main())
