#!/usr/bin/env bash
# Qt draws Chinese text only when a CJK font is installed; without one every character is a
# box (offscreen screenshots and tests included). Install Debian's small WenQuanYi Micro Hei
# (1.6 MB) when no CJK font is present and we may; otherwise say what to install.
set -u
if command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh family 2>/dev/null | grep -q .; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing a CJK font (fonts-wqy-microhei) so Chinese text renders..."
  (apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null 2>&1; }) \
    || echo "warning: could not install fonts-wqy-microhei; Chinese text will show as boxes." >&2
else
  echo "note: no CJK font found; install one (e.g. fonts-wqy-microhei or Noto Sans CJK) to see Chinese text." >&2
fi
exit 0
