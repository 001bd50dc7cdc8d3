#!/usr/bin/env bash
# Set everything up on a fresh machine, then run the whole test suite.
# Extra arguments go to pytest, e.g. `-k dense -x`.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" "test"
exec .venv/bin/python -m pytest -q "$@"
