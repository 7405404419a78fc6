"""Exercises for notebook 08, *Transfer learning: freeze, fine-tune, or train from scratch*."""

from __future__ import annotations

from typing import Any

from utils.exercises import NOT_ATTEMPTED, Checker, Exercise, expect_choice, expect_integer

#: The regimes, by the names the notebook uses.
REGIMES = ["scratch", "frozen", "last_block", "all"]

#: Three situations for q5: labelled target images, and how alike the source task is.
SITUATIONS = {
    "a": "300 labelled images; the pre-trained network saw a similar task",
    "b": "8,000 labelled images; a similar task",
    "c": "500,000 labelled images; a somewhat different task",
}
_Q5_ANSWER = {"a": "frozen", "b": "last_block", "c": "all"}


def _expect_regimes(expected: dict[str, str]) -> Checker:
    def check(answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return "expected a dict such as {'a': 'frozen', 'b': ..., 'c': ...}."
        missing = [k for k in expected if k not in answer]
        if missing:
            return f"give a regime for every situation; missing: {missing}."
        for key in expected:
            if answer[key] not in REGIMES:
                return f"situation {key!r}: {answer[key]!r} is not one of {REGIMES}."
        wrong = [k for k in expected if answer[k] != expected[k]]
        if wrong:
            return f"look again at situation(s) {wrong}."
        return None

    return check


q5 = Exercise(
    name="q5",
    question="For each situation in ex.SITUATIONS, which regime does the lecture notes' table advise (the notes' "
             "advice, not this notebook's measurement: the closing note compares the two)? "
             "Answer a dict {'a': ..., 'b': ..., 'c': ...} with regimes from ex.REGIMES.",
    checker=_expect_regimes(_Q5_ANSWER),
    hints=["The table has three rows: small, medium and large training sets.",
           "Small: freeze everything, train only the new softmax. Medium: also train the last layers. "
           "Large: start from the pre-trained weights and train everything."],
    solution_text="{'a': 'frozen', 'b': 'last_block', 'c': 'all'}. With half a million images even a somewhat "
                  "different task has enough data to re-train every layer, and the pre-trained weights are still "
                  "a better start than random ones. 'scratch' is what you do when no related network exists.",
    solution_value=dict(_Q5_ANSWER),
    wrong_examples=({"a": "all", "b": "last_block", "c": "all"},
                    {"a": "frozen", "b": "frozen", "c": "scratch"},
                    {"a": "scratch", "b": "last_block", "c": "all"},
                    ["frozen", "last_block", "all"]),
)

q2 = Exercise(
    name="q2",
    question="The target model (base + Dropout + Dense(5) head) in the `last_block` regime, as the table above "
             "shows it: how many trainable parameters does it have? Use the per-layer counts printed in section 2.",
    checker=expect_integer(3 * 3 * 32 * 64 + 64 * 5 + 5),
    hints=["Read the `last_block` column: which layers say 'train'? block3_bn is not one of them.",
           "block3_conv has no bias (use_bias=False); the head has 64 x 5 weights and 5 biases."],
    solution_text="block3_conv: 3*3*32*64 = 18,432; head: 64*5 + 5 = 325. Total 18,757. block3_bn stays frozen "
                  "(in inference mode): unfreezing it would add its 128 gamma and beta values, never its moving "
                  "statistics. transfer.count_trainable(model) after transfer.set_trainable(base, 'last_block') "
                  "agrees.",
    solution_value=18_757,
    wrong_examples=(18_885, 19_013, 325, 18_432),
)

BN_CHOICES = {
    "A": "It runs in inference mode: it normalizes with its moving mean and variance and stops updating them; "
         "gamma and beta stop training too.",
    "B": "Only gamma and beta stop training; it still normalizes with each batch's statistics and keeps "
         "updating its moving averages.",
    "C": "It is skipped: its input passes through unchanged.",
    "D": "It keeps updating its moving averages but uses them to normalize.",
}

q3 = Exercise(
    name="q3",
    question="In Keras 3, what does `layer.trainable = False` do to a BatchNormalization layer during fit()? "
             "Answer 'A', 'B', 'C' or 'D' (see ex.BN_CHOICES).",
    checker=expect_choice("A", list(BN_CHOICES)),
    hints=["Look at what the demonstration above printed for the frozen base: did the moving statistics change?",
           "Keras documents a special case for this one layer: trainable=False also means training=False."],
    solution_text="A. Since TensorFlow 2.0's tf.keras (and in Keras 3) a frozen BatchNormalization layer runs in "
                  "inference mode (the tf.keras BatchNormalization docs, 'About setting layer.trainable = False'; "
                  "multi-backend Keras 2 had declined the change, keras-team/keras PR #9965). B is what it did "
                  "before, and what PyTorch's requires_grad=False still does: the statistics keep moving unless you "
                  "also call .eval(). In Keras 3.0-3.15 a frozen BatchNormalization layer is also the only reliable "
                  "switch: the functional call's training=False is overridden by fit() (keras-team/keras#20285).",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

PLOT_STATEMENTS = {
    "A": "Transfer helps most when target data is scarce; as the training set grows, training from scratch "
         "catches up.",
    "B": "A frozen base with a new head is the best regime at every training-set size.",
    "C": "The more target data there is, the larger the advantage of the pre-trained weights.",
    "D": "Random (untrained) features with a new head stay at chance (20 %) at every size.",
}

#: What section 4 measured (set by :func:`record_measurement`): which of PLOT_STATEMENTS hold in this run.
_MEASURED: dict[str, dict[str, bool]] = {}
_DEFAULT_TRUTHS = {"A": True, "B": False, "C": False, "D": False}


def statement_truths(summary: dict, sizes: Any) -> dict[str, bool]:
    """Which PLOT_STATEMENTS a regimes summary ((regime, n) -> (mean, sd, seeds)) supports: A and C compare the
    best transfer regime's lead over scratch at the smallest and the largest size; B asks whether the frozen base
    is best everywhere; D whether random features stay within 5 points of chance (20 %) everywhere."""
    sizes = sorted(sizes)
    regimes = sorted({r for r, _ in summary})
    lead = {n: max(summary[r, n][0] for r in ("frozen", "last_block", "all") if (r, n) in summary)
            - summary["scratch", n][0] for n in sizes}
    return {"A": lead[sizes[0]] > lead[sizes[-1]],
            "B": all(max(regimes, key=lambda r: summary.get((r, n), (-1,))[0]) == "frozen" for n in sizes),
            "C": lead[sizes[-1]] > lead[sizes[0]],
            "D": all(abs(summary["random", n][0] - 0.2) < 0.05 for n in sizes if ("random", n) in summary)}


def record_measurement(summary: dict, sizes: Any) -> None:
    """Called by the notebook after section 4's runs, so that q4's right answer is what this run measured."""
    _MEASURED["truths"] = statement_truths(summary, sizes)


def _expect_supported() -> Checker:
    options = list(PLOT_STATEMENTS)

    def check(answer: Any) -> str | None:
        problem = expect_choice("A", options)(answer)
        if problem is not None and not (isinstance(answer, str) and answer.strip().upper() in options):
            return problem
        truths = _MEASURED.get("truths", _DEFAULT_TRUTHS)
        if truths.get(str(answer).strip().upper()):
            return None
        return "this run's table does not support that statement: compare each line's values at both ends."

    return check


class _MeasuredExercise(Exercise):
    def solution(self) -> None:
        super().solution()
        truths = _MEASURED.get("truths")
        if truths is not None:
            held = [k for k, v in truths.items() if v] or ["none"]
            print("In this run's table: " + ", ".join(held) + " holds.")


q4 = _MeasuredExercise(
    name="q4",
    question="Which statement do the regimes table and plot support? Answer 'A', 'B', 'C' or 'D' "
             "(see ex.PLOT_STATEMENTS).",
    checker=_expect_supported(),
    hints=["Take the best transfer regime's lead over scratch at the smallest size and at the largest.",
           "Is the frozen base on top at every size? Where does the random-features line sit against chance?"],
    solution_text="Compare the best transfer regime's lead over training from scratch at the smallest and the "
                  "largest size: if it shrinks, A; if it grows, C. B needs the frozen base on top at every size, D "
                  "the random-features line within 5 points of 20 % everywhere. The checker accepts what the table "
                  "this notebook measured supports (ex.statement_truths computes it).",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

NEGATIVE_CHOICES = {
    "A": "Negative transfer: the source taught features that are worse than none for this target.",
    "B": "Overfitting: the new head memorised the few labelled target images.",
    "C": "Catastrophic forgetting: fine-tuning erased what the source network knew.",
    "D": "Data leakage: target test images were used in training.",
}

q1 = Exercise(
    name="q1",
    question="A source network's frozen features score below an untrained network's random features on the "
             "target. What is that called? Answer 'A', 'B', 'C' or 'D' (see ex.NEGATIVE_CHOICES).",
    checker=expect_choice("A", list(NEGATIVE_CHOICES)),
    hints=["Nothing was fine-tuned and the test images were never trained on: which choices does that rule out?",
           "Overfitting would hurt the random features' head just as much: both heads see the same images."],
    solution_text="A. Transfer can hurt: a digits network's features describe strokes, not garments. Frozen "
                  "features were not changed (so not C), the same head trained on the same images for every "
                  "extractor (so not B), and the test set was used once, at the end (so not D). Pick a related "
                  "source, and compare with a no-transfer baseline.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)



# ------------------------------------------------------------------------------------- q6: code that freezes


def _reference_freeze_all_but_last(model: Any, k: int, learning_rate: float = 1e-4) -> Any:
    """The worked solution: freeze every convolution block but the last ``k``, keep BatchNormalization frozen,
    recompile."""
    import keras

    base = model.get_layer("base")
    blocks = sorted({layer.name.split("_")[0] for layer in base.layers if layer.name.startswith("block")})
    keep = set(blocks[len(blocks) - k:]) if k > 0 else set()
    base.trainable = True
    for layer in base.layers:
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = layer.name.split("_")[0] in keep and not is_bn
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def tiny_transfer_model(filters: tuple[int, ...] = (4, 6, 8)) -> Any:
    """A tiny base + head (the notebook's architecture with few filters), compiled and trained one step with the
    base frozen, as a fine-tuning model is before its last blocks are unfrozen."""
    import keras
    import numpy as np

    from utils import transfer

    keras.utils.set_random_seed(0)
    base = transfer.build_base(filters=filters)
    base.trainable = False
    model = transfer.compile_for(transfer.with_head(base, 3), 1e-2)
    x = np.random.default_rng(0).random((8, 28, 28, 1)).astype("float32")
    model.train_on_batch(x, np.arange(8) % 3)
    return model


def _expect_freezer() -> Checker:
    def check(function: Any) -> str | None:
        import numpy as np

        if not callable(function):
            return "expected a function freeze_all_but_last(model, k), not " + type(function).__name__ + "."
        x = np.random.default_rng(1).random((8, 28, 28, 1)).astype("float32")
        y = np.arange(8) % 3
        for k in (2, 0):  # k=2 first: a stub that changes nothing is "not attempted", not wrong
            model = tiny_transfer_model()
            before = {v.path: np.array(v.numpy()) for v in model.weights}
            try:
                returned = function(model, k)
            except Exception as err:  # the learner's code: say what broke, no traceback
                return f"your function raised {type(err).__name__} for k={k}: {str(err)[:80]}"
            if returned is not None and returned is not model:
                return "return the model you were given (or nothing), not a new one."
            base = model.get_layer("base")
            untouched = not base.trainable and not any(layer.trainable for layer in base.layers if layer.weights)
            if k == 2 and untouched:
                return NOT_ATTEMPTED  # the notebook's stub (or code that changes nothing)
            wanted = {f"block{b}" for b in range(4 - k, 4)} if k else set()
            for layer in base.layers:
                if not layer.weights:
                    continue
                block = layer.name.split("_")[0]
                if layer.name.endswith("_bn") and layer.trainable:
                    return f"k={k}: {layer.name} is trainable; keep BatchNormalization layers frozen."
                if layer.name.endswith("_conv") and layer.trainable != (block in wanted):
                    state = "trainable" if layer.trainable else "frozen"
                    return f"k={k}: {layer.name} is {state}; with k={k} only the last {k} block(s) should train."
            if not model.get_layer("head").trainable:
                return f"k={k}: the head is frozen; it must keep training."
            model.train_on_batch(x, y)
            moved = {v.path for v in model.weights if v.path in before
                     and not np.allclose(before[v.path], v.numpy())}
            should = {f"block{b}_conv/kernel" for b in range(4 - k, 4)} if k else set()
            got = {p for p in moved if p.startswith("block") and p.endswith("kernel")}
            if got != should:
                return (f"k={k}: after one training step the kernels of {sorted(got) or 'no block'} changed, "
                        f"but only those of {sorted(should) or 'no block'} should: did you compile again after "
                        "changing trainable?")
            if any("moving" in p for p in moved):
                return f"k={k}: BatchNormalization moving statistics changed; keep those layers frozen."
        return None

    return check


def _wrong_no_recompile(model: Any, k: int) -> Any:
    base = model.get_layer("base")
    base.trainable = True
    for layer in base.layers:
        wanted = {f"block{b}" for b in range(4 - k, 4)} if k else set()
        layer.trainable = layer.name.split("_")[0] in wanted and not layer.name.endswith("_bn")
    return model  # no model.compile(...): the old training function still trains what was trainable before


def _wrong_bn_unfrozen(model: Any, k: int) -> Any:
    import keras

    base = model.get_layer("base")
    base.trainable = True
    wanted = {f"block{b}" for b in range(4 - k, 4)} if k else set()
    for layer in base.layers:
        layer.trainable = layer.name.split("_")[0] in wanted
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    return model


def _wrong_first_blocks(model: Any, k: int) -> Any:
    import keras

    base = model.get_layer("base")
    base.trainable = True
    wanted = {f"block{b}" for b in range(1, k + 1)}
    for layer in base.layers:
        layer.trainable = layer.name.split("_")[0] in wanted and not layer.name.endswith("_bn")
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    return model


def _wrong_everything(model: Any, k: int) -> Any:
    import keras

    model.get_layer("base").trainable = True
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    return model


q6 = Exercise(
    name="q6",
    question="Write freeze_all_but_last(model, k): in a model made by transfer.with_head, let only the last k "
             "convolution blocks of its base (layers block{j}_...) and the head train, keep every "
             "BatchNormalization layer frozen, and compile again (Adam, a small learning rate). The checker runs "
             "it on a tiny model for k = 0 and 2 and trains one step.",
    checker=_expect_freezer(),
    hints=["model.get_layer('base').layers lists the layers; their names start with block1_, block2_, block3_. "
           "Set base.trainable = True first, then each layer's trainable.",
           "isinstance(layer, keras.layers.BatchNormalization) finds the BatchNormalization layers. Finish with "
           "model.compile(...): Keras reads the trainable flags when it compiles."],
    solution_text="def freeze_all_but_last(model, k, learning_rate=1e-4):\n"
                  "    base = model.get_layer('base')\n"
                  "    blocks = sorted({l.name.split('_')[0] for l in base.layers if l.name.startswith('block')})\n"
                  "    keep = set(blocks[len(blocks) - k:]) if k > 0 else set()\n"
                  "    base.trainable = True\n"
                  "    for layer in base.layers:\n"
                  "        is_bn = isinstance(layer, keras.layers.BatchNormalization)\n"
                  "        layer.trainable = layer.name.split('_')[0] in keep and not is_bn\n"
                  "    model.compile(optimizer=keras.optimizers.Adam(learning_rate),\n"
                  "                  loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
                  "    return model",
    solution_value=_reference_freeze_all_but_last,
    wrong_examples=(_wrong_no_recompile, _wrong_bn_unfrozen, _wrong_first_blocks, _wrong_everything, 42),
)

EXERCISES = [q1, q2, q3, q4, q5, q6]
