"""The ``keystone`` flavor's authenticator against a real Keystone: an EC2 credential of
the ``demo`` user made through Keystone's API, a botocore-signed request checked by
Keystone's ``/v3/ec2tokens``, and its refusals as AWS's codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ember.api.cfn import faults
from ember.api.cfn.keystone_ec2 import KeystoneEc2, KeystoneSession, ec2tokens_url
from ember.cmd.config import load_settings
from tests.api.cfn.test_signing import DESCRIBE, presigned, sigv2, sigv4_get, sigv4_post
from tests.api.helpers import need, wait_stack
from tests.api.keystone_service import Keystone, start_heat, start_keystone, stop, write_heat_conf
from tests.api.test_keystone import heatclient
from tests.api.test_wait_conditions import AWS, HOT, create, curl, resource_done


@pytest.fixture(scope="module")
def keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keystone]:
    service = start_keystone(tmp_path_factory.mktemp("keystone"))
    try:
        yield service
    finally:
        stop(service.process, "keystone", service.log)


@pytest.fixture(scope="module")
def demo_keys(keystone: Keystone) -> dict[str, str]:
    """An EC2 key pair of ``demo`` in project ``demo``, made with demo's own token."""
    httpx = need("httpx")
    session = keystone.session("demo")
    user_id = session.get_user_id()
    response = httpx.post(
        f"{keystone.url}/users/{user_id}/credentials/OS-EC2",
        json={"tenant_id": keystone.project_id("demo")},
        headers={"X-Auth-Token": session.get_token()},
        timeout=30.0,
    )
    assert response.status_code == 201, response.text
    credential = response.json()["credential"]
    return {"access": credential["access"], "secret": credential["secret"], "user": user_id}


@pytest.fixture
async def authenticator(keystone: Keystone) -> AsyncIterator[KeystoneEc2]:
    checker = KeystoneEc2(keystone.url, KeystoneSession(keystone.session("heat")))
    try:
        yield checker
    finally:
        await checker.aclose()


def signers() -> list[Any]:
    return [
        pytest.param(sigv4_post, id="v4 POST"),
        pytest.param(sigv4_get, id="v4 GET"),
        pytest.param(presigned, id="v4 pre-signed"),
        pytest.param(lambda p, **kw: sigv2("GET", p, **kw), id="v2 GET"),
        pytest.param(lambda p, **kw: sigv2("POST", p, **kw), id="v2 POST"),
    ]


def with_key(sign: Any, keys: dict[str, str], secret: str | None = None) -> Any:
    return sign(DESCRIBE, secret=secret or keys["secret"], access=keys["access"]).signed()


@pytest.mark.parametrize("sign", signers())
async def test_keystone_says_who_signed(
    authenticator: KeystoneEc2, keystone: Keystone, demo_keys: dict[str, str], sign: Any
) -> None:
    identity = await authenticator.authenticate(with_key(sign, demo_keys))
    assert identity.project_id == keystone.project_id("demo")
    assert identity.user_id == demo_keys["user"]
    assert identity.username == "demo"
    assert "member" in identity.roles
    assert "admin" not in identity.roles


@pytest.mark.parametrize("sign", signers())
async def test_wrong_secret(
    authenticator: KeystoneEc2, demo_keys: dict[str, str], sign: Any
) -> None:
    signed = with_key(sign, demo_keys, secret="w" * 32)
    with pytest.raises(faults.SignatureDoesNotMatch) as caught:
        await authenticator.authenticate(signed)
    assert caught.value.message.startswith("The request signature we calculated")


async def test_unknown_access_key(authenticator: KeystoneEc2) -> None:
    signed = sigv4_post(DESCRIBE).signed()
    with pytest.raises(faults.InvalidClientTokenId) as caught:
        await authenticator.authenticate(signed)
    assert caught.value.message == "The security token included in the request is invalid."


async def test_without_service_token_keystone_refuses(
    keystone: Keystone, demo_keys: dict[str, str]
) -> None:
    """This Keystone lets only services call ec2tokens: no token, no identity."""
    checker = KeystoneEc2(keystone.url)
    try:
        with pytest.raises((faults.AccessDenied, faults.SignatureDoesNotMatch)) as caught:
            await checker.authenticate(with_key(sigv4_post, demo_keys))
        assert caught.value.status == 403
    finally:
        await checker.aclose()


async def test_service_user_not_allowed(keystone: Keystone, demo_keys: dict[str, str]) -> None:
    """A service token of a user who may not call ec2tokens is the deployment's fault."""
    checker = KeystoneEc2(keystone.url, KeystoneSession(keystone.session("demo")))
    try:
        with pytest.raises(faults.AccessDenied) as caught:
            await checker.authenticate(with_key(sigv4_post, demo_keys))
        assert caught.value.status == 403
    finally:
        await checker.aclose()


