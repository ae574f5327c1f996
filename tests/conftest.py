"""Registers the suite-wide fixtures and hooks, which live in support.py (importable by test modules)."""

from support import *  # noqa: F403  (fixtures and pytest_configure are found by name in this module)
from support import pytest_configure  # noqa: F401
