#!/usr/bin/env bash
# What the Android demo's tests need, from Debian's packages (run as root; .ci/run calls it):
#   the Java core     default-jdk-headless junit5 libandroid-json-org-java   (tests/test_android_core.py)
#   the shader        glslang-tools libegl-mesa0 libgl1-mesa-dri             (tests/test_android_gl.py)
#   the APK build     aapt zipalign apksigner dexdump                        (tests/test_android_apk.py)
#                     android-sdk-platform-23 dalvik-exchange: the API-23 android.jar and dx, from Debian
#                     bullseye (arch-independent), added to apt at a low pin priority so nothing else moves
# Does nothing when everything is there. Exit 0 either way: without the tools those tests skip and say why.
set -u
have_all() {
  [ -f /usr/share/java/junit-platform-console-standalone.jar ] && [ -f /usr/share/java/json-android.jar ] \
    && [ -f /usr/lib/android-sdk/platforms/android-23/android.jar ] \
    && [ -f /usr/lib/android-sdk/build-tools/debian/lib/dx.jar ] \
    && command -v glslangValidator aapt zipalign apksigner dexdump javac >/dev/null 2>&1
}
have_all && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get: the Android tests will skip" >&2; exit 0; }
if ! grep -rqs "bullseye" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/edgemef-bullseye.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' > /etc/apt/preferences.d/edgemef-bullseye
fi
{
  apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless junit5 \
      libandroid-json-org-java glslang-tools libegl-mesa0 libgl1-mesa-dri aapt zipalign apksigner dexdump \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bullseye android-sdk-platform-23 dalvik-exchange
} >/dev/null 2>&1 || echo "could not install the Android toolchain: those tests will skip" >&2
exit 0
