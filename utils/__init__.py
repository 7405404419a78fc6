"""Shared helpers for the course *Convolutional Neural Networks, hands-on*.

Importing this package is cheap: it never imports TensorFlow. Each module is named for what it holds:

- ``utils.env``: where we run (Colab, Kaggle, local), fast or full mode, seeding, the one setup call.
- ``utils.data``: MNIST (real loader plus offline copies) and the bundled sample photos.
- ``utils.plots``: the matrix view, image grids and before/after pictures, in one style.
- ``utils.exercises``: self-checking exercises with ``check()``, ``hint()`` and ``solution()``.
- ``utils.errors``: the short, friendly error the course raises on bad learner input.
"""

__all__ = ["env", "data", "plots", "exercises", "errors"]
