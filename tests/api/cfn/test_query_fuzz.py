"""Generated and mutated Query API requests sent to a running heat-all's CloudFormation
listener: signed with botocore's SigV4 over the mutated parameters (so they reach the
actions), and unsigned or garbled ones (bad percent-encodings, invalid UTF-8, repeated,
oversized, odd member indexes).

Whatever is sent, the answer comes within ``TIMEOUT`` and is never a 5xx; a 200 is the
action's ``<Action>Response`` (JSON with ``ContentType=JSON``), anything else an
``ErrorResponse`` with a ``Code``; and ``/healthcheck`` still answers 200 afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import hypothesis
import pytest
from hypothesis import strategies as st

from ember.api.cfn import paging
from tests.api import raw_http
from tests.api.conftest import HeatServer, free_port, start_heat_all, stop_heat_all, write_heat_conf
from tests.api.helpers import need, wait_until

httpx = need("httpx")
botocore_auth = need("botocore.auth")
botocore_awsrequest = need("botocore.awsrequest")
botocore_credentials = need("botocore.credentials")

# An answer later than this is a hang.
TIMEOUT = 30.0
# Small limits, so that requests past them stay cheap to build and send.
MAX_TEMPLATE = 16_384
MAX_BODY = 65_536
NS = "{http://cloudformation.amazonaws.com/doc/2010-05-15/}"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
SETTINGS = hypothesis.settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)

ACTIONS = (
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "CancelUpdateStack",
    "DescribeStacks",
    "ListStacks",
    "DescribeStackEvents",
    "DescribeStackResource",
    "DescribeStackResources",
    "ListStackResources",
    "GetTemplate",
    "ValidateTemplate",
    "GetTemplateSummary",
    "EstimateTemplateCost",
)
# Actions that change stacks: never pointed at KEPT, so the others keep finding it.
CHANGING = ("CreateStack", "UpdateStack", "DeleteStack", "CancelUpdateStack")
KEPT = "fuzz-kept"
SPARE = "fuzz-spare"
TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: fuzzed
Parameters:
  Word: {Type: String, Default: hi, AllowedValues: [hi, ho]}
Resources:
  R: {Type: OS::Heat::None}
Outputs:
  W: {Value: {Ref: Word}}
"""
HOT = "heat_template_version: 2018-08-31\nresources: {n: {type: OS::Heat::None}}\n"
SCALARS = (
    "StackName",
    "TemplateBody",
    "TemplateURL",
    "UsePreviousTemplate",
    "DisableRollback",
    "OnFailure",
    "TimeoutInMinutes",
    "ClientRequestToken",
    "NextToken",
    "LogicalResourceId",
    "PhysicalResourceId",
    "TemplateStage",
    "EnableTerminationProtection",
    "StackPolicyBody",
    "RoleARN",
    "ContentType",
    "Version",
)
LISTS = {
    "Parameters": ("ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue", "Bogus"),
    "Tags": ("Key", "Value", "Bogus"),
    "Capabilities": (None, "Bogus"),
    "StackStatusFilter": (None,),
    "NotificationARNs": (None,),
}
ODD_INDEXES = ("0", "-1", "01", "99999", "1000", "1001", "abc", "", "1.5", "+1", " 1", "1e3")


@dataclass
class Cfn:
    """The service, the key pair requests are signed with, and the answers seen."""

    server: HeatServer
    url: str
    access: str
    secret: str
    client: Any
    arn: str
    codes: Counter[str] = field(default_factory=Counter)

    def sign(self, method: str, pairs: Sequence[tuple[str, str]] | bytes) -> Any:
        """A prepared botocore request signed with SigV4 over exactly ``pairs`` (or a body
        of those bytes), as boto3 signs: params in the URL for GET, a form body for POST."""
        if method == "GET":
            assert not isinstance(pairs, bytes)
            request = botocore_awsrequest.AWSRequest("GET", self.url, params=list(pairs))
        else:
            body = pairs if isinstance(pairs, bytes) else encode(pairs).encode("ascii")
            request = botocore_awsrequest.AWSRequest(
                "POST", self.url, data=body, headers={"Content-Type": FORM}
            )
        credentials = botocore_credentials.Credentials(self.access, self.secret)
        botocore_auth.SigV4Auth(credentials, "cloudformation", "RegionOne").add_auth(request)
        return request.prepare()

    def send_signed(self, method: str, pairs: Sequence[tuple[str, str]] | bytes) -> Any:
        prepared = self.sign(method, pairs)
        return self.client.request(
            prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body
        )

    def healthy(self) -> None:
        assert self.client.get(f"{self.server.url}/healthcheck").status_code == 200
        answer = self.client.get(f"{base(self)}/healthcheck", timeout=5.0)
        assert answer.status_code == 200, answer.text


