#!/usr/bin/env bash
# Check the Swift sources' format (swift-format lint, ios_demo/.swift-format), parse the app's entry point (App/),
# build the package (EdgeMEFCore and the guarded EdgeMEFDemo) and run EdgeMEFCore's XCTest, on Linux, in the
# Swift root that install_swift.sh made; run as root:
#     bash ios_demo/tools/swift_test.sh [GOLDEN_DIR]
#     bash ios_demo/tools/swift_test.sh --format      # rewrites the sources in place with swift-format
# GOLDEN_DIR (from make_golden.py) is copied in as EDGEMEF_GOLDEN, and what the tests write there (the
# report, the digest input) is copied back. The package builds in $ROOT/work/ios_demo, kept between runs
# (incremental builds). On macOS, run `swift test` in ios_demo/ instead.
set -euo pipefail
ROOT="${EDGEMEF_SWIFT_ROOT:-/var/cache/edgemef/swift-trixie}"
PACKAGE="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$ROOT/usr/libexec/swift/bin/swift" ] || { echo "no Swift root at $ROOT: run ios_demo/tools/install_swift.sh" >&2; exit 2; }
work="$ROOT/work"
mkdir -p "$work/ios_demo"
exec 9>"$work/lock" && flock 9
rm -rf "$work/ios_demo/Package.swift" "$work/ios_demo/.swift-format" "$work/ios_demo/Sources" \
  "$work/ios_demo/Tests" "$work/ios_demo/App" "$work/golden"
cp -r "$PACKAGE/Package.swift" "$PACKAGE/.swift-format" "$PACKAGE/Sources" "$PACKAGE/Tests" "$PACKAGE/App" \
  "$work/ios_demo/"
if [ "${1:-}" = "--format" ]; then
  unshare --mount --fork /bin/bash -c 'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/bash -c \
    "cd /work/ios_demo && /usr/libexec/swift/bin/swift-format format -i -r Package.swift Sources Tests App"' \
    "$ROOT"
  for part in Package.swift Sources Tests App; do
    rm -rf "${PACKAGE:?}/$part" && cp -r "$work/ios_demo/$part" "$PACKAGE/"
  done
  exit 0
fi
status=0
golden_env=()
if [ $# -ge 1 ]; then
  cp -r "$1" "$work/golden"
  golden_env=(EDGEMEF_GOLDEN=/work/golden)
fi
# proc is mounted in a private mount namespace, so it goes away with the run
unshare --mount --fork /bin/bash -c '
  mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i PATH=/usr/libexec/swift/bin:/usr/bin:/bin \
    HOME=/work LANG=C.UTF-8 "${@}" /bin/bash -c "cd /work/ios_demo \
      && swift-format lint --strict -r Package.swift Sources Tests App && swiftc -parse App/*.swift \
      && swift build --build-tests -q && swift test --skip-build --disable-swift-testing"
' "$ROOT" "${golden_env[@]}" || status=$?
if [ $# -ge 1 ]; then
  cp -r "$work/golden/." "$1/"
fi
exit $status
