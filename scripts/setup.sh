#!/usr/bin/env bash
# Makes .venv with a Python 3.12+ interpreter, installs the project into it and installs
# tiktoken's encoding files offline. Safe to run again: it only reinstalls when pyproject changes.
set -euo pipefail
cd "$(dirname "$0")/.."

# True if "$1" runs and is Python 3.12 or newer. A pyenv shim for a version that is not active
# is on PATH but fails when run, so running it (not just finding it) is the test.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

# The interpreter to make .venv with: $PYTHON if set (and nothing else), then python3.13 /
# python3.12 / python3 on PATH, then the newest 3.12+ that pyenv has installed.
find_python() {
    if [ -n "${PYTHON:-}" ]; then
        ok "$PYTHON" && { echo "$PYTHON"; return; }
        echo "PYTHON=$PYTHON is not a Python 3.12 or newer (it does not run, or is older)." >&2
        exit 1
    fi
    for name in python3.13 python3.12 python3; do
        if command -v "$name" >/dev/null 2>&1 && ok "$name"; then command -v "$name"; return; fi
    done
    # pyenv's versions, newest first; read from its folder too, as pyenv itself is often not
    # on PATH in a non-interactive shell.
    root="${PYENV_ROOT:-${HOME:-}/.pyenv}"
    if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root 2>/dev/null || echo "$root")"; fi
    if [ -d "$root/versions" ]; then
        for v in $(ls "$root/versions" | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)*$' | sort -rV); do
            p="$root/versions/$v/bin/python"
            ok "$p" && { echo "$p"; return; }
        done
    fi
    echo "No Python 3.12 or newer found (tried \$PYTHON, python3.13, python3.12, python3" \
        "and pyenv's versions in $root/versions)." >&2
    echo "Install one (e.g. apt-get install python3.13-venv, or pyenv install 3.13)," \
        "or set PYTHON=/path/to/python3.12." >&2
    exit 1
}

if [ -n "${PYTHON:-}" ] || [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
    py="$(find_python)"
fi
if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
    echo "Using $py ($("$py" --version 2>&1))"
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
