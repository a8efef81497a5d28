"""The engine: stack lifecycle driven by traversals stored in the database."""
