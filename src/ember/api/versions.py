"""The versions document both APIs answer at ``/`` (300 Multiple Choices, as Heat's)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


def versions_document(request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    body = {
        "versions": [
            {"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{base}/v1/"}]}
        ]
    }
    return JSONResponse(body, status_code=300)
