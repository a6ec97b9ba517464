#!/usr/bin/env bash
# Install the Debian packages the assistant and its tests need, where missing:
#   espeak-ng ffmpeg sox                          speech: TTS, audio conversion, test speech
#   chromium chromium-driver fonts-wqy-microhei   the kiosk's browser test
#   postgresql redis-server                       the scaled set-up tests
# Extra package names may be given as arguments (.ci/run adds make).
# Needs apt-get and root or password-less sudo; elsewhere it names what is missing and
# how to install it, and goes on (the tests that need a missing tool then fail or skip).
set -euo pipefail

packages=(espeak-ng ffmpeg sox chromium chromium-driver fonts-wqy-microhei postgresql redis-server "$@")
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  SUDO="unavailable"
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$SUDO" = "unavailable" ]; then
  echo "WARNING: system packages missing: ${missing[*]}" >&2
  echo "  install them, e.g.: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "Installing system packages: ${missing[*]} …"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
