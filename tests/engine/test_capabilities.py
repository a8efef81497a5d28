"""CloudFormation's capabilities: what a template needs acknowledged."""

from __future__ import annotations

import pytest

from ember.common import errors
from ember.engine import capabilities


def test_iam_resources_need_capability_iam_and_named_ones_named_iam() -> None:
    plain = {"Resources": {"U": {"Type": "AWS::IAM::User"}}}
    named = {"Resources": {"U": {"Type": "AWS::IAM::User", "Properties": {"UserName": "x"}}}}
    assert capabilities.required(plain) == ["CAPABILITY_IAM"]
    assert capabilities.required(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
    assert capabilities.required({"resources": {"r": {"type": "OS::Heat::None"}}}) == []
    assert capabilities.required({"Transform": "AWS::Serverless-2016-10-31"}) == [
        "CAPABILITY_AUTO_EXPAND"
    ]


def test_check_refuses_what_is_not_acknowledged() -> None:
    named = {"Resources": {"U": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}}
    with pytest.raises(errors.InsufficientCapabilities, match="CAPABILITY_IAM"):
        capabilities.check(named, [])
    with pytest.raises(errors.InsufficientCapabilities, match=r"\[CAPABILITY_NAMED_IAM\]"):
        capabilities.check(named, ["CAPABILITY_IAM"])
    capabilities.check(named, ["CAPABILITY_NAMED_IAM"])  # implies CAPABILITY_IAM


def test_only_known_capabilities_are_taken() -> None:
    assert capabilities.check_known(["CAPABILITY_IAM"]) == ["CAPABILITY_IAM"]
    with pytest.raises(errors.InvalidRequest, match="Invalid capability"):
        capabilities.check_known(["CAPABILITY_EVERYTHING"])


def test_odd_documents_need_nothing() -> None:
    assert capabilities.required({"Resources": ["not", "a", "map"]}) == []
    assert capabilities.required({"Resources": {"a": "b", "c": {"Type": 3}}}) == []
