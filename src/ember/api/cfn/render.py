"""Answers of the Query API as botocore parses them: XML in CloudFormation's namespace
(or JSON with ``ContentType=JSON``), with the request id in ``ResponseMetadata``.

A result is plain data: a map is one element per key, a list is ``<member>`` elements, a
boolean is ``true``/``false`` (botocore reads anything else as false), and ``None`` is left
out rather than written as text. Characters XML 1.0 cannot carry (control characters a
parameter value may hold) are written as U+FFFD, so an answer always parses.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

import orjson
from starlette.responses import Response

from ember.api.cfn import faults
from ember.api.cfn.faults import AwsError

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
XML_TYPE = "text/xml"
JSON_TYPE = "application/json"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if item is None:
                continue
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            if item is not None:
                _fill(ET.SubElement(element, "member"), item)
    else:
        element.text = _text(value)


def _pruned(value: Any) -> Any:
    """The JSON form: ``None`` left out the same way."""
    if isinstance(value, Mapping):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value if v is not None]
    return value


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def result(
    action: str, value: Mapping[str, Any] | None, request_id: str, as_json: bool
) -> Response:
    """The answer to ``action``: ``<ActionResponse><ActionResult>value</ActionResult>``."""
    if as_json:
        inner: dict[str, Any] = {}
        if value is not None:
            inner[f"{action}Result"] = _pruned(value)
        inner["ResponseMetadata"] = {"RequestId": request_id}
        return Response(orjson.dumps({f"{action}Response": inner}), media_type=JSON_TYPE)
    root = ET.Element(f"{action}Response", xmlns=NAMESPACE)
    if value is not None:
        _fill(ET.SubElement(root, f"{action}Result"), value)
    meta = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(meta, "RequestId").text = request_id
    return Response(_xml(root), media_type=XML_TYPE)


def error(exc: AwsError, request_id: str, as_json: bool) -> Response:
    """``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``, with the
    error's own status (JSON too: never a 200 for a failure)."""
    fields = {"Type": exc.fault_type, "Code": exc.code, "Message": exc.message}
    headers = {"x-amzn-RequestId": request_id}
    if as_json:
        body = {"ErrorResponse": {"Error": fields, "RequestId": request_id}}
        return Response(
            orjson.dumps(body), status_code=exc.status, media_type=JSON_TYPE, headers=headers
        )
    root = ET.Element("ErrorResponse", xmlns=NAMESPACE)
    _fill(ET.SubElement(root, "Error"), fields)
    ET.SubElement(root, "RequestId").text = request_id
    return Response(_xml(root), status_code=exc.status, media_type=XML_TYPE, headers=headers)


def unparsed(message: str) -> tuple[bytes, bytes]:
    """The answer to a request the server could not parse at all (a garbled request line,
    a header line too long): a ``MalformedQueryString`` error, for the server's parser."""
    response = error(faults.MalformedQueryString(message), str(uuid.uuid4()), False)
    return bytes(response.body), XML_TYPE.encode("ascii")
