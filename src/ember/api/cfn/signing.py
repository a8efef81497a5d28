"""AWS request signatures: what a CloudFormation request was signed with, and whether a
secret key made that signature.

Three forms are read: Signature Version 4 in the ``Authorization`` header (boto3, the AWS
CLI), Signature Version 4 pre-signed in the query string (``X-Amz-*``), and Signature
Version 2 in the query string or a POSTed form (pre-signed wait-condition and signal URLs,
old SDKs). ``signed_request`` refuses a request that is unsigned, half signed or out of
date before anything is looked up; ``verify`` recomputes the signature with
keystoneclient's ``Ec2Signer``, the implementation Keystone's ``/v3/ec2tokens`` uses, on
the same ``credentials`` document that is posted there, so both checks agree.

``path`` is the request's path as sent (still percent-encoded, ASGI's ``raw_path``).
Signature Version 4 signs it URI-encoded once more, as AWS's SDKs do; Version 2 signs it
decoded, as Heat's pre-signed URLs do.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from keystoneclient.contrib.ec2.utils import Ec2Signer

from ember.api.cfn import faults
from ember.api.cfn.auth import SignedRequest

LOG = logging.getLogger(__name__)

ALGORITHM = "AWS4-HMAC-SHA256"
# How far a signed time may be from the server's clock (AWS's and Keystone's auth_ttl).
MAX_SKEW = timedelta(minutes=15)
# The longest life of a pre-signed Version 4 request (AWS's limit).
MAX_EXPIRES = 7 * 24 * 3600
AMZ_DATE = "%Y%m%dT%H%M%SZ"
_PRESIGNED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


def signed_request(
    method: str,
    host: str,
    path: str,
    query: Sequence[tuple[str, str]],
    form: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> SignedRequest:
    """The signature of a request and the ``credentials`` it covers; raises the AWS error
    for a request that is not signed, is signed incompletely, or whose signing time is
    past (or too far ahead of ``now``). Nothing here says whether the signature is right:
    that is ``verify``'s (or Keystone's) job."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered.setdefault("host", host)
    params = dict(query)
    authorization = lowered.get("authorization", "")
    if authorization.startswith("AWS4-"):
        return _v4_header(method, path, params, lowered, body, now)
    if any(name in params for name in _PRESIGNED):
        return _v4_query(method, path, params, lowered, body, now)
    if method.upper() == "POST":
        params.update(form)
    return _v2(method, lowered["host"], path, params, body, now)


def verify(signed: SignedRequest, secret: str) -> None:
    """Raise ``SignatureDoesNotMatch`` unless ``secret`` made ``signed.signature``.

    As Keystone does, a host with a port is tried again without it: some clients sign
    the bare host name."""
    credentials = signed.credentials
    if _matches(credentials, secret, signed.signature):
        return
    host = str(credentials.get("host", ""))
    if ":" in host:
        bare = urllib.parse.urlsplit("//" + host).hostname or ""
        if _matches({**credentials, "host": bare}, secret, signed.signature):
            return
    raise faults.SignatureDoesNotMatch(_MISMATCH)


def _matches(credentials: Mapping[str, Any], secret: str, signature: str) -> bool:
    # Ec2Signer writes into the params it signs: it gets its own copy.
    try:
        expected = Ec2Signer(secret).generate(copy.deepcopy(dict(credentials)))
    except Exception as exc:  # Ec2Signer raises bare Exceptions for what it cannot sign.
        LOG.debug("Cannot compute the signature of a request: %s", exc)
        return False
    return hmac.compare_digest(str(expected).encode(), signature.encode())


# Signature Version 4 ---------------------------------------------------------------------


def _v4_header(
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> SignedRequest:
    authorization = headers["authorization"]
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ALGORITHM:
        raise faults.IncompleteSignature(f"Unsupported AWS 'algorithm': '{algorithm}'")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name] = value
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not parts.get(name)
    ]
    amz_date = headers.get("x-amz-date")
    if not amz_date:
        missing.append("Authorization header requires existence of a 'X-Amz-Date' header.")
    if missing:
        raise faults.IncompleteSignature(" ".join(missing) + f" Authorization={authorization}")
    assert amz_date is not None
    access = _scope(parts["Credential"], amz_date)
    _check_skew(_amz_time(amz_date), now)
    signed_names = parts["SignedHeaders"].split(";")
    _require_host(signed_names)
    covered = {name: _trim(headers[name]) for name in signed_names if name in headers}
    # Ec2Signer reads these two with exactly this capitalisation.
    covered["Authorization"] = authorization
    covered["X-Amz-Date"] = amz_date
    return _v4_signed(access, parts["Signature"], method, path, params, covered, body)


def _v4_query(
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> SignedRequest:
    if not all(params.get(name) for name in _PRESIGNED):
        raise faults.IncompleteSignature(
            "AWS query-string authentication requires the " + ", ".join(_PRESIGNED) + " parameters."
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise faults.IncompleteSignature(
            f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'"
        )
    amz_date = params["X-Amz-Date"]
    access = _scope(params["X-Amz-Credential"], amz_date)
    signed_at = _amz_time(amz_date)
    try:
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        expires = -1
    if not 0 <= expires <= MAX_EXPIRES:
        raise faults.InvalidParameterValue(
            f"X-Amz-Expires must be a number of seconds from 0 to {MAX_EXPIRES} "
            f"(a week), not '{params['X-Amz-Expires']}'."
        )
    if signed_at - MAX_SKEW > now:
        raise faults.RequestExpired(
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + MAX_SKEW).strftime(AMZ_DATE)} ({now.strftime(AMZ_DATE)} + 15 min.)"
        )
    if now > signed_at + timedelta(seconds=expires):
        raise faults.RequestExpired("Request has expired")
    signed_names = params["X-Amz-SignedHeaders"].split(";")
    _require_host(signed_names)
    covered = {name: _trim(headers[name]) for name in signed_names if name in headers}
    signature = params.pop("X-Amz-Signature")
    return _v4_signed(access, signature, method, path, params, covered, body)


