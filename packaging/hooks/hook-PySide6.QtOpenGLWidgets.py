"""Replaces PyInstaller's hook of this PySide6 module: the same collection, narrowed by bundle_rules.

PyInstaller's own hook collects every plugin of every type the module might use (GTK theme, SVG,
image formats, TLS, ...) and then every library those plugins link to; filtering here, before the
dependency analysis, keeps the libraries of the dropped plugins out of the bundle too.
"""

from bundle_rules import filter_hook_files
from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = filter_hook_files(binaries)
datas = filter_hook_files(datas)
