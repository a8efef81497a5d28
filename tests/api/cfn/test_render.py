"""The answers heat-api-cfn writes, read back by botocore's own Query parser against
CloudFormation's service model: what boto3 users get."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from ember.api.cfn import faults, render
from tests.api.helpers import need


def _parse(action: str, body: bytes, status: int = 200) -> dict[str, Any]:
    botocore_session = need("botocore.session")
    parsers = need("botocore.parsers")
    model = botocore_session.get_session().get_service_model("cloudformation")
    operation = model.operation_model(action)
    parser = parsers.QueryParser()
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, Any] = parser.parse(response, operation.output_shape)
    return parsed


def test_a_stack_parses_with_lowercase_booleans_and_no_none_text() -> None:
    stack = {
        "StackId": "arn:openstack:heat::p:stacks/s/1",
        "StackName": "s",
        "Description": None,
        "Parameters": [{"ParameterKey": "k", "ParameterValue": "v"}],
        "CreationTime": "2026-12-02T10:00:00Z",
        "LastUpdatedTime": None,
        "StackStatus": "CREATE_COMPLETE",
        "DisableRollback": True,
        "TimeoutInMinutes": None,
        "NotificationARNs": [],
        "Capabilities": [],
        "Outputs": [{"OutputKey": "o", "OutputValue": "x", "Description": None}],
    }
    body = render.result("DescribeStacks", {"Stacks": [stack]}, "rid", False).body
    parsed = _parse("DescribeStacks", bytes(body))
    [got] = parsed["Stacks"]
    assert got["DisableRollback"] is True
    assert "TimeoutInMinutes" not in got and "LastUpdatedTime" not in got
    assert "Description" not in got
    assert got["Outputs"] == [{"OutputKey": "o", "OutputValue": "x"}]
    assert got["CreationTime"] == dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_false_is_false_and_numbers_are_numbers() -> None:
    stack = {
        "StackName": "s",
        "CreationTime": "2026-12-02T10:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "DisableRollback": False,
        "TimeoutInMinutes": 7,
    }
    [got] = _parse(
        "DescribeStacks",
        bytes(render.result("DescribeStacks", {"Stacks": [stack]}, "r", False).body),
    )["Stacks"]
    assert got["DisableRollback"] is False
    assert got["TimeoutInMinutes"] == 7


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x00b", "a\ufffdb"),
        ("bell\x07", "bell\ufffd"),
        ("\ud800", "\ufffd"),
        ("\ufffe", "\ufffd"),
        ("tab\tnew\nline", "tab\tnew\nline"),
        ("<&>\"'", "<&>\"'"),
    ],
)
def test_text_xml_cannot_hold_is_replaced_and_the_rest_kept(text: str, shown: str) -> None:
    summary = {
        "StackName": text,
        "StackStatus": "CREATE_COMPLETE",
        "CreationTime": "2026-12-02T10:00:00Z",
    }
    value = {"StackSummaries": [summary]}
    parsed = _parse("ListStacks", bytes(render.result("ListStacks", value, "r", False).body))
    assert parsed["StackSummaries"][0]["StackName"] == shown


def test_an_error_parses_with_code_message_and_request_id() -> None:
    response = render.error(faults.ValidationError("Stack with id x does not exist"), "rid", False)
    assert response.status_code == 400
    assert response.headers["x-amzn-RequestId"] == "rid"
    body = bytes(response.body)
    assert b'xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"' in body
    parsed = _parse("DescribeStacks", body, status=400)
    assert parsed["Error"]["Code"] == "ValidationError"
    assert parsed["Error"]["Message"] == "Stack with id x does not exist"
    assert parsed["Error"]["Type"] == "Sender"
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_server_errors_are_receiver_faults() -> None:
    assert faults.InternalFailure("x").fault_type == "Receiver"
    assert faults.ServiceUnavailable("x").status == 503


def test_json_answers_keep_the_shape_and_the_status() -> None:
    ok = render.result("ListStacks", {"StackSummaries": [], "NextToken": None}, "r", True)
    assert orjson.loads(bytes(ok.body)) == {
        "ListStacksResponse": {
            "ListStacksResult": {"StackSummaries": []},
            "ResponseMetadata": {"RequestId": "r"},
        }
    }
    failed = render.error(faults.AccessDenied("no"), "r", True)
    assert failed.status_code == 403
    error = orjson.loads(bytes(failed.body))["ErrorResponse"]["Error"]
    assert error == {"Type": "Sender", "Code": "AccessDenied", "Message": "no"}


def test_an_empty_result_is_left_out() -> None:
    body = bytes(render.result("DeleteStack", None, "r", False).body)
    assert b"DeleteStackResult" not in body
    assert _parse("DeleteStack", body)["ResponseMetadata"]["RequestId"] == "r"


def test_an_unparsed_request_is_answered_in_xml() -> None:
    body, kind = render.unparsed("Header line too long")
    assert kind == b"text/xml"
    assert _parse("ListStacks", body, status=400)["Error"]["Code"] == "MalformedQueryString"
