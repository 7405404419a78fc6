"""Tests for utils.genomics: encoding, the simulator's guarantee, scans, alignment, mutation maps and saliency."""

from __future__ import annotations

import numpy as np
import pytest

from utils import genomics as g
from utils.errors import CourseError


def test_one_hot_columns_and_round_trip():
    x = g.one_hot("GAtc")
    assert x.shape == (4, 4) and x.dtype == np.float32
    assert x.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]]
    assert g.decode(x) == "GATC"
    batch = g.one_hot(["ACGT", "TTTT"])
    assert batch.shape == (2, 4, 4) and g.decode(batch) == ["ACGT", "TTTT"]


@pytest.mark.parametrize("bad, where", [("ACGU", "'U' at position 3"), ("ACNT", "'N' (an unknown base)"),
                                        ("AC GT", "Spaces"), ("", "empty")])
def test_one_hot_says_which_letter_is_wrong(bad, where):
    with pytest.raises(CourseError, match=where.replace("(", r"\(").replace(")", r"\)")):
        g.one_hot(bad)


def test_one_hot_refuses_unequal_lengths_and_non_text():
    with pytest.raises(CourseError, match="same length"):
        g.one_hot(["ACG", "ACGT"])
    with pytest.raises(CourseError, match="text"):
        g.one_hot([123])


def test_reverse_complement():
    assert g.reverse_complement("AACG") == "CGTT"
    assert g.reverse_complement(g.PRIMER_MOTIF) == "GGAGTTCGGTCG"
    assert g.reverse_complement(g.reverse_complement("GATTACA")) == "GATTACA"


def test_simulator_plants_the_motif_where_it_says_and_keeps_it_out_of_negatives():
    data = g.simulate(n=400, seed=3)
    assert len(data) == 400 and data.labels.sum() == 200
    for seq, label, starts in zip(data.sequences, data.labels, data.positions):
        assert len(seq) == 50
        if label:
            assert seq[starts[0]:starts[0] + 12] == g.PRIMER_MOTIF
        else:
            assert starts == [] and g.PRIMER_MOTIF not in seq


def test_simulator_is_reproducible_and_seeds_differ():
    assert g.simulate(n=50, seed=1).sequences == g.simulate(n=50, seed=1).sequences
    assert g.simulate(n=50, seed=1).sequences != g.simulate(n=50, seed=2).sequences


def test_weak_motif_negatives_hold_no_near_copy():
    data = g.simulate(n=300, substitutions=2, seed=0)
    for seq, label, starts in zip(data.sequences, data.labels, data.positions):
        if label:
            assert g.mismatches(seq[starts[0]:starts[0] + 12], g.PRIMER_MOTIF) == 2
        else:
            assert g.find_motif(seq, g.PRIMER_MOTIF, max_mismatches=2) == []


def test_both_strands_and_two_motifs():
    data = g.simulate(n=300, both_strands=True, seed=0)
    rc = g.reverse_complement(g.PRIMER_MOTIF)
    assert {s[0] for s in data.strands if s} == {"+", "-"}
    for seq, label in zip(data.sequences, data.labels):
        assert (g.PRIMER_MOTIF in seq or rc in seq) == bool(label)
    pair = g.simulate(n=300, motif="GATAACGC", second_motif="TTAGGCAT", seed=0)
    for seq, label in zip(pair.sequences, pair.labels):
        assert ("GATAACGC" in seq and "TTAGGCAT" in seq) == bool(label)
    negatives = [(("GATAACGC" in s), ("TTAGGCAT" in s)) for s, y in zip(pair.sequences, pair.labels) if not y]
    assert {(True, False), (False, True), (False, False)} == set(negatives)


def test_simulator_refuses_impossible_settings():
    with pytest.raises(CourseError):
        g.simulate(n=10, length=10)
    with pytest.raises(CourseError):
        g.simulate(n=10, substitutions=6)


def test_scan_finds_the_planted_motif():
    data = g.simulate(n=40, seed=5)
    pwm = g.one_hot(g.PRIMER_MOTIF)
    for x, label, starts in zip(data.x, data.labels, data.positions):
        trace = g.scan(x, pwm)
        assert len(trace) == 39
        if label:
            assert trace.argmax() == starts[0] and trace.max() == 12
        else:
            assert trace.max() < 12


