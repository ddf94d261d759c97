#!/usr/bin/env bash
# Installs everything Calmline needs on a fresh Debian machine (idempotent; fast when done).
#   scripts/install.sh          runtime + test dependencies into .venv
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

APT_PACKAGES=(
  python3-venv
  libportaudio2 libsndfile1                                  # sounddevice, soundfile
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils  # virtual devices for the live tests
  espeak-ng sox                                              # the demo call and test speech
  xvfb xauth libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0
  libdbus-1-3 libfontconfig1 fonts-dejavu-core                # the Qt window (and under Xvfb)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "calmline install: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
VENV_PY=.venv/bin/python

# torch first, pinned: an unpinned torch (pulled in by a dependency) is a multi-GB CUDA build.
if ! "$VENV_PY" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  "$VENV_PY" -m pip install -q torch==2.13.0
fi

stamp=.venv/.calmline-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV_PY" -m pip install -q -e ".[test,train]"
  echo "$want" > "$stamp"
fi
