#!/usr/bin/env bash
# Makes .venv with a Python 3.12+ interpreter, installs the project into it and installs
# tiktoken's encoding files offline. Safe to run again: it only reinstalls when pyproject changes.
set -euo pipefail
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        ok "$PYTHON" && { echo "$PYTHON"; return; }
        echo "PYTHON=$PYTHON is not a Python 3.12 or newer" >&2; exit 1
    fi
    for name in python3.13 python3.12 python3; do
        if command -v "$name" >/dev/null 2>&1 && ok "$name"; then command -v "$name"; return; fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
            p="$(pyenv prefix "$v" 2>/dev/null)/bin/python"
            ok "$p" && { echo "$p"; return; }
        done
    fi
    echo "No Python 3.12+ found. Install one, or set PYTHON=/path/to/python3.12." >&2
    exit 1
}

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
    py="$(find_python)"
    echo "Using $py ($("$py" --version))"
    rm -rf .venv
    "$py" -m venv .venv
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev,postgres]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi

.venv/bin/python manage.py install_tokenizers
