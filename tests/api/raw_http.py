"""HTTP/1.1 over a bare socket, for requests no client library would send (a garbled request
line, a bad ``Content-Length``, a path left undecoded) and for answers read byte for byte."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

TIMEOUT = 30.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(port: int, request: bytes) -> RawResponse:
    """Send ``request`` as it is and read all the server sends until it closes the
    connection (the requests here ask it to, or are ones it cannot go on after)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    top, found, body = data.partition(b"\r\n\r\n")
    assert found, f"no complete answer: {data!r}"
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split(" ")[1]), headers, body)


def get(port: int, target: str, *headers: str, method: str = "GET") -> RawResponse:
    """``method target`` with ``headers`` (``"Name: value"``), the connection closed after."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return exchange(port, request)
