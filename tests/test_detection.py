"""Notebook 14 (detection): the canvas generator's boxes, landmarks and zoom (and notebook 13's canvases unchanged),
and the code the notebook teaches, run from the notebook itself: its box IoU agrees with the exercise checker's,
its NMS with TensorFlow's, its mAP with COCO's reference code (pycocotools) and with a case checked by hand."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from utils import segmentation as seg
from utils.errors import CourseError
from utils.exercises import nb14

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "14_finding_objects.ipynb"
#: The functions notebook 14 writes that these tests run.
TAUGHT = ("pairwise_iou", "nms", "match", "average_precision", "mean_average_precision", "map_at")


def digits(n: int = 40, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, (n, 28, 28)) ** 3 * 255).astype(np.uint8), np.arange(n) % 10


def test_notebook_13_canvases_are_unchanged():
    """Without scale=, the generator makes exactly the canvases it made before notebook 14 extended it."""
    x, y = digits()
    a, b = seg.make_canvases(x, y, 30, size=64, seed=3)
    c, d = seg.make_canvases(x, y, 5, size=96, min_digits=4, max_digits=6, seed=4)
    digest = hashlib.sha256(a.tobytes() + b.tobytes() + c.tobytes() + d.tobytes()).hexdigest()
    assert digest == "60ca92818d8b2ae87c95291dd6e00530fe9223b12d7f9d7079089adefba885b2"


def test_objects_give_tight_boxes_labels_and_landmarks_inside():
    x, y = digits()
    images, masks, objects = seg.make_canvases(x, y, 40, size=64, min_digits=1, max_digits=4, scale=(0.5, 1.2),
                                               objects=True, seed=1)
    assert len(objects.boxes) == len(objects.labels) == len(objects.keypoints) == 40
    for mask, boxes, labels, points, scales in zip(masks, objects.boxes, objects.labels, objects.keypoints,
                                                   objects.scales):
        assert boxes.shape == (len(labels), 4) and points.shape == (len(labels), 3, 2)
        assert np.all((scales >= 0.5) & (scales <= 1.2))
        assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
        assert np.all(boxes >= 0) and np.all(boxes <= 64)
        inside = ((points[..., 0] >= boxes[:, None, 0]) & (points[..., 0] <= boxes[:, None, 2])
                  & (points[..., 1] >= boxes[:, None, 1]) & (points[..., 1] <= boxes[:, None, 3]))
        assert inside.all()
        # every mask pixel of a digit lies inside a box of that digit (overlaps may hide some of its pixels)
        for d in np.unique(mask[mask > 0]) - 1:
            rows, cols = np.nonzero(mask == d + 1)
            own = boxes[labels == d]
            covered = np.zeros(len(rows), bool)
            for x0, y0, x1, y1 in own:
                covered |= (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
            assert covered.all()


def test_a_single_digit_box_is_exactly_its_mask():
    x, y = digits()
    _, masks, objects = seg.make_canvases(x, y, 20, size=64, max_digits=1, scale=(0.6, 1.4), objects=True, seed=2)
    for mask, box in zip(masks, objects.boxes):
        rows, cols = np.nonzero(mask)
        assert box[0].tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


def test_landmarks_of_a_known_shape():
    """A bar 4 pixels wide from row 5 to row 20: top end, ink centre and bottom end all in its middle column."""
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 5:21, 10:14] = 255
    _, _, objects = seg.make_canvases(x, np.array([1]), 1, size=28, objects=True, seed=0)
    assert objects.boxes[0][0].tolist() == [10, 5, 14, 21]
    np.testing.assert_allclose(objects.keypoints[0][0], [[12, 5.5], [12, 13], [12, 20.5]])


def test_same_seed_same_canvases_and_bad_scales_are_explained():
    x, y = digits()
    a = seg.make_canvases(x, y, 5, scale=(0.5, 1.0), objects=True, seed=9)
    b = seg.make_canvases(x, y, 5, scale=(0.5, 1.0), objects=True, seed=9)
    assert np.array_equal(a[0], b[0]) and all(np.array_equal(p, q) for p, q in zip(a[2].boxes, b[2].boxes))
    with pytest.raises(CourseError, match="scale"):
        seg.make_canvases(x, y, 2, size=64, scale=(0.5, 3.0))
    with pytest.raises(CourseError, match="scale"):
        seg.make_canvases(x, y, 2, size=64, scale=(0, 1))


@pytest.fixture(scope="module")
def taught() -> dict:
    """The notebook's own cells that define TAUGHT, run in a fresh namespace (only NumPy given)."""
    namespace = {"np": np}
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    defining = [s for s in sources if any(s.lstrip().startswith(f"def {name}(") or f"\ndef {name}(" in s
                                          for name in TAUGHT)]
    for source in defining:
        exec(compile(source, str(NOTEBOOK.name), "exec"), namespace)
    missing = [name for name in TAUGHT if name not in namespace]
    assert not missing, f"notebook 14 no longer defines {missing}"
    return namespace


def test_the_notebooks_iou_agrees_with_the_exercise_checker(taught):
    cases = nb14._iou_cases()
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 30, (50, 2))
    boxes = np.column_stack([corner, corner + rng.uniform(0, 15, (50, 2))])
    cases += [(boxes[i], boxes[j]) for i in range(10) for j in range(10)]
    for a, b in cases:
        assert taught["pairwise_iou"]([a], [b])[0, 0] == pytest.approx(nb14._box_iou(a, b), abs=1e-12), (a, b)
    assert taught["pairwise_iou"](np.zeros((0, 4)), boxes).shape == (0, 50)