async def test_keystone_unreachable(demo_keys: dict[str, str]) -> None:
    from tests.api.conftest import free_port  # noqa: PLC0415

    checker = KeystoneEc2(f"http://127.0.0.1:{free_port()}/v3", timeout=5.0)
    try:
        with pytest.raises(faults.ServiceUnavailable):
            await checker.authenticate(with_key(sigv4_post, demo_keys))
    finally:
        await checker.aclose()


async def test_from_settings(keystone: Keystone, demo_keys: dict[str, str], tmp_path: Path) -> None:
    """heat.conf as the keystone flavor's operator writes it: the URI and the service
    user come from [keystone_authtoken]."""
    conf = write_heat_conf(tmp_path, keystone)
    checker = KeystoneEc2.from_settings(load_settings(["--config-file", str(conf)]))
    try:
        assert checker.url == f"http://127.0.0.1:{keystone.port}/v3/ec2tokens"
        identity = await checker.authenticate(with_key(sigv4_get, demo_keys))
        assert identity.username == "demo"
    finally:
        await checker.aclose()


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("http://ks:5000/v3", "http://ks:5000/v3/ec2tokens"),
        ("http://ks:5000/v3/", "http://ks:5000/v3/ec2tokens"),
        ("http://ks:5000/v2.0", "http://ks:5000/v3/ec2tokens"),
        ("http://ks:5000", "http://ks:5000/v3/ec2tokens"),
        ("http://ks/identity/v3/ec2tokens", "http://ks/identity/v3/ec2tokens"),
    ],
)
def test_ec2tokens_url(uri: str, url: str) -> None:
    assert ec2tokens_url(uri) == url


def test_boto3_against_heat_all_with_the_keystone_flavor(
    keystone: Keystone, demo_keys: dict[str, str], tmp_path: Path
) -> None:
    """End to end: heat-all's CloudFormation API with ``flavor = keystone``, boto3 signing
    with demo's Keystone EC2 credential; the stack lands in demo's project."""
    boto3 = need("boto3")
    exceptions = need("botocore.exceptions")
    server = start_heat(tmp_path, keystone)
    try:

        def client(secret: str) -> Any:
            return boto3.client(
                "cloudformation",
                endpoint_url=f"http://127.0.0.1:{keystone.cfn_port}/v1/",
                region_name="RegionOne",
                aws_access_key_id=demo_keys["access"],
                aws_secret_access_key=secret,
            )

        cfn = client(demo_keys["secret"])
        made = cfn.create_stack(
            StackName="via-keystone",
            TemplateBody='{"heat_template_version": "2018-08-31", "resources": {}}',
        )
        assert made["StackId"].startswith(
            f"arn:openstack:heat::{keystone.project_id('demo')}:stacks/via-keystone/"
        )
        cfn.get_waiter("stack_create_complete").wait(
            StackName="via-keystone", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        names = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
        assert names == ["via-keystone"]
        with pytest.raises(exceptions.ClientError) as refused:
            client("not-the-secret").list_stacks()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        stop(server.process, "heat-all", server.log)


def test_wait_conditions_signal_with_the_keystone_flavor(
    keystone: Keystone, tmp_path: Path
) -> None:
    """The same signal credentials behind Keystone: a handle's token, which Keystone never
    issued, and a pre-signed URL signed with a key pair Keystone does not know, both reach
    their resource; a made-up token of the same kind is refused."""
    server = start_heat(tmp_path, keystone)
    try:
        hc = heatclient(keystone.session("demo"), server.endpoint(keystone.project_id("demo")))
        native = create(hc, "ks-native", HOT)
        aws = create(hc, "ks-aws", AWS)
        attrs = resource_done(hc, native, "handle").attributes
        status, _ = curl(attrs["curl_cli"], {"status": "SUCCESS"})
        assert status == 200
        wait_stack(hc, native, "CREATE_COMPLETE", 120.0)
        url = resource_done(hc, aws, "Url").attributes["value"]
        signal = {"Status": "SUCCESS", "Reason": "ok", "UniqueId": "1", "Data": "d"}
        status, body = curl(f"curl -i -X PUT -H 'Content-Type: application/json' '{url}'", signal)
        assert status == 200, body
        wait_stack(hc, aws, "CREATE_COMPLETE", 120.0)
        forged = attrs["curl_cli"].replace(attrs["token"], "ember-signal.forged")
        status, _ = curl(forged, {"status": "SUCCESS"})
        assert status == 401
    finally:
        stop(server.process, "heat-all", server.log)
