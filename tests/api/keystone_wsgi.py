"""Serve Keystone's WSGI application on a loopback port, one thread per request.

    python keystone_wsgi.py /path/to/keystone.conf PORT

Prints ``keystone ready`` once it listens; runs until it is signalled.
"""

from __future__ import annotations

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keystone logs each request itself."""


def main() -> None:
    conf, port = sys.argv[1], int(sys.argv[2])
    os.environ["OS_KEYSTONE_CONFIG_DIR"] = os.path.dirname(conf)
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = os.path.basename(conf)
    # Keystone parses the process's own arguments as its command line.
    sys.argv = sys.argv[:1]
    from keystone.server import wsgi  # noqa: PLC0415

    app = wsgi.initialize_public_application()
    httpd = make_server("127.0.0.1", port, app, server_class=Server, handler_class=QuietHandler)
    print("keystone ready", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
