#!/usr/bin/env bash
# Idempotent set-up of the mtj_kwant development environment.
#
# Creates .venv at the repository root, installs Kwant 1.5 (built from source
# against numpy 2, with MUMPS when Debian's libmumps-seq-dev can be installed),
# and installs this package in editable mode with its test extras.
#
# The Kwant wheel is cached in ${MTJ_KWANT_CACHE:-$HOME/.cache/mtj_kwant}/wheels
# so that a second set-up takes seconds.  Safe to run any number of times.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
cache="${MTJ_KWANT_CACHE:-$HOME/.cache/mtj_kwant}"
wheels="$cache/wheels"
stamp="$venv/.mtj_kwant_setup"
python="${PYTHON:-python3}"
extras="${MTJ_KWANT_EXTRAS:-test}"

say() { echo "[setup] $*" >&2; }

# Fast path: nothing changed since the last successful set-up.
want="$(cat "$root/pyproject.toml" "$root/scripts/setup.sh" | sha256sum | cut -c1-16)-$extras"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/mtj-kwant" ]; then
    exit 0
fi

# 1. MUMPS (optional, needs root and the Debian package index).
have_mumps() { [ -e /usr/include/dmumps_c.h ] || [ -e /usr/include/mumps/dmumps_c.h ]; }
if ! have_mumps; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing libmumps-seq-dev (sparse direct solver for Kwant)"
        if ! (apt-get install -y -qq libmumps-seq-dev >/dev/null 2>&1 ||
              (apt-get update -qq >/dev/null 2>&1 &&
               apt-get install -y -qq libmumps-seq-dev >/dev/null 2>&1)); then
            say "could not install libmumps-seq-dev; continuing without MUMPS"
        fi
    else
        say "not root: Kwant will use SciPy's sparse solver instead of MUMPS"
        say "(Kwant's own solver then runs about 2-5x slower; the batched solver is unaffected)"
    fi
fi
if have_mumps; then mumps=mumps; else mumps=nomumps; fi

# 2. Virtual environment.
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip setuptools wheel >/dev/null

# 3. Kwant 1.5.0 from source against numpy 2 (DESIGN.md section 5), cached.
mkdir -p "$wheels"
pyver="$("$venv/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
kwant_wheel="$(ls "$wheels"/$mumps/kwant-1.5.0-"$pyver"-*.whl 2>/dev/null | head -n 1 || true)"
"${pip[@]}" install "numpy>=2,<3" "scipy>=1.11" "tinyarray>=1.2.4"
if ! "$venv/bin/python" -c 'import kwant' 2>/dev/null; then
    if [ -z "$kwant_wheel" ]; then
        say "building Kwant 1.5.0 from source ($mumps; about 2-3 minutes, done once)"
        build="$(mktemp -d)"
        "${pip[@]}" install "cython>=3" packaging
        "${pip[@]}" download --no-deps --no-binary :all: "kwant==1.5.0" -d "$build"
        tar -xzf "$build"/kwant-1.5.0.tar.gz -C "$build"
        (cd "$build/kwant-1.5.0" &&
         "$venv/bin/python" setup.py --cython bdist_wheel >"$build/build.log" 2>&1) || {
            say "Kwant build failed; log: $build/build.log"; exit 1; }
        grep -q "Auto-configured MUMPS" "$build/build.log" && say "Kwant linked against MUMPS"
        mkdir -p "$wheels/$mumps"
        cp "$build"/kwant-1.5.0/dist/kwant-1.5.0-*.whl "$wheels/$mumps/"
        kwant_wheel="$(ls "$wheels"/$mumps/kwant-1.5.0-"$pyver"-*.whl | head -n 1)"
        rm -rf "$build"
    fi
    say "installing cached Kwant wheel $(basename "$kwant_wheel")"
    "${pip[@]}" install --no-deps "$kwant_wheel"
fi

# 4. The package itself (editable) with the entry point mtj-kwant.
"${pip[@]}" install -e "$root[$extras]"
echo "$want" >"$stamp"
say "ready: $venv (Kwant $("$venv/bin/python" -c 'import kwant; print(kwant.__version__)'), $mumps)"
