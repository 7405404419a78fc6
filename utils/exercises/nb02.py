"""Exercises for notebook 02, *Convolution by hand*, in the order the notebook asks them."""

from __future__ import annotations

import numpy as np

from utils import kernels
from utils.exercises import Exercise, choice_question, expect_array, expect_choice, expect_function, expect_integer

#: (N, F, P, S) for q5: input size, filter size, padding, stride.
SIZE_CASES = [(32, 5, 0, 1), (32, 5, 2, 1), (64, 3, 1, 2), (224, 7, 3, 2)]


def _conv_reference(image, kernel, stride=1, padding=0):
    return kernels.conv2d(image, kernel, padding=int(padding), stride=int(stride))


def _conv_cases() -> list[tuple]:
    rng = np.random.default_rng(2)
    cases = []
    for (h, w), (kh, kw), stride, padding in [((6, 6), (3, 3), 1, 0), ((7, 11), (3, 3), 2, 1),
                                              ((9, 5), (2, 3), 1, 2), ((10, 8), (5, 5), 3, 0),
                                              ((5, 12), (3, 1), 2, 2)]:
        cases.append((rng.normal(size=(h, w)).round(2), rng.normal(size=(kh, kw)).round(2), stride, padding))
    return cases


def _edge_images() -> dict[str, np.ndarray]:
    """Test pictures for q3: flat, a horizontal edge (dark above, bright below), a vertical edge, and flipped ones."""
    flat = np.full((12, 12), 100.0)
    horizontal = np.zeros((12, 12))
    horizontal[6:] = 100.0
    vertical = np.zeros((12, 12))
    vertical[:, 6:] = 100.0
    return {"flat": flat, "horizontal": horizontal, "horizontal (flipped)": horizontal[::-1],
            "vertical": vertical, "vertical (flipped)": vertical[:, ::-1]}


def _horizontal_edge_checker(answer) -> str | None:
    kernel = np.asarray(answer, dtype=float) if not isinstance(answer, str) else None
    if kernel is None or kernel.ndim != 2 or kernel.shape[0] < 2 or kernel.shape[0] > 7 or kernel.shape[1] > 7:
        return "expected a small 2-D kernel such as a 3x3 array of numbers."
    if not np.isfinite(kernel).all() or not np.abs(kernel).sum():
        return "your kernel is all zeros (or not finite): it responds to nothing."
    responses = {name: np.abs(kernels.conv2d(img, kernel)).max() for name, img in _edge_images().items()}
    strength = np.abs(kernel).sum() * 100.0
    if responses["flat"] > 1e-6 * strength:
        return ("it responds to a flat grey image; an edge detector should give 0 where nothing changes "
                "(weights summing to 0).")
    if min(responses["horizontal"], responses["horizontal (flipped)"]) < 0.2 * strength:
        return "it barely responds to a horizontal edge (dark above, bright below)."
    if max(responses["vertical"], responses["vertical (flipped)"]) > 0.05 * responses["horizontal"]:
        return "it also responds to vertical edges; it should only see changes from row to row."
    return None


def _flat_corner_values() -> list[float]:
    """q4: a flat image of 200s, 'same' zero padding: the top-left output of box blur, edge (8-neighbour), identity."""
    flat = np.full((6, 6), 200.0)
    return [float(kernels.conv2d(flat, kernels.get_kernel(name), "same")[0, 0])
            for name in ("box blur", "edge (8-neighbour)", "identity")]


