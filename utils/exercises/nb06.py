"""Exercises for notebook 06, *The classic architectures, their numbers reproduced*."""

from __future__ import annotations

from utils.exercises import Exercise, choice_question, expect_choice, expect_integer, expect_shape

q1 = Exercise(
    name="q1",
    question="AlexNet's first layer: 96 filters of 11x11 over the 3 colour channels, one bias per filter. "
             "How many parameters does it have?",
    checker=expect_integer((11 * 11 * 3 + 1) * 96),
    hints=["One filter has a weight for every pixel of its 11x11 window in each of the 3 channels.",
           "Add one bias per filter, then multiply by the number of filters."],
    solution_text="Each filter: 11*11*3 = 363 weights + 1 bias = 364; 96 filters: 364*96 = 34,944 "
                  "(the notes' '35K' counts the 34,848 weights without the biases).",
    solution_value=34_944,
    wrong_examples=(34_848, 363, 290_400, "34944"),
)

q2 = Exercise(
    name="q2",
    question="AlexNet's conv1 gives 55x55x96. Max pooling with a 3x3 window and stride 2 follows. "
             "What shape comes out?",
    checker=expect_shape((27, 27, 96)),
    hints=["Output size = (N - F) / S + 1 for each side.", "Pooling works on each channel by itself."],
    solution_text="(55 - 3) / 2 + 1 = 27 on each side, channels unchanged: (27, 27, 96), with 0 parameters.",
    solution_value=(27, 27, 96),
    wrong_examples=((26, 26, 96), (27, 27, 48), (18, 18, 96), (27, 27)),
)

q3 = Exercise(
    name="q3",
    question="VGG16's third block: three 3x3 convolutions with 256 filters each (and biases); the block's input "
             "has 128 channels. How many parameters has the block?",
    checker=expect_integer((3 * 3 * 128 * 256 + 256) + 2 * (3 * 3 * 256 * 256 + 256)),
    hints=["The first convolution sees 128 channels; the next two see the 256 made by the one before.",
           "A 3x3 conv from C_in to C_out channels has 3*3*C_in*C_out weights and C_out biases."],
    solution_text="(3*3*128*256 + 256) + 2*(3*3*256*256 + 256) = 295,168 + 2*590,080 = 1,475,328.",
    solution_value=1_475_328,
    wrong_examples=(1_474_560, 1_769_472, 884_736),
)

q4 = Exercise(
    name="q4",
    question="Two stacked 3x3 convolutions see a 5x5 window, like one 5x5 convolution. With C = 256 channels in "
             "and out, how many weights (no biases) do the two 3x3 convolutions have together?",
    checker=expect_integer(2 * 3 * 3 * 256 * 256),
    hints=["One 3x3 conv from C to C channels has 9*C^2 weights.", "Two of them: 18*C^2 (the 5x5 needs 25*C^2)."],
    solution_text="2 * 9 * 256^2 = 1,179,648, against 25 * 256^2 = 1,638,400 for one 5x5: 28% fewer, and one "
                  "more ReLU in between.",
    solution_value=1_179_648,
    wrong_examples=(1_638_400, 589_824, 4_608),
)

q5 = Exercise(
    name="q5",
    question="A bottleneck block (1x1 to 128 filters, 3x3 with stride 2, 1x1 to 4*128) gets a 56x56x256 input. "
             "What shape does it output?",
    checker=expect_shape((28, 28, 512)),
    hints=["The stride 2 in the 3x3 convolution halves height and width (the shortcut is strided too).",
           "The last 1x1 convolution expands to 4 times the block's filter count."],
    solution_text="Stride 2 halves 56 to 28; the last 1x1 has 4*128 = 512 filters: (28, 28, 512). The shortcut "
                  "must match, so it is a strided 1x1 projection from 256 to 512 channels.",
    solution_value=(28, 28, 512),
    wrong_examples=((28, 28, 128), (56, 56, 512), (28, 28, 256)),
)

q6 = Exercise(
    name="q6",
    question=choice_question(
        "In the summary table, AlexNet (single tower) and ResNet-152 have about as many parameters, but "
        "ResNet-152 does about ten times as many multiply-adds per image. Why?",
        {"A": "ResNet's weights are stored in a more precise format.",
         "B": "most of AlexNet's weights sit in fully connected layers, each used once per image, while a "
              "convolution's weights are used again at every position of its feature map.",
         "C": "ResNet-152 has more layers, and every layer costs the same.",
         "D": "batch normalisation does most of ResNet's multiply-adds."}),
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Compare, in the formulas at the top, the MACs of a dense layer with its parameters, and the same for "
           "a convolution.",
           "A dense layer does one multiply-add per weight; a convolution does H x W of them per weight."],
    solution_text="B. AlexNet's fc6-fc8 hold most of its parameters but do only one multiply-add per weight; a "
                  "convolution's weights are applied at every one of the H x W output positions. ResNet drops the "
                  "big dense layers (global average pooling, one small dense layer) and spends its parameters on "
                  "convolutions. Layers do not all cost the same (C), and batch normalisation's work is tiny (D).",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q7 = Exercise(
    name="q7",
    question=choice_question(
        "In the plain deep stack, the spread of the activations falls block after block with Keras' default "
        "(Glorot) initialisation, and stays about level with He initialisation. Why?",
        {"A": "Glorot's weights are too large, so the ReLUs saturate.",
         "B": "ReLU sets about half of its inputs to zero, halving the signal's variance at every layer; He's "
              "weight variance, 2/fan_in, makes up for that factor; Glorot's, 2/(fan_in + fan_out), here 1/fan_in, "
              "does not.",
         "C": "He initialisation adds the shortcut connections.",
         "D": "Glorot initialisation is random, He initialisation is not."}),
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["What does a ReLU do to the half of its inputs that are negative, and what does that do to the variance?",
           "He et al. (2015) chose the variance 2/fan_in exactly to make up for the factor 1/2 that ReLU costs."],
    solution_text="B. With fan_in = fan_out (same channels in and out), Glorot gives each weight a variance of "
                  "1/fan_in, which keeps the variance through a linear layer; ReLU then halves it, so after 19 "
                  "layers hardly any signal is left. He's 2/fan_in doubles the weights' "
                  "variance to make up for it. ReLUs do not saturate (A), both are random (D), and the shortcuts "
                  "are an architecture choice, not an initialisation (C).",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
