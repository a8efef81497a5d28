"""Shared building blocks: errors, identifiers, configuration. Standard library only."""
