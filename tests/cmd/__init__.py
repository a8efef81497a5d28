"""Command-line tests: heat.conf reading and heat-manage."""