def test_scan_equals_keras_conv1d():
    import keras

    rng = np.random.default_rng(0)
    x, w = g.one_hot(g.random_sequence(30, rng)), rng.normal(size=(5, 4))
    layer = keras.layers.Conv1D(1, 5, use_bias=False)
    layer.build((None, 30, 4))
    layer.set_weights([w[:, :, None].astype("float32")])
    assert np.allclose(np.asarray(layer(x[None]))[0, :, 0], g.scan(x, w), atol=1e-5)


def test_find_motif_and_align():
    assert g.find_motif("TTCGACCGAACTCCTT", g.PRIMER_MOTIF) == [2]
    assert g.find_motif("TT" + g.reverse_complement(g.PRIMER_MOTIF), g.PRIMER_MOTIF) == []
    assert g.find_motif("TT" + g.reverse_complement(g.PRIMER_MOTIF), g.PRIMER_MOTIF, both_strands=True) == [2]
    assert g.align(g.PRIMER_MOTIF, g.PRIMER_MOTIF) == (0, 12)
    assert g.align("ACCGAACTCCGG", g.PRIMER_MOTIF) == (2, 10)   # shifted by 2: 10 bases overlap and agree
    assert g.align("CCG", "AACCGT")[0] == 2


def test_consensus_reads_the_best_base():
    w = -np.ones((3, 4))
    w[0, 2] = w[1, 0] = w[2, 3] = 1
    assert g.consensus(w) == "GAT"


def test_mutation_map_of_a_model_reading_one_position_lights_up_only_there():
    reads_g_at_7 = lambda batch: 3.0 * batch[:, 7, 2]   # noqa: E731  (a "model" that only looks at position 7)
    x = g.one_hot("A" * 20)
    heat = g.mutation_map(reads_g_at_7, x)
    assert heat.shape == (20, 4)
    assert heat[7, 2] == pytest.approx(3.0)
    others = heat.copy()
    others[7, 2] = 0
    assert np.all(others == 0)


def test_mutation_map_of_a_keras_model_and_reference_bases_are_zero():
    import keras

    model = keras.Sequential([keras.Input((10, 4)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    w = np.zeros((40, 1), "float32")
    w[4 * 4 + 1] = 2.0       # only C at position 4 counts
    model.layers[-1].set_weights([w])
    x = g.one_hot("ACGTACGTAC")
    heat = g.mutation_map(model, x)
    assert heat[4, 1] == pytest.approx(2.0)
    assert np.count_nonzero(np.abs(heat) > 1e-6) == 1
    assert np.all(heat[x.astype(bool)] == 0)


def test_saliency_is_gradient_times_input():
    import keras

    model = keras.Sequential([keras.Input((6, 4)), keras.layers.Flatten(), keras.layers.Dense(1, use_bias=False)])
    w = np.arange(24, dtype="float32").reshape(24, 1)
    model.layers[-1].set_weights([w])
    x = g.one_hot("ACGTAC")
    expected = (w.reshape(6, 4) * x).sum(axis=1)
    assert np.allclose(g.saliency(model, x), expected)


def test_split_uses_the_primers_proportions():
    data = g.simulate(n=2000, seed=0)
    (xt, yt), (xv, yv), (xs, ys), parts = g.split(data)
    assert (len(yt), len(yv), len(ys)) == (1125, 375, 500)
    assert len(set(np.concatenate(list(parts.values())))) == 2000


def test_filter_logo_draws_with_and_without_logomaker():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = np.random.default_rng(0).normal(size=(12, 4))
    ax = g.filter_logo(w, title="plain", use_logomaker=False)
    assert ax.get_title() == "plain" and len(ax.patches) == 48
    plt.close("all")
    if g.logomaker_available():
        ax = g.filter_logo(w, use_logomaker=True)
        assert len(ax.get_xticks()) == 12
        plt.close("all")
    with pytest.raises(CourseError):
        g.filter_logo(np.zeros((12, 3)))
