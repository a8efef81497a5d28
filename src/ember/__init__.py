"""Ember: an orchestration service that speaks OpenStack Heat."""

__version__ = "0.1.0"
