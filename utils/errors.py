"""The one exception type the course raises at a learner, shown as a short message.

A learner who passes a wrong shape, a blank drawing or a missing data file should read one clear
sentence saying what to do, not a 40-line traceback. IPython shows an exception through its
``_render_traceback_`` method when it has one, so :class:`CourseError` renders as its message only.
Outside IPython (scripts, pytest) it is an ordinary ``ValueError`` with the same message.
"""

from __future__ import annotations


class CourseError(ValueError):
    """A problem the learner can fix; its message says how."""

    def _render_traceback_(self) -> list[str]:  # called by IPython instead of printing a traceback
        return [f"\u26a0\ufe0f  {self}"]