q1 = Exercise(
    name="q1",
    question="Extend the loop: write my_conv2d(image, kernel, stride=1, padding=0), the cross-correlation of a "
             "2-D image with a 2-D kernel: pad with `padding` zeros on every side, then slide with step `stride`. "
             "It is checked against the reference on random inputs, non-square images and kernels included.",
    checker=expect_function(_conv_reference, _conv_cases),
    hints=["First pad: np.pad(image, padding). Then the output is (H + 2P - kh)//S + 1 by (W + 2P - kw)//S + 1.",
           "Output pixel (i, j) is np.sum(padded[i*S : i*S + kh, j*S : j*S + kw] * kernel)."],
    solution_text="def my_conv2d(image, kernel, stride=1, padding=0):\n"
                  "    padded = np.pad(image, padding)\n"
                  "    kh, kw = kernel.shape\n"
                  "    out_h = (padded.shape[0] - kh) // stride + 1\n"
                  "    out_w = (padded.shape[1] - kw) // stride + 1\n"
                  "    out = np.zeros((out_h, out_w))\n"
                  "    for i in range(out_h):\n"
                  "        for j in range(out_w):\n"
                  "            window = padded[i*stride:i*stride + kh, j*stride:j*stride + kw]\n"
                  "            out[i, j] = np.sum(window * kernel)\n"
                  "    return out",
    solution_value=_conv_reference,
    wrong_examples=(
        lambda im, k, s=1, p=0: kernels.conv2d(im, np.asarray(k)[::-1, ::-1], padding=p, stride=s),  # flipped
        lambda im, k, s=1, p=0: kernels.conv2d(im, k, padding=p, stride=1),  # ignores stride
        lambda im, k, s=1, p=0: kernels.conv2d(im, k, padding=0, stride=s),  # ignores padding
        "conv",
    ),
)

q2 = Exercise(
    name="q2",
    question=choice_question(
        "Read the table of spreads on flat, edge and noise regions. You need an edge detector for a noisy photo: "
        "which kernels give the least noise for the edges they find?",
        {"A": "edge (8-neighbour)", "B": "edge (4-neighbour)", "C": "sobel x and sobel y", "D": "corner (saddle)"}),
    checker=expect_choice("C", "ABCD"),
    hints=["The column noise/edges says how much noise comes out for each unit of edge: smaller is better.",
           "Among the kernels that find edges at all (large 'edges' spread, 0 on flat regions), which have the "
           "smallest noise/edges?"],
    solution_text="C. Sobel's noise/edges ratio is the smallest of the edge detectors (about half the Laplacians'), "
                  "because it also averages across three rows or columns. The corner kernel has the worst ratio: "
                  "it hardly answers to straight edges at all.",
    solution_value="C",
    wrong_examples=("A", "B", "D", "sobel"),
)

q3 = Exercise(
    name="q3",
    question="Design a 3x3 kernel that finds horizontal edges (brightness changing from one row to the next), "
             "gives 0 on flat regions and ignores vertical edges. Answer with a 2-D NumPy array.",
    checker=_horizontal_edge_checker,
    hints=["Look at Sobel x, which finds vertical edges. What would turn it by 90 degrees?",
           "Negative weights in the top row, positive in the bottom row, zeros in the middle; weights sum to 0."],
    solution_text=("kernel = np.array([[-1, -2, -1],\n"
                   "                   [ 0,  0,  0],\n"
                   "                   [ 1,  2,  1]])"
                   "  # Sobel y; [[-1,-1,-1],[0,0,0],[1,1,1]] works too"),
    solution_value=kernels.get_kernel("sobel y"),
    wrong_examples=(kernels.get_kernel("sobel x"), kernels.get_kernel("edge (4-neighbour)"),
                    kernels.get_kernel("box blur"), np.zeros((3, 3)), [1, 0, -1]),
)

q4 = Exercise(
    name="q4",
    question="A flat image where every pixel is 200 is filtered with 3x3 kernels and 'same' padding (one ring of "
             "zeros). What is the output at the top-left corner pixel for the box blur, the edge (8-neighbour) "
             "kernel and the identity? Work it out by hand; answer [box blur, edge (8-neighbour), identity].",
    checker=expect_array(_flat_corner_values(), atol=0.05),
    hints=["At the corner, the 3x3 window covers 4 image pixels (value 200) and 5 padding zeros.",
           "Box blur: the mean of the 9 numbers under it. Edge (8-neighbour): 8 x centre minus the sum of the "
           "8 neighbours, of which only 3 are image pixels."],
    solution_text="[88.9, 1000, 200]: the blur averages 4 x 200 with 5 zeros (800 / 9); the Laplacian gives "
                  "8 x 200 - 3 x 200 = 1000 instead of 0; the identity only looks at the pixel itself.",
    solution_value=[800 / 9, 1000, 200],
    wrong_examples=([200, 0, 200], [133.3, 600, 200], [800 / 9, 1000, 0], [800 / 9, 1000]),
)

