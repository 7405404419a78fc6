"""The Colab profile's tests reuse the browser tests' Chromium fixtures and markers (tests/browser/conftest.py)."""

from tests.browser.conftest import browser, chromium_path, pytest_configure  # noqa: F401
