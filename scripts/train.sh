#!/usr/bin/env bash
# Set everything up on a fresh machine, then train the digits CNN (the main job).
# Extra arguments go to examples/train_digits.py, e.g. `--backend jax --epochs 30`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "jax,torch,tensorflow,openvino,examples"
exec .venv/bin/python examples/train_digits.py "$@"
