"""heat-api: Heat's Orchestration REST API v1."""
