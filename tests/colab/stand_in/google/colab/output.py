"""Stand-in for ``google.colab.output``: records that the custom widget manager was switched on."""

from types import SimpleNamespace

calls: list[str] = []
#: anywidget reads this private attribute for its Colab metadata (None: no URL to add).
_widgets = SimpleNamespace(_installed_url=None)


def enable_custom_widget_manager() -> None:
    calls.append("enable_custom_widget_manager")


def disable_custom_widget_manager() -> None:
    calls.append("disable_custom_widget_manager")
