"""Intrinsic functions, one module per family; ``base`` holds the shared machinery."""
