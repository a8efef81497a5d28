"""heat-api-cfn: the CloudFormation Query API (``Action=...`` over GET or form POST)."""