q5 = Exercise(
    name="q5",
    question="Output sizes by hand: for each case (N, F, P, S) below, give (N - F + 2P)/S + 1, rounded down.\n  "
             + "\n  ".join(f"{k}: N={n}, F={f}, P={p}, S={s}" for k, (n, f, p, s) in enumerate(SIZE_CASES, 1))
             + "\nAnswer with a list of four whole numbers, in this order (ex.SIZE_CASES holds the cases).",
    checker=expect_array([kernels.output_size(n, f, p, s) for n, f, p, s in SIZE_CASES]),
    hints=["Plug each case into (N - F + 2P) / S + 1.",
           "When the division is not whole, round down: the last window must fit inside the padded image."],
    solution_text="(32-5)/1+1 = 28; (32-5+4)/1+1 = 32; floor((64-3+2)/2)+1 = 32; floor((224-7+6)/2)+1 = 112.",
    solution_value=[28, 32, 32, 112],
    wrong_examples=([28, 32, 31, 112], [27, 31, 31, 111], [28, 32, 32]),
)

_SEED_CNN = ((5 * 5 * 3 + 1) * 10) + ((3 * 3 * 10 + 1) * 20) + (21 * 21 * 20 * 100 + 100) + (100 * 10 + 10)

q6 = Exercise(
    name="q6",
    question="The lecture's CNN for RGB 50x50 images: Conv (10 filters, 5x5) -> max-pool 2x2 stride 2 -> Conv "
             "(20 filters, 3x3) -> Dense 100 -> Dense 10. Convolutions use 'valid' padding and stride 1; every layer "
             "has biases. How many parameters in total?",
    checker=expect_integer(_SEED_CNN),
    hints=["A conv layer has (F*F*C_in + 1) * C_out parameters; pooling has none.",
           "Track the shape: 50 -> 46 (conv 5x5) -> 23 (pool) -> 21 (conv 3x3); the first Dense layer sees "
           "21*21*20 numbers."],
    solution_text="conv1 (5*5*3+1)*10 = 760; pool 0; conv2 (3*3*10+1)*20 = 1,820; flatten 21*21*20 = 8,820; "
                  "dense1 8,820*100+100 = 882,100; dense2 100*10+10 = 1,010; total 885,690.",
    solution_value=_SEED_CNN,
    wrong_examples=(760 + 1820 + 1010, 750 + 1800 + 882000 + 1000, _SEED_CNN + 1),
)

q7 = Exercise(
    name="q7",
    question=choice_question(
        "Interpret the on-centre cell's curve (its answer against the diameter of a bright spot centred on it): "
        "how does the cell's answer depend on the size of the spot?",
        {"A": "the bigger the spot, the stronger the answer.",
         "B": "a spot about as wide as the centre answers most, and a spot covering the whole field gives almost "
              "nothing.",
         "C": "the smallest spot answers most.",
         "D": "every spot size gives the same answer."}),
    checker=expect_choice("B", "ABCD"),
    hints=["Follow the curve from left to right: where is its peak, and where does it end?",
           "Light on the surround is subtracted. The weights sum to 0: what does a uniformly lit field give?"],
    solution_text="B. The answer grows while the spot fills the positive centre, then falls as the spot spreads "
                  "onto the negative surround; a field lit all over gives 0 because the weights sum to 0. The "
                  "retina reports contrast (spots, edges), not the overall light level.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
