#!/usr/bin/env bash
# Set up quorumcheck on a fresh Debian machine, idempotently:
#   - Graphviz's `dot` (for rendering), Chromium (to test the HTML report headless) and python3-venv,
#     from Debian's packages, if missing;
#   - a virtualenv in .venv with quorumcheck installed (editable) with its test and Ray extras.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "quorumcheck needs Python 3.11 or newer as python3 (found: $(python3 --version 2>&1))" >&2
    exit 2
fi

packages=()
command -v dot >/dev/null 2>&1 || packages+=(graphviz)
# Headless Chromium: tests/test_report_browser.py steps through an HTML report in a real browser.
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
if [ ! -x .venv/bin/python ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)
fi
if [ ${#packages[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${packages[*]} with apt-get" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,ray]'
echo "setup: ready ($(.venv/bin/quorumcheck --version), $(dot -V 2>&1 | head -n 1))" >&2
