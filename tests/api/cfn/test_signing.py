"""Signatures made by botocore (boto3's and the AWS CLI's signer) and by Heat's way of
pre-signing wait-condition URLs, read back as an ASGI server receives the request and
checked with the right key, a wrong key, and tampered or stale requests."""

from __future__ import annotations

import string
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember.api.cfn import faults
from ember.api.cfn.auth import SignedRequest
from ember.api.cfn.signing import signed_request, verify
from tests.api.helpers import need

botocore_auth = need("botocore.auth")
botocore_awsrequest = need("botocore.awsrequest")
botocore_credentials = need("botocore.credentials")

ACCESS = "0123456789abcdef0123456789abcdef"
SECRET = "fedcba9876543210fedcba9876543210"
ENDPOINT = "http://cfn.example.test:8000/v1/"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class Received:
    """A request as the ASGI server hands it over: what ``signed_request`` takes."""

    method: str
    host: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def signed(self, now: datetime | None = None) -> SignedRequest:
        return signed_request(
            self.method,
            self.host,
            self.path,
            self.query,
            self.form,
            self.headers,
            self.body,
            now or datetime.now(UTC),
        )


def received(prepared: Any) -> Received:
    """A prepared botocore request as it arrives: ``Host`` from the URL (with its port), the
    raw path, and a form body parsed only when it is one."""
    split = urllib.parse.urlsplit(prepared.url)
    headers = {name: _text(value) for name, value in prepared.headers.items()}
    headers.setdefault("Host", split.netloc)
    body = prepared.body or b""
    body = body.encode() if isinstance(body, str) else bytes(body)
    is_form = headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
    form = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True) if is_form else []
    return Received(
        prepared.method,
        headers["Host"],
        split.path or "/",
        urllib.parse.parse_qsl(split.query, keep_blank_values=True),
        form,
        headers,
        body,
    )


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def credentials(secret: str = SECRET, access: str = ACCESS) -> Any:
    return botocore_credentials.Credentials(access, secret)


def sigv4_auth(secret: str, access: str) -> Any:
    return botocore_auth.SigV4Auth(credentials(secret, access), "cloudformation", "RegionOne")


def sigv4_post(
    params: Mapping[str, str], secret: str = SECRET, url: str = ENDPOINT, access: str = ACCESS
) -> Received:
    request = botocore_awsrequest.AWSRequest(
        "POST", url, data=dict(params), headers={"Content-Type": FORM}
    )
    botocore_auth.SigV4Auth(credentials(secret, access), "cloudformation", "RegionOne").add_auth(
        request
    )
    return received(request.prepare())


def sigv4_get(
    params: Mapping[str, str], secret: str = SECRET, url: str = ENDPOINT, access: str = ACCESS
) -> Received:
    request = botocore_awsrequest.AWSRequest("GET", url, params=dict(params))
    botocore_auth.SigV4Auth(credentials(secret, access), "cloudformation", "RegionOne").add_auth(
        request
    )
    return received(request.prepare())


def presigned(
    params: Mapping[str, str], expires: int = 300, secret: str = SECRET, access: str = ACCESS
) -> Received:
    request = botocore_awsrequest.AWSRequest("GET", ENDPOINT, params=dict(params))
    signer = botocore_auth.SigV4QueryAuth(
        credentials(secret, access), "cloudformation", "RegionOne", expires=expires
    )
    signer.add_auth(request)
    return received(request.prepare())


def sigv2(
    method: str,
    params: Mapping[str, str],
    secret: str = SECRET,
    url: str = ENDPOINT,
    access: str = ACCESS,
) -> Received:
    if method == "POST":
        request = botocore_awsrequest.AWSRequest(
            "POST", url, data=dict(params), headers={"Content-Type": FORM}
        )
    else:
        request = botocore_awsrequest.AWSRequest(method, url, params=dict(params))
    botocore_auth.SigV2Auth(credentials(secret, access)).add_auth(request)
    return received(request.prepare())


