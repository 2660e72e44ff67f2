#!/bin/sh
# Install krm-pulsar from a source tree into a fresh virtualenv: the container image's install
# step (Dockerfile), and exactly what tests/test_container.py runs.
#   scripts/install-venv.sh VENV [SRC]
# Byte-code is compiled at install time on purpose: the function runs as `nobody` on a
# read-only image, so Python could never cache it, and compiling on every run costs start-up.
set -eu
venv=$1
src=${2:-.}
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "$src"
# pip and setuptools are not needed at run time: a smaller image with less to patch.
"$venv/bin/python" -m pip uninstall --quiet --yes pip
"$venv/bin/krm-pulsar" --version
