#!/usr/bin/env bash
# System packages the test suite needs: Xvfb and xdotool for the webcam window, Debian's chromium for the
# browser tests, ffmpeg-free fonts, and python3-tk: tkinter for Debian's own python3 (/usr/bin/python3), which
# lacks it, so that `emolens webcam` has a window there and the real-window tests run. Safe to run again; does
# nothing where all are present.
#   EMOLENS_PYTHON3_TK=no  leave python3-tk out (CI: its second pass runs on a Python without tkinter, as
#                          issue #31's reporter had; .ci/run sets it)
set -euo pipefail
need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "${EMOLENS_PYTHON3_TK:-yes}" != no ] && [ -x /usr/bin/python3 ] &&
    ! /usr/bin/python3 -c 'import tkinter' >/dev/null 2>&1; then
  need+=(python3-tk)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-system-deps: need root to install: ${need[*]} (tests that need them will skip)" >&2; exit 0; fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
