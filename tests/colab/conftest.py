"""The Colab profile's tests reuse the browser tests' Chromium fixtures (tests/browser/conftest.py)."""

from tests.browser.conftest import browser, chromium_path  # noqa: F401
