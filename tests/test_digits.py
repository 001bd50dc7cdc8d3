"""The main job: examples/train_digits.py trains a small CNN on sklearn's digits to >= 0.97."""
from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"


def _example():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cnn_on_digits_reaches_target_accuracy():
    example = _example()
    model, accuracy = example.train(backend="jax", seed=0, verbose=0)
    assert accuracy >= example.TARGET_ACCURACY, f"test accuracy {accuracy:.4f}"
    history = model.history.history
    assert history["val_accuracy"] and max(history["val_accuracy"]) >= 0.95
    assert model.get_weights()[0].shape == (3, 3, 1, 32)  # Conv2D kernel, Keras layout
