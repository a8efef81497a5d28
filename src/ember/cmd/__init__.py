"""Entry points: the ``ember`` CLI and the Heat-compatible service commands."""
