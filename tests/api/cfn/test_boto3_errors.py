"""Every way a CloudFormation request is refused, as AWS clients see it: boto3's
``ClientError`` with AWS's code, a 4xx status, and an ``ErrorResponse`` in
CloudFormation's XML namespace whose ``RequestId`` is the ``x-amzn-RequestId`` header;
and one project's key pair seeing nothing of another project's stacks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

from tests.api.cfn import templates
from tests.api.cfn.conftest import REGION, CfnService, KeyPair, described, wait_for
from tests.api.helpers import need

botocore_auth = need("botocore.auth")
botocore_awsrequest = need("botocore.awsrequest")
botocore_credentials = need("botocore.credentials")
botocore_exceptions = need("botocore.exceptions")
httpx = need("httpx")
ClientError = botocore_exceptions.ClientError

NS = "{http://cloudformation.amazonaws.com/doc/2010-05-15/}"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
VERSION = "2010-05-15"


@dataclass
class Watched:
    """A boto3 client whose last HTTP answer is kept, to look at what botocore parsed."""

    client: Any
    answers: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client.meta.events.register("after-call.cloudformation", self._keep)

    def _keep(self, http_response: Any, **_: Any) -> None:
        self.answers.append(http_response)

    def refused(self, operation: str, code: str, status: int, **args: Any) -> str:
        """Call ``operation``; it must fail with ``code`` and ``status``. Its message."""
        with pytest.raises(ClientError) as exc:
            getattr(self.client, operation)(**args)
        answer = self.answers[-1]
        response = exc.value.response
        assert response["Error"]["Code"] == code, response
        assert response["Error"]["Type"] == "Sender", response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
        check_error_document(answer.status_code, answer.headers, answer.content, code)
        assert response["ResponseMetadata"]["RequestId"] == answer.headers["x-amzn-RequestId"]
        return str(response["Error"]["Message"])


def check_error_document(status: int, headers: Any, body: bytes, code: str) -> ET.Element:
    """A 4xx ``ErrorResponse`` as CloudFormation writes it."""
    assert 400 <= status < 500, (status, body)
    assert headers["content-type"].startswith("text/xml"), headers
    root = ET.fromstring(body)
    assert root.tag == f"{NS}ErrorResponse", body
    assert root.findtext(f"{NS}Error/{NS}Code") == code, body
    assert root.findtext(f"{NS}Error/{NS}Type") == "Sender", body
    assert root.findtext(f"{NS}Error/{NS}Message"), body
    request_id = root.findtext(f"{NS}RequestId")
    assert request_id and request_id == headers["x-amzn-RequestId"], body
    uuid.UUID(request_id)
    return root


@pytest.fixture(scope="module")
def watched(cf: Any) -> Watched:
    return Watched(cf)


def watch(client: Any) -> Watched:
    return Watched(client)


# Raw requests ------------------------------------------------------------------------------


def signed_post(
    endpoint: str,
    key: KeyPair,
    params: dict[str, str],
    *,
    mangle: Callable[[dict[str, str]], dict[str, str]] = lambda headers: headers,
) -> Any:
    """POST ``params`` signed with SigV4 by botocore's signer, its headers passed through
    ``mangle`` before sending."""
    body = urlencode(params)
    request = botocore_awsrequest.AWSRequest(
        method="POST", url=endpoint, data=body, headers={"Content-Type": FORM}
    )
    signer = botocore_auth.SigV4Auth(
        botocore_credentials.Credentials(key.access, key.secret), "cloudformation", REGION
    )
    signer.add_auth(request)
    headers = mangle(dict(request.headers.items()))
    return httpx.post(endpoint, content=body, headers=headers, timeout=30.0)


# The codes ---------------------------------------------------------------------------------


def test_missing_stack_is_a_validation_error(watched: Watched) -> None:
    for operation, args in [
        ("describe_stacks", {}),
        ("describe_stack_events", {}),
        ("describe_stack_resource", {"LogicalResourceId": "x"}),
        ("describe_stack_resources", {}),
        ("list_stack_resources", {}),
        ("get_template", {}),
        ("get_template_summary", {}),
        ("update_stack", {"UsePreviousTemplate": True}),
        ("cancel_update_stack", {}),
    ]:
        message = watched.refused(operation, "ValidationError", 400, StackName="nowhere", **args)
        assert message == "Stack with id nowhere does not exist", (operation, message)


def test_bad_templates_are_validation_errors(watched: Watched) -> None:
    for template in (templates.BROKEN, templates.UNKNOWN_TYPE, "[]", "just text"):
        watched.refused(
            "create_stack", "ValidationError", 400, StackName="bad", TemplateBody=template
        )
    message = watched.refused("create_stack", "ValidationError", 400, StackName="bad")
    assert "TemplateBody" in message
    watched.refused("describe_stacks", "ValidationError", 400, StackName="bad")


def test_a_taken_name_already_exists(watched: Watched) -> None:
    cf = watched.client
    cf.create_stack(StackName="taken", TemplateBody=templates.NONE)
    message = watched.refused(
        "create_stack",
        "AlreadyExistsException",
        400,
        StackName="taken",
        TemplateBody=templates.NONE,
    )
    assert "taken" in message
    wait_for(cf, "stack_create_complete", "taken")


def test_missing_parameters(cfn_service: CfnService, key_pair: KeyPair) -> None:
    # botocore checks required parameters itself unless told not to.
    loose = watch(cfn_service.client(key_pair, parameter_validation=False))
    for operation, args in [
        ("create_stack", {"TemplateBody": templates.NONE}),
        ("delete_stack", {}),
        ("describe_stack_events", {}),
        ("describe_stack_resource", {"StackName": "x"}),
    ]:
        message = loose.refused(operation, "MissingParameter", 400, **args)
        assert message.startswith("The request must contain the parameter "), message
    assert "StackName" in loose.refused(
        "create_stack", "MissingParameter", 400, TemplateBody=templates.NONE
    )
    assert "LogicalResourceId" in loose.refused(
        "describe_stack_resource", "MissingParameter", 400, StackName="x"
    )


def test_invalid_parameter_combinations(watched: Watched) -> None:
    message = watched.refused(
        "create_stack",
        "InvalidParameterCombination",
        400,
        StackName="combo",
        TemplateBody=templates.NONE,
        DisableRollback=True,
        OnFailure="DELETE",
    )
    assert "DisableRollback" in message and "OnFailure" in message
    watched.refused(
        "create_stack",
        "ValidationError",
        400,
        StackName="combo",
        TemplateBody=templates.NONE,
        TemplateURL="http://127.0.0.1:1/x.yaml",
    )
    watched.refused("describe_stacks", "ValidationError", 400, StackName="combo")


def test_capabilities_and_tokens(watched: Watched) -> None:
    watched.refused(
        "create_stack",
        "InsufficientCapabilitiesException",
        400,
        StackName="iam",
        TemplateBody=templates.IAM,
    )
    watched.client.create_stack(
        StackName="tokened", TemplateBody=templates.NONE, ClientRequestToken="errors-token"
    )
    message = watched.refused(
        "create_stack",
        "TokenAlreadyExistsException",
        400,
        StackName="another",
        TemplateBody=templates.NONE,
        ClientRequestToken="errors-token",
    )
    assert "errors-token" in message
    watched.refused(
        "create_stack",
        "ValidationError",
        400,
        StackName="another",
        TemplateBody=templates.NONE,
        ClientRequestToken="not a token!",
    )
    wait_for(watched.client, "stack_create_complete", "tokened")


def test_wrong_secret_and_unknown_key(cfn_service: CfnService, key_pair: KeyPair) -> None:
    wrong = watch(cfn_service.client(replace(key_pair, secret=key_pair.secret[::-1])))
    wrong.refused("describe_stacks", "SignatureDoesNotMatch", 403)
    wrong.refused("create_stack", "SignatureDoesNotMatch", 403, StackName="no", TemplateBody="x")
    unknown = watch(cfn_service.client(replace(key_pair, access=uuid.uuid4().hex)))
    message = unknown.refused("list_stacks", "InvalidClientTokenId", 403)
    assert message == "The security token included in the request is invalid."


@pytest.mark.parametrize("skew", [timedelta(minutes=-20), timedelta(minutes=20)])
def test_a_clock_twenty_minutes_off_is_refused(
    cfn_service: CfnService, key_pair: KeyPair, monkeypatch: pytest.MonkeyPatch, skew: timedelta
) -> None:
    client = watch(cfn_service.client(key_pair))
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: datetime.now(UTC) + skew)
    message = client.refused("describe_stacks", "RequestExpired", 400)
    assert "15 min" in message
    monkeypatch.undo()
    # The same client with the right time is let in.
    assert "Stacks" in client.client.describe_stacks()


def test_incomplete_and_missing_signatures(cfn_service: CfnService, key_pair: KeyPair) -> None:
    endpoint = cfn_service.endpoint
    query = {"Action": "ListStacks", "Version": VERSION}

    def cut(headers: dict[str, str]) -> dict[str, str]:
        # The credential scope alone, no SignedHeaders or Signature.
        headers["Authorization"] = headers["Authorization"].split(",")[0]
        return headers

    answer = signed_post(endpoint, key_pair, query, mangle=cut)
    check_error_document(answer.status_code, answer.headers, answer.content, "IncompleteSignature")
    assert answer.status_code == 400

    unsigned = httpx.post(endpoint, data=query, timeout=30.0)
    check_error_document(
        unsigned.status_code, unsigned.headers, unsigned.content, "MissingAuthenticationToken"
    )
    assert unsigned.status_code == 403
    got = httpx.get(endpoint, params=query, timeout=30.0)
    check_error_document(got.status_code, got.headers, got.content, "MissingAuthenticationToken")

    # Signed well, the same request is answered.
    fine = signed_post(endpoint, key_pair, query)
    assert fine.status_code == 200, fine.text
    assert ET.fromstring(fine.content).tag == f"{NS}ListStacksResponse"


def test_unknown_and_missing_actions(cfn_service: CfnService, key_pair: KeyPair) -> None:
    answer = signed_post(cfn_service.endpoint, key_pair, {"Action": "Nope", "Version": VERSION})
    root = check_error_document(answer.status_code, answer.headers, answer.content, "InvalidAction")
    assert answer.status_code == 400
    assert "Nope" in (root.findtext(f"{NS}Error/{NS}Message") or "")
    answer = signed_post(cfn_service.endpoint, key_pair, {"Version": VERSION})
    check_error_document(answer.status_code, answer.headers, answer.content, "MissingAction")


def test_errors_in_json_when_asked(cfn_service: CfnService, key_pair: KeyPair) -> None:
    answer = signed_post(
        cfn_service.endpoint,
        key_pair,
        {
            "Action": "DescribeStacks",
            "Version": VERSION,
            "StackName": "nowhere",
            "ContentType": "JSON",
        },
    )
    assert answer.status_code == 400
    error = answer.json()["ErrorResponse"]
    assert error["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": "Stack with id nowhere does not exist",
    }
    assert error["RequestId"] == answer.headers["x-amzn-RequestId"]


def test_one_project_sees_nothing_of_another(cfn_service: CfnService) -> None:
    owner = cfn_service.client(cfn_service.key_pair("errors-owner", "owner"))
    stranger = watch(cfn_service.client(cfn_service.key_pair("errors-stranger", "stranger")))
    arn = owner.create_stack(StackName="private", TemplateBody=templates.NONE)["StackId"]
    wait_for(owner, "stack_create_complete", "private")
    stranger.client.create_stack(StackName="visible", TemplateBody=templates.NONE)
    wait_for(stranger.client, "stack_create_complete", "visible")

    for stack in ("private", arn):
        for operation, args in [
            ("describe_stacks", {}),
            ("describe_stack_events", {}),
            ("list_stack_resources", {}),
            ("get_template", {}),
            ("update_stack", {"UsePreviousTemplate": True}),
        ]:
            stranger.refused(operation, "ValidationError", 400, StackName=stack, **args)
        # As for any stack that is not there, a delete "succeeds" - and deletes nothing.
        stranger.client.delete_stack(StackName=stack)
    listed = stranger.client.list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in listed] == ["visible"]
    assert [s["StackName"] for s in stranger.client.describe_stacks()["Stacks"]] == ["visible"]
    assert described(owner, arn)["StackStatus"] == "CREATE_COMPLETE"
    assert "private" in [s["StackName"] for s in owner.list_stacks()["StackSummaries"]]
