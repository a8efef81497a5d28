"""Query parameters as the AWS SDKs send them, and every way they can be wrong."""

from __future__ import annotations

import pytest

from ember.api.cfn import faults
from ember.api.cfn.query import MAX_FIELDS, Query, parse_pairs


def test_member_lists_come_in_index_order_with_gaps() -> None:
    query = Query.of(
        parse_pairs(
            "Parameters.member.10.ParameterKey=b&Parameters.member.10.ParameterValue=2"
            "&Parameters.member.2.ParameterKey=a&Parameters.member.2.ParameterValue=1"
            "&Capabilities.member.2=CAPABILITY_IAM&Capabilities.member.1=CAPABILITY_AUTO_EXPAND",
            "query string",
        )
    )
    assert query.maps("Parameters", ("ParameterKey", "ParameterValue")) == [
        {"ParameterKey": "a", "ParameterValue": "1"},
        {"ParameterKey": "b", "ParameterValue": "2"},
    ]
    assert query.strings("Capabilities") == ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"]


@pytest.mark.parametrize("index", ["0", "-1", "01", "99999", "x", "", "1.5"])
def test_odd_member_indexes_are_refused(index: str) -> None:
    query = Query.of([(f"Parameters.member.{index}.ParameterKey", "k")])
    with pytest.raises(faults.InvalidQueryParameter):
        query.maps("Parameters", ("ParameterKey", "ParameterValue"))


def test_an_unknown_member_field_is_refused() -> None:
    query = Query.of([("Parameters.member.1.Bogus", "k")])
    with pytest.raises(faults.InvalidQueryParameter, match="ParameterKey"):
        query.maps("Parameters", ("ParameterKey", "ParameterValue"))


def test_a_name_given_twice_with_two_values_is_refused_once_is_fine() -> None:
    assert Query.of([("Action", "ListStacks")], [("Action", "ListStacks")]).get("Action")
    with pytest.raises(faults.InvalidQueryParameter, match="more than once"):
        Query.of([("StackName", "a"), ("StackName", "b")])


def test_invalid_utf8_and_too_many_fields_are_malformed() -> None:
    with pytest.raises(faults.MalformedQueryString, match="UTF-8"):
        parse_pairs(b"StackName=%ff", "request body")
    with pytest.raises(faults.MalformedQueryString, match="UTF-8"):
        parse_pairs(b"StackName=\xff", "request body")
    with pytest.raises(faults.MalformedQueryString, match=str(MAX_FIELDS)):
        parse_pairs("&".join(f"k{i}=v" for i in range(MAX_FIELDS + 1)), "query string")


def test_flags_integers_and_required_parameters() -> None:
    query = Query.of([("A", "true"), ("B", "FALSE"), ("C", "yes"), ("T", "30"), ("U", "-1")])
    assert query.flag("A") is True and query.flag("B") is False and query.flag("Z") is None
    with pytest.raises(faults.ValidationError):
        query.flag("C")
    assert query.integer("T", 1, 60) == 30
    with pytest.raises(faults.ValidationError):
        query.integer("U", 1, 60)
    with pytest.raises(faults.MissingParameter, match="StackName"):
        query.required("StackName")
