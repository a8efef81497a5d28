"""Templates of the CLI tests."""

from __future__ import annotations

# Two resources, one taking a second, and an output.
QUICK = """\
heat_template_version: 2016-10-14
parameters:
  word:
    type: string
    default: hello
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: word}
      action_wait_secs: {create: 1}
  rand:
    type: OS::Heat::RandomString
    properties:
      length: 6
outputs:
  said:
    description: what slow said
    value: {get_attr: [slow, output]}
"""

# Three levels of template resources: top -> middle -> inner -> bad, the nested templates
# in a directory of their own (named relatively to the template that uses them).
LEAF = """\
heat_template_version: 2016-10-14
resources:
  fine:
    type: OS::Heat::None
  bad:
    type: OS::Heat::TestResource
    properties:
      fail: true
      action_wait_secs: {create: 1}
"""
MIDDLE = """\
heat_template_version: 2016-10-14
resources:
  inner:
    type: leaf.yaml
"""
TOP = """\
heat_template_version: 2016-10-14
resources:
  first:
    type: OS::Heat::None
  middle:
    type: nested/middle.yaml
"""

BAD_TYPE = """\
heat_template_version: 2016-10-14
resources:
  what:
    type: OS::No::SuchType
"""


def waiting(secs: int) -> str:
    """One TestResource whose create takes ``secs`` seconds."""
    return f"""\
heat_template_version: 2016-10-14
resources:
  waiter:
    type: OS::Heat::TestResource
    properties:
      action_wait_secs: {{create: {secs}}}
"""


def grouped(members: int, strings: int, wait_secs: int) -> str:
    """``members`` TestResources in a ResourceGroup's nested stack (each taking
    ``wait_secs`` to create) beside ``strings`` RandomStrings: members + strings + 1
    resources in all."""
    listed = "".join(
        f"  s{i}:\n    type: OS::Heat::RandomString\n    properties:\n      length: 4\n"
        for i in range(strings)
    )
    return f"""\
heat_template_version: 2016-10-14
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {members}
      resource_def:
        type: OS::Heat::TestResource
        properties:
          value: member %index%
          action_wait_secs: {{create: {wait_secs}}}
{listed}"""
