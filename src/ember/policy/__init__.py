"""Heat's policy: the rule defaults (``rules``) and the oslo.policy enforcer that applies
them with an operator's ``policy.yaml`` and ``[oslo_policy]`` options (``enforcer``).

The API asks it about every operation by Heat's rule name; the engine asks it about the
resource types a template uses (``resource_types:<type>``)."""