def test_the_notebooks_nms_agrees_with_tensorflow(taught):
    import tensorflow as tf

    rng = np.random.default_rng(3)
    for n, threshold in ((0, 0.5), (1, 0.5), (60, 0.3), (200, 0.5), (200, 0.8)):
        corner = rng.uniform(0, 40, (n, 2))
        boxes = np.column_stack([corner, corner + rng.uniform(3, 20, (n, 2))])
        scores = rng.uniform(0, 1, n)
        ours = taught["nms"](boxes, scores, threshold)
        theirs = tf.image.non_max_suppression(boxes[:, [1, 0, 3, 2]].astype(np.float32), scores.astype(np.float32),
                                              max_output_size=max(n, 1), iou_threshold=threshold).numpy()
        assert ours.tolist() == theirs.tolist()
    assert taught["nms"]([[0, 0, 5, 5]] * 3, [0.1, 0.7, 0.3]).tolist() == [1]


def _truth(boxes, labels):
    return seg.CanvasObjects(boxes=[np.asarray(b, float).reshape(-1, 4) for b in boxes],
                             labels=[np.asarray(lab, int) for lab in labels],
                             keypoints=[np.zeros((len(lab), 3, 2)) for lab in labels],
                             scales=[np.ones(len(lab)) for lab in labels])


def test_the_notebooks_map_on_a_case_checked_by_hand(taught):
    """Two true 3s; detections scoring 0.9 (hit), 0.8 (miss), 0.7 (hit): AP = (51 + 50 * 2/3) / 101."""
    truth = _truth([[[0, 0, 10, 10], [20, 20, 30, 30]]], [[3, 3]])
    found = [(np.array([[0, 0, 10, 10], [40, 40, 50, 50], [21, 21, 30, 30]], float), np.array([0.9, 0.8, 0.7]),
              np.array([3, 3, 3]))]
    assert taught["map_at"](found, truth) == pytest.approx((51 + 50 * 2 / 3) / 101)
    # the 0.7 box has IoU 0.81 with the second 3: at IoU threshold 0.85 it misses, AP = 51 / 101 * 1
    assert taught["map_at"](found, truth, (0.85,)) == pytest.approx(51 / 101)
    # a wrong digit never matches; a duplicate of a found digit is a false positive
    wrong = [(found[0][0], found[0][1], np.array([3, 3, 5]))]
    assert taught["map_at"](wrong, truth) == pytest.approx(51 / 101)


def _random_case(seed: int, n_images: int = 30):
    rng = np.random.default_rng(seed)
    boxes, labels, found = [], [], []
    for _ in range(n_images):
        k = rng.integers(0, 5)
        corner = rng.uniform(0, 50, (k, 2))
        true = np.column_stack([corner, corner + rng.uniform(6, 20, (k, 2))])
        boxes.append(true)
        labels.append(rng.integers(0, 4, k))
        # detections: jittered copies of some true boxes (right or wrong class), plus random ones
        keep = rng.uniform(size=k) < 0.8
        near = true[keep] + rng.normal(0, 2.5, (keep.sum(), 4))
        extra_corner = rng.uniform(0, 50, (rng.integers(0, 4), 2))
        extra = np.column_stack([extra_corner, extra_corner + rng.uniform(6, 20, (len(extra_corner), 2))])
        det = np.vstack([near, extra, near[: rng.integers(0, len(near) + 1)] + 1.0])
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        det_labels = np.concatenate([np.where(rng.uniform(size=keep.sum()) < 0.85, labels[-1][keep],
                                              rng.integers(0, 4, keep.sum())),
                                     rng.integers(0, 4, len(det) - keep.sum())])
        found.append((det, rng.uniform(0, 1, len(det)), det_labels))
    return _truth(boxes, labels), found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_notebooks_map_agrees_with_pycocotools(taught, seed, capsys):
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth, found = _random_case(seed)
    gt = {"images": [{"id": i} for i in range(len(found))], "categories": [{"id": c} for c in range(4)],
          "annotations": []}
    for i, (boxes, labels) in enumerate(zip(truth.boxes, truth.labels)):
        for (x0, y0, x1, y1), c in zip(boxes, labels):
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i, "category_id": int(c),
                                      "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                                      "iscrowd": 0})
    dets = [{"image_id": i, "category_id": int(c), "bbox": [x0, y0, x1 - x0, y1 - y0], "score": float(s)}
            for i, (boxes, scores, labels) in enumerate(found)
            for (x0, y0, x1, y1), s, c in zip(boxes, scores, labels)]
    coco = COCO()
    coco.dataset = gt
    coco.createIndex()
    evaluation = COCOeval(coco, coco.loadRes(dets), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    capsys.readouterr()  # pycocotools prints its progress and table
    ious = np.round(np.arange(0.5, 0.96, 0.05), 2)
    assert taught["map_at"](found, truth) == pytest.approx(evaluation.stats[1], abs=1e-9)
    assert taught["map_at"](found, truth, (0.75,)) == pytest.approx(evaluation.stats[2], abs=1e-9)
    assert taught["map_at"](found, truth, ious) == pytest.approx(evaluation.stats[0], abs=1e-9)

