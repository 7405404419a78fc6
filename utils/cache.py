"""A keyed cache for any trained Keras model: load it when the recipe matches, train (and save) it when not.

Notebook 04's seed CNN has its own cache in :mod:`utils.models`. Later notebooks train other models (a transfer
learning source network, a GAN's generator, a VAE...) that later cells or notebooks reuse; they all go through
:func:`load_or_train`::

    recipe = {"model": cache.model_recipe(build()), "data": cache.fingerprint(x, y), "epochs": 5}
    model = cache.load_or_train("fashion_source", recipe, train=lambda: train_source(...), what="source CNN")

- ``recipe`` is anything JSON can write (numbers, strings, lists, dicts): whatever would change the trained
  model. Its SHA-256 is the key. :func:`model_recipe` turns an uncompiled or compiled model into such a dict
  (layer settings and optimizer, without Keras' per-session layer names); :func:`fingerprint` hashes arrays.
- Files live in ``env.cache_dir("models")`` as ``<name>-fast.keras`` / ``<name>-full.keras`` with a JSON note
  beside each, so fast and full mode never overwrite each other.
- A missing, stale (other key) or unreadable file is trained again; the function prints which it did and why.
- ``train`` returns the model, or ``(model, info)`` where ``info`` is a JSON-able dict (history, scores) kept in
  the note. The returned model carries ``model.course_cache`` (a :class:`CachedModel`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from utils import env
from utils.models import _without_names  # Keras numbers unnamed layers per session: names are not the recipe

if TYPE_CHECKING:  # pragma: no cover
    import keras


@dataclass
class CachedModel:
    """What :func:`load_or_train` did: ``status`` is ``"loaded"`` or ``"trained"``."""

    name: str
    key: str
    status: str
    path: str
    seconds: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


def fingerprint(*arrays: Any) -> str:
    """A SHA-256 (hex, 16 characters) of the arrays' shapes, dtypes and bytes: a data set's part of a recipe."""
    digest = hashlib.sha256()
    for arr in arrays:
        a = np.ascontiguousarray(arr)
        digest.update(f"{a.shape}{a.dtype}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]


def model_recipe(model: "keras.Model") -> dict[str, Any]:
    """A model's architecture (and optimizer, if compiled) as plain data, without Keras' per-session names."""
    optimizer = getattr(model, "optimizer", None)
    recipe = {"model": _without_names(model.get_config())}
    if optimizer is not None:
        recipe["optimizer"] = _without_names(optimizer.get_config())
    return json.loads(json.dumps(recipe, sort_keys=True, default=str))


def recipe_key(recipe: Any) -> str:
    """The cache key of a recipe: a 16-character SHA-256 of its JSON text (keys sorted)."""
    text = json.dumps(recipe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def paths(name: str, fast: bool) -> tuple[Path, Path]:
    """The ``.keras`` file and its JSON note for ``name`` in fast or full mode."""
    if not name or not all(ch.isalnum() or ch in "_-" for ch in name):
        raise ValueError(f"cache names use letters, digits, '_' and '-' only, got {name!r}")
    folder = env.cache_dir("models")
    stem = f"{name}-{'fast' if fast else 'full'}"
    return folder / f"{stem}.keras", folder / f"{stem}.json"


def read_note(name: str, fast: bool) -> CachedModel | None:
    """The JSON note of a cached model, or None when there is none or it cannot be read."""
    _, note = paths(name, fast)
    try:
        return CachedModel(**json.loads(note.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save(model: "keras.Model", name: str, recipe: Any, fast: bool, info: dict[str, Any] | None = None,
         seconds: float | None = None) -> CachedModel:
    """Save ``model`` under ``name`` with the key of ``recipe`` (atomically: never a half-written file)."""
    path, note = paths(name, fast)
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    tmp.replace(path)
    entry = CachedModel(name=name, key=recipe_key(recipe), status="trained", path=path.name,
                        seconds=None if seconds is None else round(float(seconds), 1), info=dict(info or {}))
    note.write_text(json.dumps(asdict(entry), indent=1, default=float))
    return entry


def load_or_train(name: str, recipe: Any, train: Callable[[], Any], fast: bool | None = None,
                  what: str = "the model", retrain: bool = False, verbose: bool = True,
                  custom_objects: dict[str, Any] | None = None) -> "keras.Model":
    """The model cached under ``name`` if its recipe matches, else ``train()``'s (then cached). See the module docs."""
    env.quiet_tensorflow()
    import keras

    fast = env.is_fast() if fast is None else fast
    key = recipe_key(recipe)
    path, _ = paths(name, fast)
    note = read_note(name, fast)
    why = "retrain=True was asked for"
    if not retrain:
        if note is None or not path.is_file():
            why = "none is cached yet"
        elif note.key != key:
            why = "the cached one was made with a different recipe"
        else:
            try:
                model = keras.models.load_model(path, custom_objects=custom_objects)
            except Exception as err:  # a broken or foreign file: train again rather than fail
                why = f"the cached file could not be read ({type(err).__name__})"
            else:
                note.status = "loaded"
                if verbose:
                    took = f"; training it took {note.seconds:.0f} s" if note.seconds else ""
                    print(f"Loaded {what} from the course cache (models/{path.name}{took}).")
                model.course_cache = note
                return model
    if verbose:
        print(f"Training {what} because {why}.")
    start = time.perf_counter()
    result = train()
    seconds = time.perf_counter() - start
    model, info = result if isinstance(result, tuple) else (result, {})
    entry = save(model, name, recipe, fast, info, seconds)
    if verbose:
        print(f"Trained in {seconds:.0f} s and saved in the course cache (models/{path.name}): "
              "the next run loads it.")
    model.course_cache = entry
    return model
