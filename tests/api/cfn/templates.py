"""Templates the CloudFormation API tests create stacks from."""

from __future__ import annotations

# CloudFormation's format: a random string whose length is a parameter, and a value that
# echoes the other parameter.
MAIN = """\
AWSTemplateFormatVersion: '2010-09-09'
Description: boto3 flows
Parameters:
  Len:
    Type: Number
    Default: 8
    Description: how long the string is
  Word:
    Type: String
Resources:
  R:
    Type: OS::Heat::RandomString
    Properties:
      length: {Ref: Len}
  V:
    Type: OS::Heat::Value
    Properties:
      value: {Ref: Word}
Outputs:
  Out:
    Value: {"Fn::GetAtt": [R, value]}
    Description: the string
  W:
    Value: {"Fn::GetAtt": [V, value]}
"""

# MAIN with one more resource and output.
MAIN_MORE = MAIN.replace(
    "Outputs:\n",
    "  N:\n    Type: OS::Heat::None\nOutputs:\n  Named:\n    Value: {Ref: AWS::StackName}\n",
)

# Heat's format, one placeholder: the cheapest stack there is.
NONE = """\
heat_template_version: 2016-10-14
description: a placeholder
resources:
  nothing:
    type: OS::Heat::None
"""

# Six resources, so that their listing and the stack's events take several pages.
MANY = """\
heat_template_version: 2016-10-14
description: six resources
resources:
  a: {type: OS::Heat::None}
  b: {type: OS::Heat::None}
  c: {type: OS::Heat::None}
  d: {type: OS::Heat::None}
  e: {type: OS::Heat::None}
  rand:
    type: OS::Heat::RandomString
    properties: {length: 4}
"""

# A TestResource whose update waits ``secs`` seconds: an update there is time to cancel.
SLOW_UPDATE = """\
heat_template_version: 2016-10-14
parameters:
  secs:
    type: number
    default: 0
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: secs}
      action_wait_secs:
        update: {get_param: secs}
"""

# A stack whose delete takes ``secs`` seconds, and whose update changes a value.
SLOW_DELETE = """\
heat_template_version: 2016-10-14
parameters:
  word:
    type: string
    default: one
resources:
  wait:
    type: OS::Heat::Delay
    properties:
      min_wait: 2
      actions: [DELETE]
  val:
    type: OS::Heat::Value
    properties:
      value: {get_param: word}
"""

# An IAM user: CloudFormation asks for CAPABILITY_IAM before it makes one.
IAM = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  U:
    Type: AWS::IAM::User
"""

# Not YAML at all.
BROKEN = "Resources: [unclosed"

# YAML, but no template: a resource of a type nobody knows.
UNKNOWN_TYPE = """\
heat_template_version: 2016-10-14
resources:
  x:
    type: OS::No::Such
"""