def heat_signal_url(path: str, verb: str, timestamp: str | None) -> Received:
    """A wait-condition URL pre-signed the way Heat's engine signs one: Version 2 over the
    decoded path, with the ARN percent-encoded in the URL."""
    ec2_utils = need("keystoneclient.contrib.ec2.utils")
    params = {
        "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2",
        "AWSAccessKeyId": ACCESS,
    }
    if timestamp is not None:
        params["Timestamp"] = timestamp
    host = "cfn.example.test:8000"
    document = {"host": host, "verb": verb, "path": path, "params": dict(params)}
    params["Signature"] = ec2_utils.Ec2Signer(SECRET).generate(document)
    url_path = urllib.parse.quote(path, safe="/")
    return Received(verb, host, url_path, list(params.items()), [], {"Host": host}, b"")


def refused(error: type[faults.AwsError], request: Received, now: datetime | None = None) -> str:
    with pytest.raises(error) as caught:
        verify(request.signed(now), SECRET)
    return caught.value.message


DESCRIBE = {"Action": "DescribeStacks", "Version": "2010-05-15", "StackName": "web"}


# Signature Version 4, header -------------------------------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def boto3_request(call: str, **kwargs: Any) -> Received:
    """The request a boto3 CloudFormation client sends for ``call``, caught before it
    leaves (answered with an empty result)."""
    boto3 = need("boto3")
    client = boto3.client(
        "cloudformation",
        endpoint_url=ENDPOINT,
        region_name="RegionOne",
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
    )
    sent: list[Any] = []
    action = "".join(part.title() for part in call.split("_"))
    answer = f"<{action}Response><{action}Result/></{action}Response>".encode()

    def capture(request: Any, **_: Any) -> Any:
        sent.append(request)
        return botocore_awsrequest.AWSResponse(request.url, 200, {}, _Raw(answer))

    client.meta.events.register("before-send.cloudformation", capture)
    getattr(client, call)(**kwargs)
    return received(sent[0])


def test_boto3_client_request_verifies() -> None:
    request = boto3_request("describe_stacks", StackName="web")
    assert request.method == "POST"
    assert ("StackName", "web") in request.form
    signed = request.signed()
    assert signed.version == "4"
    verify(signed, SECRET)
    with pytest.raises(faults.SignatureDoesNotMatch):
        verify(signed, "w" * 32)


