#!/bin/sh
# Add Alpaca Desk to the application menu of the current user (no root needed): installs the
# desktop entry, pointing at the alpaca-desk executable beside this script, and the icon.
# Run it again after moving the folder; `./install-desktop-entry.sh --remove` undoes it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/alpaca-desk.desktop"
icon="$data/icons/hicolor/256x256/apps/alpaca-desk.png"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$entry" "$icon"
    echo "removed $entry and $icon"
    exit 0
fi
mkdir -p "$(dirname "$entry")" "$(dirname "$icon")"
cp "$here/alpaca-desk.png" "$icon"
# Exec needs the absolute path; quote it for the desktop entry format (spaces in folder names).
sed "s|^Exec=.*|Exec=\"$here/alpaca-desk\"|" "$here/alpaca-desk.desktop" > "$entry"
chmod 644 "$entry"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "installed $entry"
