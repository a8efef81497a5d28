"""The AWS CLI (``aws cloudformation ...``) against the CloudFormation API of a real
heat-all: create, wait, describe, update, list (the CLI follows ``NextToken`` itself),
validate and delete, with ``--output json`` read back, and a refusal as the CLI reports it.

The CLI runs with its key pair in ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a
throwaway ``AWS_CONFIG_FILE``/``AWS_SHARED_CREDENTIALS_FILE``, and ``AWS_DATA_PATH``
holding CloudFormation's own waiter definitions with a one-second delay (the CLI has no
option for it; the stock delay is 30 seconds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.api.cfn import templates
from tests.api.cfn.conftest import PAGE_SIZE, REGION, CfnService, KeyPair
from tests.api.helpers import need, require

AWS = Path(sys.executable).parent / "aws"
TIMEOUT = 120.0


def fast_waiters(data_path: Path) -> None:
    """CloudFormation's waiters as botocore ships them, polling each second."""
    botocore = need("botocore")
    name = "waiters-2.json"
    shipped = Path(botocore.__file__).parent / "data" / "cloudformation" / "2010-05-15" / name
    waiters = json.loads(shipped.read_text(encoding="utf-8"))
    for waiter in waiters["waiters"].values():
        waiter["delay"] = 1
        waiter["maxAttempts"] = 60
    target = data_path / "cloudformation" / "2010-05-15"
    target.mkdir(parents=True)
    (target / name).write_text(json.dumps(waiters), encoding="utf-8")


