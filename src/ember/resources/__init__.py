"""Built-in resource types, one module each, registered through entry points."""
