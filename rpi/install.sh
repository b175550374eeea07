#!/usr/bin/env bash
# Install edgemef's capture-and-fuse runner on 64-bit Raspberry Pi OS (trixie or bookworm). No PyTorch.
# Run it from the root of the edgemef checkout:
#
#   bash rpi/install.sh                 # apt packages, a virtual environment in ~/edgemef-venv, the runner
#   bash rpi/install.sh --service ART   # the same, plus a systemd unit running the capture loop with ART
#
# EDGEMEF_VENV overrides the environment's folder. For the arm64 proof without a Pi (rpi/prove_on_arm64.py, which
# runs this script in an arm64 Debian): EDGEMEF_SKIP_APT=1 skips apt (Debian has no python3-picamera2) and
# EDGEMEF_PIP_ARGS adds pip options (an offline wheel folder). The environment is made with --system-site-packages so it
# sees picamera2 and libcamera, which Raspberry Pi OS ships as apt packages (they are not on PyPI for the Pi).
set -euo pipefail

VENV="${EDGEMEF_VENV:-$HOME/edgemef-venv}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
SERVICE_ARTIFACT=""
if [ "${1:-}" = "--service" ]; then
  SERVICE_ARTIFACT="$(realpath "${2:?--service needs the artifact (.tflite or .onnx) the loop should use}")"
fi

if [ "$(uname -m)" != "aarch64" ]; then
  echo "install.sh: this is $(uname -m); the runner's wheels are for 64-bit Raspberry Pi OS (aarch64)." >&2
  echo "  A 32-bit OS (armv7l) has no ai-edge-litert/onnxruntime wheels: install the 64-bit image." >&2
  exit 1
fi

if [ -z "${EDGEMEF_SKIP_APT:-}" ]; then
  sudo apt-get update
  # gcc and python3-dev build edgemef's C kernels (the LUT applier, the thumbnails); without them numba and
  # OpenCV run instead
  sudo apt-get install -y --no-install-recommends python3-venv python3-picamera2 gcc python3-dev
fi

read -r -a PIP_ARGS <<< "${EDGEMEF_PIP_ARGS:-}"
python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install "${PIP_ARGS[@]}" --upgrade pip
"$VENV/bin/pip" install "${PIP_ARGS[@]}" -r "$REPO/rpi/requirements.txt"
"$VENV/bin/pip" install "${PIP_ARGS[@]}" --no-deps "$REPO"
"$VENV/bin/python" - <<'PY'
import edgemef.capture.cli, edgemef.runtime  # noqa: F401  (the runner imports without torch)
try:
    import picamera2  # noqa: F401
    print("edgemef runner installed; picamera2 found")
except ImportError as exc:
    print(f"edgemef runner installed; picamera2 NOT importable ({exc}): only --source files/webcam will work")
PY

if [ -n "$SERVICE_ARTIFACT" ]; then
  OUT="$HOME/edgemef-captures"
  mkdir -p "$OUT"
  sed -e "s|@USER@|$(id -un)|g" -e "s|@VENV@|$VENV|g" -e "s|@ARTIFACT@|$SERVICE_ARTIFACT|g" -e "s|@OUT@|$OUT|g" \
    "$REPO/rpi/edgemef-capture.service" | sudo tee /etc/systemd/system/edgemef-capture.service >/dev/null
  sudo systemctl daemon-reload
  sudo systemctl enable --now edgemef-capture.service
  echo "capture loop running: 'journalctl -u edgemef-capture -f'; latest image: $OUT/latest.jpg"
fi
echo "next: $VENV/bin/edgemef-capture --source picamera2 --artifact ARTIFACT.tflite -o fused.jpg"