@dataclass
class AwsCli:
    """``aws cloudformation ...`` as a user runs it."""

    endpoint: str
    key: KeyPair
    cwd: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        config = self.cwd / "config"
        credentials = self.cwd / "credentials"
        config.write_text("[default]\noutput = json\n", encoding="utf-8")
        credentials.write_text("", encoding="utf-8")
        env.update(
            AWS_ACCESS_KEY_ID=self.key.access,
            AWS_SECRET_ACCESS_KEY=self.key.secret,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(config),
            AWS_SHARED_CREDENTIALS_FILE=str(credentials),
            AWS_DATA_PATH=str(self.cwd / "data"),
            AWS_PAGER="",
            NO_PROXY="127.0.0.1,localhost",
        )
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [str(AWS), "cloudformation", *args, "--endpoint-url", self.endpoint]
        argv += ["--output", "json"]
        try:
            return subprocess.run(
                argv,
                cwd=self.cwd,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{argv} did not finish in {TIMEOUT}s: {exc.output}") from None

    def __call__(self, *args: str) -> Any:
        """Run a command that must succeed; its JSON output (None when it prints none)."""
        done = self.run(*args)
        assert done.returncode == 0, (
            f"aws cloudformation {' '.join(args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        return json.loads(done.stdout) if done.stdout.strip() else None

    def file(self, name: str, text: str) -> str:
        """``text`` in a file; the ``file://`` argument naming it."""
        path = self.cwd / name
        path.write_text(text, encoding="utf-8")
        return f"file://{path}"


@pytest.fixture(scope="module")
def aws(
    cfn_service: CfnService, key_pair: KeyPair, tmp_path_factory: pytest.TempPathFactory
) -> AwsCli:
    require(AWS.is_file(), f"the AWS CLI ({AWS})")
    cwd = tmp_path_factory.mktemp("aws-cli")
    fast_waiters(cwd / "data")
    return AwsCli(cfn_service.endpoint, key_pair, cwd)


def test_stack_lifecycle_with_the_cli(aws: AwsCli, cfn_service: CfnService, project: str) -> None:
    body = aws.file("main.yaml", templates.MAIN)
    made = aws(
        "create-stack",
        "--stack-name",
        "cli-life",
        "--template-body",
        body,
        "--parameters",
        "ParameterKey=Word,ParameterValue=hi",
        "--tags",
        "Key=team,Value=blue",
        "--timeout-in-minutes",
        "9",
        "--disable-rollback",
    )
    arn = made["StackId"]
    assert arn.startswith("arn:openstack:heat::") and "/cli-life/" in arn
    assert aws("wait", "stack-create-complete", "--stack-name", "cli-life") is None

    [stack] = aws("describe-stacks", "--stack-name", "cli-life")["Stacks"]
    assert stack["StackId"] == arn
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Len": "8",
        "Word": "hi",
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["W"] == "hi" and len(outputs["Out"]) == 8
    assert stack["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert stack["DisableRollback"] is True
    assert stack["TimeoutInMinutes"] == 9
    assert isinstance(stack["CreationTime"], str) and stack["CreationTime"][:2] == "20"

    updated = aws(
        "update-stack",
        "--stack-name",
        "cli-life",
        "--use-previous-template",
        "--parameters",
        "ParameterKey=Word,UsePreviousValue=true",
        "ParameterKey=Len,ParameterValue=12",
    )
    assert updated["StackId"] == arn
    aws("wait", "stack-update-complete", "--stack-name", "cli-life")
    [stack] = aws("describe-stacks", "--stack-name", arn)["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Len": "12",
        "Word": "hi",
    }
    assert len({o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Out"]) == 12

    resources = aws("list-stack-resources", "--stack-name", "cli-life")
    assert sorted(r["LogicalResourceId"] for r in resources["StackResourceSummaries"]) == [
        "R",
        "V",
    ]
    events = aws("describe-stack-events", "--stack-name", "cli-life")["StackEvents"]
    # Followed over every page: each event once, newest first, as the REST API lists them.
    listed = cfn_service.heat(project).events.list("cli-life", sort_dir="desc")
    assert [e["EventId"] for e in events] == [e.id for e in listed]
    assert len(events) > 2 * PAGE_SIZE
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == (
        "cli-life",
        "UPDATE_COMPLETE",
    )

    assert aws("delete-stack", "--stack-name", "cli-life") is None
    aws("wait", "stack-delete-complete", "--stack-name", "cli-life")
    [gone] = aws("describe-stacks", "--stack-name", arn)["Stacks"]
    assert gone["StackStatus"] == "DELETE_COMPLETE"


def test_list_stacks_over_pages_with_the_cli(aws: AwsCli) -> None:
    body = aws.file("none.yaml", templates.NONE)
    names = [f"cli-list-{i}" for i in range(PAGE_SIZE + 2)]
    for name in names:
        aws("create-stack", "--stack-name", name, "--template-body", body)
    for name in names:
        aws("wait", "stack-create-complete", "--stack-name", name)

    listed = aws("list-stacks", "--stack-status-filter", "CREATE_COMPLETE")
    assert "NextToken" not in listed
    seen = [s["StackName"] for s in listed["StackSummaries"] if s["StackName"] in names]
    assert sorted(seen) == names

    # A page of two, then the rest from its token.
    first = aws("list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "--max-items", "2")
    assert len(first["StackSummaries"]) == 2 and first["NextToken"]
    rest = aws(
        "list-stacks",
        "--stack-status-filter",
        "CREATE_COMPLETE",
        "--starting-token",
        first["NextToken"],
    )
    pages = [s["StackName"] for s in first["StackSummaries"] + rest["StackSummaries"]]
    assert pages == [s["StackName"] for s in listed["StackSummaries"]]

    described = aws("describe-stacks")["Stacks"]
    assert [s["StackName"] for s in described if s["StackName"] in names] == seen


def test_templates_and_refusals_with_the_cli(aws: AwsCli) -> None:
    valid = aws("validate-template", "--template-body", aws.file("v.yaml", templates.MAIN))
    assert valid["Description"] == "boto3 flows"
    assert sorted(p["ParameterKey"] for p in valid["Parameters"]) == ["Len", "Word"]

    missing = aws.run("describe-stacks", "--stack-name", "cli-nowhere")
    assert missing.returncode != 0
    assert "(ValidationError)" in missing.stderr
    assert "Stack with id cli-nowhere does not exist" in missing.stderr

    broken = aws.run(
        "create-stack",
        "--stack-name",
        "cli-broken",
        "--template-body",
        aws.file("broken.yaml", templates.BROKEN),
    )
    assert broken.returncode != 0 and "(ValidationError)" in broken.stderr
