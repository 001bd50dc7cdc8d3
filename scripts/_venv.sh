# Sourced by the front-door scripts: create .venv once and install purekeras with the given extras.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
# PyTorch: pinned to the CPU wheel (an unpinned install pulls a multi-GB CUDA build).
case ",$1," in
  *,test,*|*,torch,*) .venv/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 ;;
esac
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$1]"
