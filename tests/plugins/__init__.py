"""The suite's fixtures, one module per thing they provide (listed in tests/conftest.py's `pytest_plugins`)."""
