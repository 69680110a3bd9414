#!/usr/bin/env bash
# `make package` bundles the system libraries that Qt's xcb platform plugin links to, so that the
# app starts on desktops where they are not installed (Qt 6 needs several xcb-util libraries that
# many distributions do not install by default). They must be present on the build machine to be
# bundled: install Debian's packages when one is missing and we may; otherwise say what to install.
set -u
missing=()
for pair in libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 \
            libxcb-cursor.so.0:libxcb-cursor0 libxcb-image.so.0:libxcb-image0 \
            libxcb-render-util.so.0:libxcb-render-util0 libxkbcommon-x11.so.0:libxkbcommon-x11-0; do
  lib=${pair%%:*}
  if ! /sbin/ldconfig -p 2>/dev/null | grep -q "$lib"; then
    missing+=("${pair##*:}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} so the bundle carries what Qt's xcb plugin needs..."
  (apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }) \
    || echo "warning: could not install ${missing[*]}; the bundle will lack them." >&2
else
  echo "note: install ${missing[*]} before packaging, or the bundle will need them on the user's machine." >&2
fi
exit 0