def _v4_signed(
    access: str,
    signature: str,
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes,
) -> SignedRequest:
    credentials = {
        "access": access,
        "signature": signature,
        "host": headers.get("host", ""),
        "verb": method.upper(),
        # The canonical URI of a non-S3 service: the sent path URI-encoded again.
        "path": urllib.parse.quote(path or "/", safe="/~"),
        "params": params,
        "headers": headers,
        "body_hash": hashlib.sha256(body).hexdigest(),
    }
    return SignedRequest(access, signature, "4", credentials)


def _scope(credential: str, amz_date: str) -> str:
    """The access key of a credential scope ``key/date/region/service/aws4_request``,
    checked against the signing date."""
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise faults.IncompleteSignature(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential}'"
        )
    if parts[4] != "aws4_request":
        raise faults.SignatureDoesNotMatch(
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{parts[4]}'."
        )
    if amz_date[:8] != parts[1]:
        raise faults.SignatureDoesNotMatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
            f"date from HTTP: '{parts[1]}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    return parts[0]


def _amz_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise faults.IncompleteSignature(
            f"Date must be in ISO-8601 'basic format' (YYYYMMDD'T'HHMMSS'Z'). Got '{value}'."
        ) from None


def _check_skew(signed_at: datetime, now: datetime) -> None:
    stamp = signed_at.strftime(AMZ_DATE)
    if signed_at < now - MAX_SKEW:
        raise faults.RequestExpired(
            f"Signature expired: {stamp} is now earlier than "
            f"{(now - MAX_SKEW).strftime(AMZ_DATE)} ({now.strftime(AMZ_DATE)} - 15 min.)"
        )
    if signed_at > now + MAX_SKEW:
        raise faults.RequestExpired(
            f"Signature not yet current: {stamp} is still later than "
            f"{(now + MAX_SKEW).strftime(AMZ_DATE)} ({now.strftime(AMZ_DATE)} + 15 min.)"
        )


def _require_host(signed_names: Sequence[str]) -> None:
    # Without the host a signature could be replayed against another endpoint.
    if "host" not in signed_names:
        raise faults.SignatureDoesNotMatch(
            "'Host' must be a 'SignedHeader' in the AWS Authorization."
        )


def _trim(value: str) -> str:
    """A header value as AWS canonicalises it: runs of spaces made one."""
    return " ".join(value.split())


# Signature Version 2 ---------------------------------------------------------------------


def _v2(
    method: str, host: str, path: str, params: dict[str, str], body: bytes, now: datetime
) -> SignedRequest:
    access = params.get("AWSAccessKeyId")
    signature = params.pop("Signature", None)
    if not access:
        if signature:
            raise faults.MissingAuthenticationToken(
                "Request must contain AWSAccessKeyId or X.509 certificate."
            )
        raise faults.MissingAuthenticationToken("Request is missing Authentication Token")
    if not signature:
        raise faults.IncompleteSignature(
            "Request must contain a signature that conforms to AWS standards"
        )
    version = params.get("SignatureVersion")
    if version is None:
        raise faults.MissingParameter("The request must contain the parameter SignatureVersion")
    if version != "2":
        raise faults.InvalidParameterValue(
            f"Value ({version}) for parameter SignatureVersion is invalid. "
            "Valid signature versions are 2 and 4."
        )
    signature_method = params.get("SignatureMethod")
    if signature_method is None:
        raise faults.MissingParameter("The request must contain the parameter SignatureMethod")
    # Keystone's verifier (and so every EC2 key check in OpenStack) signs with SHA-256 only.
    if signature_method != "HmacSHA256":
        raise faults.InvalidParameterValue(
            f"Value ({signature_method}) for parameter SignatureMethod is invalid. "
            "Sign with HmacSHA256."
        )
    _check_v2_time(params, now)
    credentials = {
        "access": access,
        "signature": signature,
        "host": host,
        "verb": method.upper(),
        "path": urllib.parse.unquote(path or "/"),
        "params": params,
        "headers": {},
        "body_hash": hashlib.sha256(body).hexdigest(),
    }
    return SignedRequest(access, signature, "2", credentials)


def _check_v2_time(params: Mapping[str, str], now: datetime) -> None:
    """A Version 2 request is good until its ``Expires``, or for 15 minutes either side of
    its ``Timestamp``; with neither it never expires (Heat's long-lived signal URLs)."""
    timestamp, expires = params.get("Timestamp"), params.get("Expires")
    if timestamp is not None and expires is not None:
        raise faults.InvalidParameterCombination(
            "The parameter Timestamp cannot be used with the parameter Expires"
        )
    if expires is not None:
        if now > _iso_time("Expires", expires):
            raise faults.RequestExpired(f"Request has expired. Expires date is {expires}")
    elif timestamp is not None:
        signed_at = _iso_time("Timestamp", timestamp)
        if now - signed_at > MAX_SKEW:
            raise faults.RequestExpired(f"Request has expired. Timestamp date is {timestamp}")
        if signed_at - now > MAX_SKEW:
            raise faults.RequestExpired(
                f"Request timestamp {timestamp} is more than 15 minutes in the future"
            )


def _iso_time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise faults.InvalidParameterValue(
            f"Value ({value}) for parameter {name} is invalid. Must be in ISO8601 format."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
