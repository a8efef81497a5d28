"""``Throttling`` as the AWS SDKs see it: a key pair past ``[heat_api_cfn]
max_requests_per_second`` is refused with the code botocore retries on, and another key
pair is not held back by it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.cfn.conftest import boto3_client, make_key_pair
from tests.api.conftest import (
    HeatServer,
    free_port,
    start_heat_all,
    stop_heat_all,
    write_heat_conf,
)
from tests.api.helpers import need

# Slow enough that a burst of three is over it whatever the machine's speed.
RATE = "max_requests_per_second = 0.01\nmax_request_burst = 3\n"


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HeatServer, int]]:
    workdir: Path = tmp_path_factory.mktemp("cfn-throttled")
    port, cfn_port = free_port(), free_port()
    conf = write_heat_conf(workdir, port, cfn_port=cfn_port, heat_api_cfn=RATE)
    server = start_heat_all(workdir, conf, port)
    try:
        yield server, cfn_port
    finally:
        stop_heat_all(server)


def test_a_key_over_its_rate_is_throttled_and_others_are_not(
    throttled: tuple[HeatServer, int],
) -> None:
    exceptions = need("botocore.exceptions")
    server, cfn_port = throttled
    conf = server.workdir / "heat.conf"
    endpoint = f"http://127.0.0.1:{cfn_port}/v1/"
    busy = boto3_client(endpoint, make_key_pair(conf, "throttled", "busy"))
    calm = boto3_client(endpoint, make_key_pair(conf, "throttled", "calm"))
    for _ in range(3):
        busy.list_stacks()
    with pytest.raises(exceptions.ClientError) as refused:
        busy.list_stacks()
    error = refused.value.response
    assert error["Error"]["Code"] == "Throttling"
    assert error["Error"]["Message"] == "Rate exceeded"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert calm.list_stacks()["StackSummaries"] == []
