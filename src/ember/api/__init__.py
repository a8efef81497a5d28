"""HTTP front ends: the Orchestration REST API and the CloudFormation Query API."""
