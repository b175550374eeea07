#!/usr/bin/env bash
# The Swift toolchain for EdgeMEFCore's tests (tests/test_ios_core.py), run as root; .ci/run calls it.
# Debian bookworm has no Swift; trixie packages swiftlang 6.0.3, which needs trixie's glibc. So this makes a
# minimal trixie root with debootstrap and installs swiftlang in it (about 2 minutes and 3.2 GB the first time).
# The root lives outside the checkout, in EDGEMEF_SWIFT_ROOT (default /var/cache/edgemef/swift-trixie), and a
# later run reuses it. Does nothing when it is there. Exit 0 either way: without it those tests skip and say why.
set -u
ROOT="${EDGEMEF_SWIFT_ROOT:-/var/cache/edgemef/swift-trixie}"
[ -x "$ROOT/usr/libexec/swift/bin/swift" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "not root: cannot make the Swift root; the iOS core's tests will skip" >&2
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null 2>&1 \
    || { echo "could not install debootstrap: the iOS core's tests will skip" >&2; exit 0; }
fi
partial="$ROOT.partial"
rm -rf "$partial" && mkdir -p "$(dirname "$ROOT")"
{
  debootstrap --variant=minbase trixie "$partial" http://deb.debian.org/debian \
    && cp /etc/resolv.conf "$partial/etc/resolv.conf" \
    && chroot "$partial" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && chroot "$partial" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends swiftlang libc6-dev libstdc++-14-dev \
    && chroot "$partial" /usr/bin/env apt-get clean \
    && mv "$partial" "$ROOT"
} > "${ROOT}.log" 2>&1 || echo "could not make the Swift root (see ${ROOT}.log): the iOS core's tests will skip" >&2
exit 0