@pytest.mark.parametrize("sign", [sigv4_post, sigv4_get], ids=["POST form", "GET query"])
def test_sigv4_header_verifies_with_the_secret(sign: Any) -> None:
    request = sign(DESCRIBE)
    signed = request.signed()
    assert signed.version == "4"
    assert signed.access == ACCESS
    verify(signed, SECRET)
    doc = signed.credentials
    assert set(doc) == {
        "access",
        "signature",
        "host",
        "verb",
        "path",
        "params",
        "headers",
        "body_hash",
    }
    assert doc["host"] == "cfn.example.test:8000"
    assert doc["path"] == "/v1/"
    assert doc["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert doc["headers"]["X-Amz-Date"] == request.headers["X-Amz-Date"]


@pytest.mark.parametrize("sign", [sigv4_post, sigv4_get], ids=["POST form", "GET query"])
def test_sigv4_header_wrong_secret(sign: Any) -> None:
    message = refused(faults.SignatureDoesNotMatch, sign(DESCRIBE, secret="x" * 32))
    assert message.startswith("The request signature we calculated does not match")


def test_sigv4_post_tampered_body() -> None:
    request = sigv4_post(DESCRIBE)
    body = request.body.replace(b"StackName=web", b"StackName=db")
    assert body != request.body
    tampered = replace(request, body=body, form=urllib.parse.parse_qsl(body.decode()))
    refused(faults.SignatureDoesNotMatch, tampered)


def test_sigv4_get_tampered_parameter() -> None:
    request = sigv4_get(DESCRIBE)
    query = [(k, "db" if k == "StackName" else v) for k, v in request.query]
    refused(faults.SignatureDoesNotMatch, replace(request, query=query))
    added = replace(request, query=[*request.query, ("NextToken", "x")])
    refused(faults.SignatureDoesNotMatch, added)


def test_sigv4_tampered_signed_header() -> None:
    request = sigv4_post(DESCRIBE)
    headers = {**request.headers, "Host": "elsewhere.test:8000"}
    refused(faults.SignatureDoesNotMatch, replace(request, headers=headers))


def test_sigv4_other_path() -> None:
    request = sigv4_post(DESCRIBE)
    refused(faults.SignatureDoesNotMatch, replace(request, path="/v2/"))


def test_sigv4_percent_encoded_path() -> None:
    url = "http://cfn.example.test:8000/v1/a%3Ab/c%20d/"
    request = sigv4_post(DESCRIBE, url=url)
    assert request.path == "/v1/a%3Ab/c%20d/"
    verify(request.signed(), SECRET)


@pytest.mark.parametrize("minutes", [16, -16])
def test_sigv4_skewed_clock(minutes: int) -> None:
    request = sigv4_post(DESCRIBE)
    now = datetime.now(UTC) + timedelta(minutes=minutes)
    with pytest.raises(faults.RequestExpired) as caught:
        request.signed(now)
    assert caught.value.message.startswith(
        "Signature expired" if minutes > 0 else "Signature not yet current"
    )
    # Within the window the same request is good.
    verify(request.signed(datetime.now(UTC) + timedelta(minutes=minutes // 2)), SECRET)


# Signature Version 4, pre-signed ---------------------------------------------------------


def test_presigned_verifies() -> None:
    request = presigned(DESCRIBE)
    signed = request.signed()
    assert signed.version == "4"
    assert "X-Amz-Signature" not in signed.credentials["params"]
    assert signed.credentials["params"]["X-Amz-Expires"] == "300"
    verify(signed, SECRET)


def test_presigned_wrong_secret_and_tampered() -> None:
    refused(faults.SignatureDoesNotMatch, presigned(DESCRIBE, secret="y" * 32))
    request = presigned(DESCRIBE)
    query = [(k, "3600" if k == "X-Amz-Expires" else v) for k, v in request.query]
    refused(faults.SignatureDoesNotMatch, replace(request, query=query))


def test_presigned_expiry() -> None:
    request = presigned(DESCRIBE, expires=60)
    signed_at = datetime.strptime(dict(request.query)["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    signed_at = signed_at.replace(tzinfo=UTC)
    verify(request.signed(signed_at + timedelta(seconds=60)), SECRET)
    with pytest.raises(faults.RequestExpired):
        request.signed(signed_at + timedelta(seconds=61))
    with pytest.raises(faults.RequestExpired):
        request.signed(signed_at - timedelta(minutes=16))


def test_presigned_longer_than_a_week() -> None:
    request = presigned(DESCRIBE, expires=7 * 24 * 3600 + 1)
    with pytest.raises(faults.InvalidParameterValue) as caught:
        request.signed()
    assert "X-Amz-Expires" in caught.value.message


def test_presigned_missing_part() -> None:
    request = presigned(DESCRIBE)
    query = [(k, v) for k, v in request.query if k != "X-Amz-Signature"]
    with pytest.raises(faults.IncompleteSignature) as caught:
        replace(request, query=query).signed()
    assert "X-Amz-Signature" in caught.value.message


# Signature Version 2 ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sigv2_verifies(method: str) -> None:
    request = sigv2(method, DESCRIBE)
    signed = request.signed()
    assert signed.version == "2"
    assert signed.access == ACCESS
    assert "Signature" not in signed.credentials["params"]
    assert signed.credentials["params"]["StackName"] == "web"
    verify(signed, SECRET)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sigv2_wrong_secret_and_tampered(method: str) -> None:
    refused(faults.SignatureDoesNotMatch, sigv2(method, DESCRIBE, secret="z" * 32))
    request = sigv2(method, DESCRIBE)
    if method == "POST":
        form = [(k, "db" if k == "StackName" else v) for k, v in request.form]
        tampered = replace(request, form=form)
    else:
        query = [(k, "db" if k == "StackName" else v) for k, v in request.query]
        tampered = replace(request, query=query)
    refused(faults.SignatureDoesNotMatch, tampered)
    other = "GET" if method == "POST" else "DELETE"
    refused(
        faults.SignatureDoesNotMatch,
        replace(request, method=other, query=request.query + request.form),
    )


@pytest.mark.parametrize("minutes", [16, -16])
def test_sigv2_stale_timestamp(minutes: int) -> None:
    request = sigv2("GET", DESCRIBE)
    with pytest.raises(faults.RequestExpired):
        request.signed(datetime.now(UTC) + timedelta(minutes=minutes))


def test_sigv2_expires() -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    params = {
        **DESCRIBE,
        "AWSAccessKeyId": ACCESS,
        "SignatureVersion": "2",
        "SignatureMethod": "HmacSHA256",
        "Expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    ec2_utils = need("keystoneclient.contrib.ec2.utils")
    document = {"host": "cfn.example.test:8000", "verb": "GET", "path": "/v1/"}
    params["Signature"] = ec2_utils.Ec2Signer(SECRET).generate({**document, "params": dict(params)})
    request = Received("GET", "cfn.example.test:8000", "/v1/", list(params.items()), [], {}, b"")
    verify(request.signed(expires - timedelta(minutes=50)), SECRET)
    with pytest.raises(faults.RequestExpired):
        request.signed(expires + timedelta(seconds=1))
    both = replace(request, query=[*request.query, ("Timestamp", "2020-01-01T00:00:00Z")])
    with pytest.raises(faults.InvalidParameterCombination):
        both.signed()


@pytest.mark.parametrize(("verb", "kind"), [("PUT", "waitcondition"), ("POST", "signal")])
def test_heat_signal_url_never_expires(verb: str, kind: str) -> None:
    path = f"/v1/{kind}/arn:openstack:heat::demo:stacks/web/1234/resources/handle"
    request = heat_signal_url(path, verb, timestamp=None)
    assert "%3A" in request.path
    verify(request.signed(datetime.now(UTC) + timedelta(days=400)), SECRET)
    refused(faults.SignatureDoesNotMatch, replace(request, path=request.path + "x"))


def test_heat_signal_url_with_timestamp() -> None:
    path = "/v1/waitcondition/arn:openstack:heat::demo:stacks/web/1234/resources/handle"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    request = heat_signal_url(path, "PUT", timestamp=stamp)
    verify(request.signed(), SECRET)
    with pytest.raises(faults.RequestExpired):
        request.signed(datetime.now(UTC) + timedelta(hours=1))


def test_bare_host_signature_accepted_like_keystone() -> None:
    """A client that signs the host without its port (old boto) still verifies."""
    request = sigv2("GET", DESCRIBE, url="http://cfn.example.test/v1/")
    verify(replace(request, host="cfn.example.test:8000").signed(), SECRET)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"SignatureVersion": "1"}, faults.InvalidParameterValue, "SignatureVersion"),
        ({"SignatureVersion": "0"}, faults.InvalidParameterValue, "SignatureVersion"),
        ({"SignatureMethod": "HmacSHA1"}, faults.InvalidParameterValue, "SignatureMethod"),
        ({"SignatureVersion": None}, faults.MissingParameter, "SignatureVersion"),
        ({"Signature": None}, faults.IncompleteSignature, "signature"),
        ({"Timestamp": "yesterday"}, faults.InvalidParameterValue, "Timestamp"),
    ],
)
def test_sigv2_malformed(
    changes: dict[str, str | None], error: type[Exception], words: str
) -> None:
    request = sigv2("GET", DESCRIBE)
    query = dict(request.query)
    for name, value in changes.items():
        if value is None:
            query.pop(name)
        else:
            query[name] = value
    with pytest.raises(error) as caught:
        replace(request, query=list(query.items())).signed()
    assert words in str(caught.value)


# Unsigned and half-signed ----------------------------------------------------------------


def test_unsigned() -> None:
    request = Received("POST", "h:8000", "/v1/", [], list(DESCRIBE.items()), {}, b"")
    with pytest.raises(faults.MissingAuthenticationToken) as caught:
        request.signed()
    assert caught.value.message == "Request is missing Authentication Token"
    assert caught.value.status == 403


def test_signature_without_key() -> None:
    request = sigv2("GET", DESCRIBE)
    query = [(k, v) for k, v in request.query if k != "AWSAccessKeyId"]
    with pytest.raises(faults.MissingAuthenticationToken):
        replace(request, query=query).signed()


@pytest.mark.parametrize(
    ("authorization", "words"),
    [
        (
            "AWS4-HMAC-SHA256 Credential={access}/{day}/RegionOne/cloudformation/aws4_request, "
            "SignedHeaders=host;x-amz-date",
            "requires 'Signature'",
        ),
        ("AWS4-HMAC-SHA256 Signature=abc", "requires 'Credential'"),
        (
            "AWS4-HMAC-SHA256 Credential={access}/{day}/RegionOne, SignedHeaders=host, "
            "Signature=abc",
            "5 slash-delimited",
        ),
        ("AWS4-HMAC-SHA512 Credential=x, SignedHeaders=host, Signature=abc", "algorithm"),
    ],
)
def test_half_signed_header(authorization: str, words: str) -> None:
    request = sigv4_post(DESCRIBE)
    day = request.headers["X-Amz-Date"][:8]
    headers = {**request.headers, "Authorization": authorization.format(access=ACCESS, day=day)}
    with pytest.raises(faults.IncompleteSignature) as caught:
        replace(request, headers=headers).signed()
    assert words in caught.value.message
    assert caught.value.status == 400


def test_header_without_date() -> None:
    request = sigv4_post(DESCRIBE)
    headers = {k: v for k, v in request.headers.items() if k != "X-Amz-Date"}
    with pytest.raises(faults.IncompleteSignature) as caught:
        replace(request, headers=headers).signed()
    assert "X-Amz-Date" in caught.value.message


def test_scope_date_mismatch() -> None:
    request = sigv4_post(DESCRIBE)
    day = request.headers["X-Amz-Date"][:8]
    authorization = request.headers["Authorization"].replace(f"/{day}/", "/19990101/")
    headers = {**request.headers, "Authorization": authorization}
    with pytest.raises(faults.SignatureDoesNotMatch) as caught:
        replace(request, headers=headers).signed()
    assert "Credential scope" in caught.value.message


def test_verify_never_raises_anything_else() -> None:
    """What Ec2Signer cannot sign is a signature that does not match."""
    signed = sigv4_post(DESCRIBE).signed()
    for broken in (
        {**signed.credentials, "headers": {**signed.credentials["headers"], "X-Amz-Date": "x"}},
        {k: v for k, v in signed.credentials.items() if k != "body_hash"},
        {**signed.credentials, "headers": {}, "params": {}},
        {**signed.credentials, "headers": {}, "params": {"SignatureVersion": "3"}},
    ):
        with pytest.raises(faults.SignatureDoesNotMatch):
            verify(replace(signed, credentials=broken), SECRET)
    with pytest.raises(faults.SignatureDoesNotMatch):
        verify(replace(signed, signature="é" * 64), SECRET)


# Random parameter sets -------------------------------------------------------------------

# Query API parameter names are ASCII (Ec2Signer, like Keystone, sorts names before
# encoding them, which orders only ASCII names as AWS does); values may be any text.
names = st.text(
    st.sampled_from(string.ascii_letters + string.digits + ".-_~"),
    min_size=1,
    max_size=20,
).filter(lambda n: n not in ("Signature", "AWSAccessKeyId") and not n.startswith("X-Amz"))
values = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")),
    max_size=40,
)
param_sets = st.dictionaries(names, values, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=param_sets, which=st.sampled_from(["v4 POST", "v4 GET", "v2 GET", "v2 POST"]))
def test_random_parameters(params: dict[str, str], which: str) -> None:
    sign = {
        "v4 POST": sigv4_post,
        "v4 GET": sigv4_get,
        "v2 GET": lambda p: sigv2("GET", p),
        "v2 POST": lambda p: sigv2("POST", p),
    }[which]
    params = {"Action": "ListStacks", **params}
    request = sign(params)
    verify(request.signed(), SECRET)
    # Any changed value breaks it.
    field = "form" if request.form else "query"
    pairs = getattr(request, field)
    changed = [(k, v + "!" if k == "Action" else v) for k, v in pairs]
    body = request.body
    if field == "form":
        body = urllib.parse.urlencode(changed).encode()
    tampered = replace(request, **{field: changed}, body=body)
    with pytest.raises(faults.SignatureDoesNotMatch):
        verify(tampered.signed(), SECRET)
