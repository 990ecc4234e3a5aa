"""Test: proving a candidate fix in the sandbox, and the search over ranked candidates."""
