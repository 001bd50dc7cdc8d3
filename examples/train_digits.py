"""Train a small CNN on scikit-learn's bundled 8x8 digits with ``pk.Model``.

    python examples/train_digits.py --backend jax --epochs 20
    python examples/train_digits.py --backend torch
    python examples/train_digits.py --backend tensorflow
    python examples/train_digits.py --backend jax --predict-backend openvino

Loads the digits (no download), scales them to [0, 1], holds out a stratified
20% test split, trains with a progress bar, a 10% validation split and early
stopping, prints the test accuracy and exits non-zero below 0.97. The same
script runs on every training backend (jax, torch, tensorflow); only ``backend=``
changes.

On PyTorch the script runs ``torch.set_num_threads(--threads)`` (default 1):
for a model this small on a small CPU one thread is as fast as two when the
machine is idle and many times faster when other processes load it (see
``benchmarks/RESULTS.md``). The library itself never changes torch's threads.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings


import purekeras as pk
from purekeras import nn

TARGET_ACCURACY = 0.97


def load_data(seed: int = 0):
    """``(x_train, y_train), (x_test, y_test)``: images (n, 8, 8, 1) in [0, 1], int labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    y = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    return (x_train, y_train), (x_test, y_test)


def build_model() -> nn.Sequential:
    return nn.Sequential([
        nn.Conv2D(32, 3, padding="same", activation="relu"),
        nn.Conv2D(64, 3, padding="same", activation="relu"),
        nn.MaxPooling2D(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Dense(128, activation="relu"),
        nn.Dense(10),
    ])


def train(backend: str = "jax", epochs: int = 20, batch_size: int = 32, seed: int = 0,
          verbose="auto") -> tuple[pk.Model, float]:
    """Train the CNN; return the trained ``pk.Model`` and its test accuracy."""
    (x_train, y_train), (x_test, y_test) = load_data(seed)
    model = pk.Model(build_model(), input_shape=(8, 8, 1), backend=backend, seed=seed)
    model.compile(
        optimizer=pk.optim.Adam(learning_rate=2e-3),
        loss=pk.train.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose, validation_split=0.1,
        callbacks=[pk.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)],
    )
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    return model, float(accuracy)


def predict_on(model: pk.Model, backend: str, seed: int = 0) -> tuple[float, float]:
    """Test accuracy of ``model`` predicting on ``backend`` (e.g. ``"openvino"``) with the
    trained weights, and the fraction of test digits where it picks the same class as
    the training backend."""
    _, (x_test, y_test) = load_data(seed)
    there = model.predict(x_test, batch_size=256, verbose=0, backend=backend).argmax(-1)
    here = model.predict(x_test, batch_size=256, verbose=0).argmax(-1)
    return float((there == y_test).mean()), float((there == here).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads (torch only)")
    parser.add_argument("--predict-backend", default=None, choices=["openvino"],
                        help="after training, also predict the test set on this inference backend")
    args = parser.parse_args(argv)
    if args.backend == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no INFO lines from XLA (set before TF loads)
    if args.backend == "torch":
        import torch

        torch.set_num_threads(args.threads)
    model, accuracy = train(args.backend, args.epochs, args.batch_size, args.seed)
    model.summary()
    print(f"test accuracy: {accuracy:.4f}")
    if args.predict_backend:
        # `import openvino` sends usage telemetry from a forked process (opt out with
        # `opt_in_out --opt_out`); JAX, already running threads, warns about the fork.
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        other, agreement = predict_on(model, args.predict_backend, args.seed)
        print(f"test accuracy on {args.predict_backend}: {other:.4f} "
              f"(same class as {args.backend} on {agreement:.2%} of test digits)")
        accuracy = min(accuracy, other)
    if accuracy < TARGET_ACCURACY:
        print(f"FAILED: test accuracy {accuracy:.4f} < {TARGET_ACCURACY}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