def base(cfn: Cfn) -> str:
    return cfn.url.removesuffix("/v1/")


def encode(pairs: Sequence[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(list(pairs), quote_via=urllib.parse.quote)


def key_pair(conf: Path, workdir: Path) -> dict[str, str]:
    command = [sys.executable, "-m", "ember.cmd.manage", "--config-file", str(conf)]
    command += ["ec2-credentials", "create", "--project", "fuzz", "--user", "fuzzer"]
    done = subprocess.run(
        [*command, "--format", "json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    made: dict[str, str] = json.loads(done.stdout)
    return made


@pytest.fixture(scope="module")
def cfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cfn]:
    workdir = tmp_path_factory.mktemp("heat-all-cfn-fuzz")
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(
        workdir,
        port,
        default=f"max_template_size = {MAX_TEMPLATE}\nmax_json_body_size = {MAX_BODY}\n",
        cfn_port=cfn_port,
    )
    server = start_heat_all(workdir, conf, port)
    try:
        keys = key_pair(conf, workdir)
        with httpx.Client(timeout=TIMEOUT) as client:
            url = f"http://127.0.0.1:{cfn_port}/v1/"
            wait_until(
                lambda: client.get(f"http://127.0.0.1:{cfn_port}/healthcheck").status_code,
                lambda status: status == 200,
                what="the CloudFormation listener",
            )
            made = Cfn(server, url, keys["access"], keys["secret"], client, "")
            for name in (KEPT, SPARE):
                answer = made.send_signed(
                    "POST",
                    [("Action", "CreateStack"), ("StackName", name), ("TemplateBody", TEMPLATE)],
                )
                assert answer.status_code == 200, answer.text
            made.arn = (
                ET.fromstring(
                    made.send_signed(
                        "POST", [("Action", "DescribeStacks"), ("StackName", KEPT)]
                    ).content
                ).findtext(f".//{NS}StackId")
                or ""
            )
            assert made.arn.startswith("arn:openstack:heat::fuzz:stacks/fuzz-kept/")
            wait_until(
                lambda: (
                    made.send_signed(
                        "POST", [("Action", "DescribeStacks"), ("StackName", KEPT)]
                    ).text
                ),
                lambda text: "CREATE_COMPLETE" in text,
                what="the stack to be created",
            )
            yield made
    finally:
        stop_heat_all(server)


def check(cfn: Cfn, answer: Any, action: str | None, as_json: bool) -> str:
    """The answer's error code (``OK`` for a 200), once it is checked to be well formed."""
    status = answer.status_code
    assert status < 500, f"{status}: {answer.text[:2000]}"
    kind = answer.headers.get("content-type", "")
    if status == 200:
        assert action in ACTIONS, answer.text[:500]
        if as_json:
            assert kind.startswith("application/json"), kind
            doc = json.loads(answer.content)
            assert doc[f"{action}Response"]["ResponseMetadata"]["RequestId"]
        else:
            assert kind.startswith("text/xml"), kind
            root = ET.fromstring(answer.content)
            assert root.tag == f"{NS}{action}Response", root.tag
            assert root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
        cfn.codes["OK"] += 1
        return "OK"
    assert 400 <= status < 500, status
    assert answer.headers.get("x-amzn-requestid"), answer.headers
    if kind.startswith("application/json"):
        error = json.loads(answer.content)["ErrorResponse"]["Error"]
        code = str(error["Code"])
        assert error["Type"] == "Sender" and error["Message"], error
    else:
        assert kind.startswith("text/xml"), (kind, answer.text[:500])
        root = ET.fromstring(answer.content)
        assert root.tag == f"{NS}ErrorResponse", root.tag
        code = root.findtext(f"{NS}Error/{NS}Code") or ""
        assert root.findtext(f"{NS}Error/{NS}Type") == "Sender"
    assert code, answer.text[:500]
    cfn.codes[code] += 1
    return code


# Strategies --------------------------------------------------------------------------------


def tokens(arn: str) -> st.SearchStrategy[str]:
    actions = st.sampled_from(
        ("DescribeStacks", "ListStacks", "DescribeStackEvents", "ListStackResources", "Bogus")
    )
    scopes = st.sampled_from(("", KEPT, arn, "CREATE_COMPLETE"))
    markers = st.one_of(
        st.text(max_size=20), st.sampled_from(("R", "00000000-0000-0000-0000-000000000000"))
    )
    return st.one_of(
        st.builds(paging.token, actions, scopes, markers),
        st.sampled_from(("", "!!!", "e30=", "bnVsbA==", "W10=", "x" * 2000)),
    )


def values(arn: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            (
                "",
                "true",
                "false",
                "TRUE",
                "0",
                "1",
                "-1",
                "99999999999",
                "JSON",
                "XML",
                "DO_NOTHING",
                "ROLLBACK",
                "CREATE_COMPLETE",
                "CAPABILITY_IAM",
                "Original",
                "Processed",
                "Word",
                "hi",
                "R",
                KEPT,
                SPARE,
                arn,
                arn.replace("fuzz-kept", "nothing"),
                "arn:openstack:heat::other:stacks/x/y",
                TEMPLATE,
                HOT,
                "{",
                "foo: [",
                "[]",
                "null",
                "Resources: {R: {Type: No::Such::Type}}",
                "http://127.0.0.1:1/t.yaml",
                "file:///etc/passwd",
                "\x00\x01\x7f",
                "\ufffe\uffff",
                "x" * 300,
            )
        ),
        st.integers().map(str),
        tokens(arn),
    )


def names(odd: bool) -> st.SearchStrategy[str]:
    """Parameter names: those the actions read (``odd``: also malformed ones)."""
    good_index = st.integers(1, 3).map(str)
    index = st.one_of(st.integers(1, 12).map(str), st.sampled_from(ODD_INDEXES))

    @st.composite
    def member(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(sorted(LISTS)))
        fields = LISTS[name] if odd else [f for f in LISTS[name] if f != "Bogus"]
        entry = draw(st.sampled_from(fields))
        text = f"{name}.member.{draw(index if odd else good_index)}"
        return text if entry is None else f"{text}.{entry}"

    plain = st.one_of(st.sampled_from(SCALARS), member())
    if not odd:
        return plain
    plain = st.one_of(plain, st.just("Action"))
    malformed = st.sampled_from(
        ("Parameters.member", "Parameters.member.1.", "Parameters..1", "parameters.member.1", "")
    )
    return st.one_of(plain, malformed, st.text(min_size=1, max_size=12))


@st.composite
def queries(draw: st.DrawFn, arn: str) -> tuple[str, list[tuple[str, str]], bool]:
    """(method, parameters, whether a JSON answer was asked for): mostly well-formed
    requests to a real action with generated values, some with malformed names, a repeated
    name or no (or a wrong) action."""
    odd = draw(st.integers(0, 3)) == 0
    actions = st.sampled_from(ACTIONS)
    if odd:
        actions = st.one_of(actions, st.sampled_from(("", "Bogus", "createstack")))
    action = draw(actions)
    pairs = [("Action", action)] if action or draw(st.booleans()) else []
    if draw(st.booleans()):
        pairs.append(("Version", "2010-05-15"))
    value = values(arn)
    if draw(st.booleans()):
        known = st.sampled_from((KEPT, SPARE, arn))
        pairs.append(("StackName", draw(known) if draw(st.booleans()) else draw(value)))
    templated = ("CreateStack", "UpdateStack", "ValidateTemplate", "GetTemplateSummary")
    if action in templated and draw(st.booleans()):
        pairs.append(("TemplateBody", draw(st.sampled_from((TEMPLATE, HOT)))))
    for _ in range(draw(st.integers(0, 6))):
        name = draw(names(odd))
        if odd or name not in dict(pairs):
            pairs.append((name, draw(value)))
    as_json = draw(st.booleans())
    if as_json:
        pairs.append(("ContentType", "JSON"))
    if odd and pairs and draw(st.booleans()):
        name, given = draw(st.sampled_from(pairs))
        pairs.append((name, given + "-again" if draw(st.booleans()) else given))
    pairs = draw(st.permutations(pairs))
    if action in CHANGING:
        # Point changes elsewhere: KEPT must stay for the describing actions.
        pairs = [(n, SPARE if v in (KEPT, arn) else v) for n, v in pairs]
    return draw(st.sampled_from(("GET", "POST"))), pairs, as_json


def wanted(pairs: Sequence[tuple[str, str]]) -> tuple[str | None, bool]:
    """The action a request names and whether its answer must be JSON (both only when the
    request gives them once)."""
    given: dict[str, set[str]] = {}
    for name, value in pairs:
        given.setdefault(name, set()).add(value)
    action = given.get("Action", set())
    content = given.get("ContentType", set())
    return (next(iter(action)) if len(action) == 1 else None, content == {"JSON"})


PLAIN = re.compile(r"^[A-Za-z0-9._~-]*$")


def comparable(method: str, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether the service must find a request's signature right: botocore and Ec2Signer
    (hence Keystone) agree on the canonical query unless a GET repeats a pair (Ec2Signer
    signs a map) or a name holds characters that are percent-encoded (botocore sorts the
    encoded names, Ec2Signer the decoded ones)."""
    if method == "POST":
        return True
    return len(set(pairs)) == len(pairs) and all(PLAIN.match(name) for name, _ in pairs)


# Tests -------------------------------------------------------------------------------------


def test_signed_generated_requests(cfn: Cfn) -> None:
    """Signed requests with generated parameters reach the actions: their signatures always
    verify, and every answer is well formed."""
    before = Counter(cfn.codes)

    @SETTINGS
    @hypothesis.given(data=st.data())
    def run(data: st.DataObject) -> None:
        method, pairs, _ = data.draw(queries(cfn.arn))
        if method == "GET" and len(encode(pairs)) > 6000:
            method = "POST"
        action, as_json = wanted(pairs)
        code = check(cfn, cfn.send_signed(method, pairs), action, as_json)
        if comparable(method, pairs):
            assert code not in ("SignatureDoesNotMatch", "IncompleteSignature"), pairs

    run()
    seen = cfn.codes - before
    # The generated requests got past the signature to the actions, both ways.
    assert seen["OK"] >= 20, seen
    assert seen["ValidationError"] >= 20, seen
    assert seen["InvalidQueryParameter"] >= 5, seen
    cfn.healthy()


GARBAGE = (
    "%",
    "%G1",
    "%ZZ",
    "%C3%28",
    "%FF%FE",
    "%ED%A0%80",
    "%C0%AF",
    "%E2%82",
    "%00",
    "&&&",
    "==",
    "=",
    ";",
    "+",
    "%26",
    "%3D",
    "a=b=c",
    "Action",
    "Action=",
    "Action=DescribeStacks",
    "Action=ListStacks",
    "Action=ValidateTemplate",
    "ContentType=JSON",
    "StackName=" + KEPT,
    "Parameters.member.1.ParameterKey=%FF",
    "Parameters.member.0.ParameterKey=a",
    "Parameters.member.-1.ParameterKey=a",
    "Parameters.member.01.ParameterKey=a",
    "Parameters.member.99999.ParameterKey=a",
    "Parameters.member.x.ParameterKey=a",
    "Parameters.member.1.Bogus=a",
    "X-Amz-Date=20200101T000000Z",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    "X-Amz-Signature=00",
    "X-Amz-Credential=a%2F20200101%2FRegionOne%2Fcloudformation%2Faws4_request",
    "SignatureVersion=2",
    "SignatureMethod=HmacSHA256",
    "AWSAccessKeyId=nobody",
    "Signature=%2B%2F%3D",
    "Timestamp=2020-01-01T00%3A00%3A00Z",
)
# What a request target may carry as it is (no '#', which would start a fragment).
URL_TEXT = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#")
HEADERS: tuple[dict[str, str], ...] = (
    {},
    {"Authorization": "AWS4-HMAC-SHA256"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=%FF, SignedHeaders=, Signature="},
    {"Authorization": "Bearer x"},
    {"X-Amz-Date": "not a date"},
)


@st.composite
def garbled(draw: st.DrawFn) -> tuple[str, bytes, bytes, dict[str, str]]:
    """(method, query string, body, headers) put together from pieces that are each odd."""
    piece = st.one_of(st.sampled_from(GARBAGE), st.text(URL_TEXT, max_size=12))
    query = "&".join(draw(st.lists(piece, max_size=8))).encode("ascii")
    body = "&".join(draw(st.lists(piece, max_size=8))).encode("ascii")
    if draw(st.integers(0, 4)) == 0:
        body += draw(st.binary(max_size=16))
    headers = dict(draw(st.sampled_from(HEADERS)))
    method = draw(st.sampled_from(("GET", "POST", "POST", "HEAD")))
    if method == "POST":
        headers["Content-Type"] = FORM
    return method, query, body if method == "POST" else b"", headers


def test_unsigned_and_garbled_requests(cfn: Cfn) -> None:
    """Requests no SDK would send, unsigned or half signed: always a well-formed refusal."""
    before = Counter(cfn.codes)

    @SETTINGS
    @hypothesis.given(request=garbled())
    def run(request: tuple[str, bytes, bytes, dict[str, str]]) -> None:
        method, query, body, headers = request
        url = httpx.URL(cfn.url).copy_with(query=query) if query else cfn.url
        answer = cfn.client.request(method, url, content=body, headers=headers)
        if method == "HEAD":
            assert answer.status_code < 500, answer.status_code
            return
        assert check(cfn, answer, None, False) != "OK"

    run()
    seen = cfn.codes - before
    assert seen["MalformedQueryString"] >= 5, seen
    assert seen["MissingAuthenticationToken"] >= 5, seen
    cfn.healthy()


def padded(size: int) -> str:
    """TEMPLATE with a comment after it, ``size`` bytes in all."""
    return TEMPLATE + "#" + "x" * (size - len(TEMPLATE) - 2) + "\n"


@pytest.mark.parametrize(
    ("size", "code"),
    [
        (MAX_TEMPLATE - 1, "OK"),
        (MAX_TEMPLATE, "OK"),
        (MAX_TEMPLATE + 1, "ValidationError"),
        (MAX_BODY // 2, "ValidationError"),
    ],
)
@pytest.mark.parametrize("action", ["ValidateTemplate", "CreateStack", "GetTemplateSummary"])
def test_template_size_bound(cfn: Cfn, size: int, code: str, action: str) -> None:
    """A template of up to max_template_size bytes is taken, one byte more is refused."""
    body = padded(size)
    assert len(body.encode()) == size
    pairs = [("Action", action), ("TemplateBody", body)]
    if action == "CreateStack":
        pairs += [("StackName", f"sized-{size}"), ("ClientRequestToken", f"t{size}")]
    got = check(cfn, cfn.send_signed("POST", pairs), action, False)
    assert got == code


@pytest.mark.parametrize(
    ("count", "code"),
    [(1000, "ValidationError"), (1001, "MalformedQueryString"), (2000, "MalformedQueryString")],
)
def test_parameter_count_bound(cfn: Cfn, count: int, code: str) -> None:
    """At most 1000 fields; 1000 pass the parser, and the action refuses so many tags."""
    pairs = [("Action", "CreateStack"), ("StackName", "counted"), ("TemplateBody", HOT)]
    pairs += [(f"Tags.member.{i}.Key", f"k{i}") for i in range(1, count - len(pairs) + 1)]
    assert len(pairs) == count
    assert check(cfn, cfn.send_signed("POST", pairs), "CreateStack", False) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Action=DescribeStacks&Action=ListStacks", "InvalidQueryParameter"),
        ("Action=ListStacks&Action=ListStacks", "MissingAuthenticationToken"),
        ("Action=ListStacks&StackName=%FF", "MalformedQueryString"),
        ("Action=ListStacks&StackName=%C3%28", "MalformedQueryString"),
        ("Action=ListStacks&StackName=%ED%A0%80", "MalformedQueryString"),
        ("Action=ListStacks&StackName=%", "MissingAuthenticationToken"),
        ("Action=ListStacks&StackName=%G1", "MissingAuthenticationToken"),
        ("Action=ListStacks&Stack%00Name=x", "InvalidQueryParameter"),
        # Unsigned, a request learns nothing of the actions: missing or unknown, it is
        # refused for its missing signature.
        ("ContentType=JSON", "MissingAuthenticationToken"),
        ("Action=Bogus", "MissingAuthenticationToken"),
        ("Action=" + "A" * 5000, "MissingAuthenticationToken"),
        ("&".join(f"p{i}=v" for i in range(1001)), "MalformedQueryString"),
    ],
)
def test_query_edges_unsigned(cfn: Cfn, query: str, code: str) -> None:
    """Each query is refused for what is wrong with its parameters, else for its missing
    signature."""
    answer = cfn.client.get(httpx.URL(cfn.url).copy_with(query=query.encode()))
    assert check(cfn, answer, None, False) == code


def test_repeated_between_query_and_body(cfn: Cfn) -> None:
    """A name in the query string and the signed body with different values is refused."""
    prepared = cfn.sign("POST", [("Action", "DescribeStacks"), ("StackName", KEPT)])
    answer = cfn.client.post(
        prepared.url + "?StackName=other", headers=dict(prepared.headers), content=prepared.body
    )
    assert check(cfn, answer, None, False) == "InvalidQueryParameter"


def test_signed_invalid_utf8_body(cfn: Cfn) -> None:
    """A signed body that is not UTF-8 once decoded is a MalformedQueryString."""
    body = b"Action=DescribeStacks&StackName=%FF%FE"
    assert check(cfn, cfn.send_signed("POST", body), None, False) == "MalformedQueryString"
    raw = b"Action=DescribeStacks&StackName=\xff\xfe"
    assert check(cfn, cfn.send_signed("POST", raw), None, False) == "MalformedQueryString"


def test_member_indexes(cfn: Cfn) -> None:
    """Gaps are allowed; zero, signs, leading zeros, past 1000 and non-numbers are not."""
    start = [("Action", "CreateStack"), ("StackName", "indexed"), ("TemplateBody", TEMPLATE)]
    ok = [("Action", "ListStacks"), ("StackStatusFilter.member.1", "CREATE_COMPLETE")]
    ok.append(("StackStatusFilter.member.7", "DELETE_COMPLETE"))
    assert check(cfn, cfn.send_signed("POST", ok), "ListStacks", False) == "OK"
    for index in ("0", "-1", "01", "1001", "99999", "x", "", "1.5"):
        pairs = [*start, (f"Parameters.member.{index}.ParameterKey", "a")]
        assert check(cfn, cfn.send_signed("POST", pairs), None, False) == "InvalidQueryParameter"
    bogus = [
        ("Action", "CreateStack"),
        ("StackName", "bogus"),
        ("TemplateBody", TEMPLATE),
        ("Parameters.member.1.Bogus", "a"),
    ]
    assert check(cfn, cfn.send_signed("POST", bogus), None, False) == "InvalidQueryParameter"


def test_body_past_max_json_body_size(cfn: Cfn) -> None:
    """A body over max_json_body_size is refused at once, whether its length is declared
    or it comes chunked, signed or not."""
    big = b"Action=ValidateTemplate&TemplateBody=" + b"x" * MAX_BODY
    for content in (big, iter([big[i : i + 8192] for i in range(0, len(big), 8192)])):
        started = time.monotonic()
        answer = cfn.client.post(cfn.url, content=content, headers={"Content-Type": FORM})
        assert time.monotonic() - started < 5.0
        assert check(cfn, answer, None, False) == "RequestEntityTooLarge"
        assert answer.status_code == 413
    signed = cfn.send_signed("POST", big)
    assert signed.status_code == 413
    cfn.healthy()


@pytest.mark.parametrize(
    "kind", ["application/json", "text/plain", "multipart/form-data; boundary=x", "x"]
)
def test_post_not_a_form(cfn: Cfn, kind: str) -> None:
    """A POST whose body is not a form is a 400, signed or not."""
    answer = cfn.client.post(
        cfn.url, content=b'{"Action": "ListStacks"}', headers={"Content-Type": kind}
    )
    assert answer.status_code == 400
    assert check(cfn, answer, None, False) == "MalformedQueryString"


def test_get_past_the_request_line_limit(cfn: Cfn) -> None:
    """A query string longer than max_json_body_size is refused (4xx), and the service
    goes on."""
    port = httpx.URL(cfn.url).port
    target = "/v1/?Action=ValidateTemplate&TemplateBody=" + "x" * MAX_BODY
    answer = raw_http.get(port, target)
    assert 400 <= answer.status < 500, answer
    cfn.healthy()
