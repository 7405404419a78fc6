"""A stand-in for Google Colab's ``google.colab`` package, for the course's Colab tests (never installed anywhere).

Only what the course touches: ``import google.colab`` (the setup cell's test for Colab), ``output`` (the custom
widget manager, as anywidget and ``env.enable_custom_widgets`` call it) and ``drive.mount`` (the opt-in
``env.keep_cache_on_drive``). ``google`` itself has no ``__init__.py``: it stays a namespace package, so the real
``google.protobuf`` that TensorFlow imports is still found.
"""

from . import drive, output  # noqa: F401
