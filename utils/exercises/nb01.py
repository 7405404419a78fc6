"""Exercises for notebook 01, *Images are arrays of numbers*, in the order the notebook asks them."""

from __future__ import annotations


import numpy as np

from utils.exercises import (Exercise, choice_question, expect_array, expect_choice, expect_function,
                             expect_integer, expect_shape)


def _mirror_negative(image: np.ndarray) -> np.ndarray:
    return 255 - np.asarray(image)[:, ::-1]


def _mirror_negative_cases() -> list[tuple]:
    from utils.data import load_photo

    rng = np.random.default_rng(1)
    return [(load_photo("cat"),), (load_photo("camera"),),
            (rng.integers(0, 256, size=(7, 5, 3), dtype=np.uint8),)]


q1 = Exercise(
    name="q1",
    question="A full-HD colour frame is 1920 pixels wide and 1080 pixels tall. What shape does its NumPy "
             "array have, in the same layout as our photos? Answer with a tuple.",
    checker=expect_shape((1080, 1920, 3)),
    hints=["NumPy images are (rows, columns, channels).", "Rows run top to bottom: that is the height."],
    solution_text="(1080, 1920, 3): height (rows) first, then width (columns), then the RGB channels.",
    solution_value=(1080, 1920, 3),
    wrong_examples=((1920, 1080, 3), (1080, 1920), "1080x1920x3"),
)

q2 = Exercise(
    name="q2",
    question="That frame as uint8 takes one byte per number. Networks compute in float32, four bytes per number. "
             "How many bytes does the frame take as float32?",
    checker=expect_integer(1080 * 1920 * 3 * 4),
    hints=["Count the numbers in the array first: multiply its shape.",
           "uint8 takes 1 byte per number; float32 takes 4."],
    solution_text="1080*1920*3 = 6,220,800 numbers: 6,220,800 bytes as uint8, 24,883,200 bytes as float32.",
    solution_value=24_883_200,
    wrong_examples=(6_220_800, 49_766_400, 1080 * 1920 * 4),
)

q3 = Exercise(
    name="q3",
    question="Write mirror_negative(image): it flips a uint8 image left to right and inverts it (255 - value).",
    checker=expect_function(_mirror_negative, _mirror_negative_cases),
    hints=["Slicing with a step of -1 reverses an axis; columns are axis 1: image[:, ::-1].",
           "Inverting a uint8 image is 255 - image (no overflow: the result stays within 0..255)."],
    solution_text="def mirror_negative(image):\n    return 255 - image[:, ::-1]",
    solution_value=_mirror_negative,
    wrong_examples=(lambda im: 255 - im, lambda im: im[:, ::-1], lambda im: 255 - im[::-1], 42),
)

q4 = Exercise(
    name="q4",
    question="A dense network has 10 inputs, one hidden layer of 2 neurons and 1 output neuron. "
             "How many parameters (weights and biases) does it have?",
    checker=expect_integer(10 * 2 + 2 + 2 * 1 + 1),
    hints=["Each neuron has one weight per input it receives, plus one bias.",
           "Count layer by layer: (inputs x neurons) + neurons, then add the layers up."],
    solution_text="hidden: 10*2 weights + 2 biases = 22; output: 2*1 + 1 = 3; total 25.",
    solution_value=25,
    wrong_examples=(23, 22, 25.5),
)

q5 = Exercise(
    name="q5",
    question="Now 10 inputs, two hidden layers of 25 neurons each, and 1 output neuron. How many parameters?",
    checker=expect_integer((10 * 25 + 25) + (25 * 25 + 25) + (25 * 1 + 1)),
    hints=["Three layers of weights: 10->25, 25->25 and 25->1.",
           "Don't forget one bias per neuron in every layer (hidden and output)."],
    solution_text="(10*25 + 25) + (25*25 + 25) + (25*1 + 1) = 275 + 650 + 26 = 951.",
    solution_value=951,
    wrong_examples=(900, 926, 950),
)

q6 = Exercise(
    name="q6",
    question="Read the chart of one layer's parameters (or the table above it): when the side of an RGB image "
             "doubles, say from 500x500 to 1000x1000, by what factor does the dense layer's parameter count grow, "
             "and by what factor the conv layer's? Answer [dense factor, conv factor], rounded to whole numbers.",
    checker=expect_array([4, 1], atol=0.05),
    hints=["A dense layer has one weight per input number for every neuron: count the input numbers.",
           "Doubling the side doubles both the height and the width. The conv layer's count has no H or W in it."],
    solution_text="[4, 1]: the pixels (so the dense weights) grow with the area, 2 x 2 = 4 times; the conv layer "
                  "keeps (3*3*3 + 1) * 256 parameters whatever the image size.",
    solution_value=[4, 1],
    wrong_examples=([2, 1], [4, 4], [2, 2], [8, 1]),
)

q7 = Exercise(
    name="q7",
    question=choice_question(
        "In the table, the dense neuron's answer falls as the letter moves, while the sliding template's best "
        "answer stays the same. What does that say about a dense network trained only on centred letters?",
        {"A": "it recognises a moved letter just as well.",
         "B": "it has to see the letter at every position during training, like a lookup table of positions.",
         "C": "it recognises a moved letter better, because fewer pixels overlap.",
         "D": "moving the letter changes nothing in its input."}),
    checker=expect_choice("B", "ABCD"),
    hints=["Each input pixel has its own weight: a moved letter lands on other weights.",
           "Which design reuses the same weights at every position: the dense neuron or the sliding template?"],
    solution_text="B. A dense layer ties every weight to one pixel position, so what it learned about a letter "
                  "in the centre says nothing about the same letter two pixels to the left; it must see (and "
                  "memorise) every position. A convolution reuses one set of weights everywhere.",
    solution_value="B",
    wrong_examples=("A", "C", "D", "E"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
