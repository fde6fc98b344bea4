"""The hub's HTTP APIs; ``developer`` is the one apps call with their credentials."""
