#!/usr/bin/env bash
# Create the training venv (.venv-train/, git-ignored) and install pinned
# requirements. Also needs espeak-ng (and sox, optional) from apt:
#   apt-get install -y espeak-ng sox
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || echo "warning: espeak-ng not found (apt-get install -y espeak-ng)" >&2
python3 -m venv .venv-train
.venv-train/bin/pip install --upgrade pip
.venv-train/bin/pip install -r training/requirements.txt
echo "ok: activate with 'source .venv-train/bin/activate'"
