"""utils.cost: multiply-adds by hand for convolution, transposed convolution and dense layers, nested models,
the timing and the table."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from utils import cost
from utils.errors import CourseError


def small_model():
    inputs = keras.Input((8, 8, 2))
    h = layers.Conv2D(4, 3, padding="same")(inputs)            # 8*8*4 outputs x 3*3*2 = 4,608
    h = layers.Conv2DTranspose(3, 2, strides=2)(h)             # 8*8 inputs x 2*2*4*3 = 3,072
    h = layers.GlobalAveragePooling2D()(h)
    outputs = layers.Dense(5)(h)                               # 5 x 3 = 15
    return keras.Model(inputs, outputs)


def test_multiply_adds_by_hand():
    assert cost.multiply_adds(small_model()) == 4608 + 3072 + 15


def test_nested_models_are_counted():
    inner = small_model()
    inputs = keras.Input((8, 8, 2))
    outer = keras.Model(inputs, layers.Dense(2)(inner(inputs)))
    assert cost.multiply_adds(outer) == 4608 + 3072 + 15 + 10


def test_variable_size_is_refused():
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, layers.Conv2D(2, 3)(inputs))
    with pytest.raises(CourseError):
        cost.multiply_adds(model)


def test_measure_and_table():
    c = cost.measure("small", small_model(), np.zeros((4, 8, 8, 2), np.float32), repeats=1)
    assert c.params == small_model().count_params() and c.macs == 7695 and c.ms_per_image > 0
    assert c.input_shape == (8, 8, 2)
    table = cost.format_table([c])
    assert "small" in table and "7,695" in table and "8x8x2" in table
