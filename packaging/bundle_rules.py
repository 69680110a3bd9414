"""What goes into the one-folder build, and what is kept out: used by alpaca-desk.spec.

Kept here rather than in the spec so that the rules are ordinary, linted, importable Python
(the smoke test and the build script read the same constants).

The bundle holds the app and runtime packages, the assets (compiled translations, icons, ...),
pyqtgraph for the quantization report's chart (its 2D plotting only, on the Qt modules below),
llama-cpp-python with its native libraries (one copy each: the wheel ships every library three
times, under its file name, its soname and its full version), and PySide6 with only QtCore, QtGui,
QtWidgets and (for pyqtgraph) QtOpenGL and QtOpenGLWidgets, the platform plugins a desktop needs
(xcb, wayland, offscreen, minimal), input methods (ibus, compose: Chinese input), the
desktop-portal theme (native file dialogs on Flatpak and GNOME) and Qt's own Simplified Chinese
translation (qtbase_zh_CN.qm). PNG is built into QtGui, so no image-format plugin is needed.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

APP_NAME = "alpaca-desk"
#: The Qt binding modules the app imports; every other PySide6 module is excluded. pyqtgraph 0.14
#: (the report's chart) imports QtOpenGL and QtOpenGLWidgets unconditionally (its optional GPU
#: drawing): 9.1 MB more in the bundle (QtOpenGL.abi3.so is 8.9 MB; Qt6OpenGL was already there).
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtOpenGL", "QtOpenGLWidgets")
ALL_QT_MODULES = [
    "Qt3DAnimation",
    "Qt3DCore",
    "Qt3DExtras",
    "Qt3DInput",
    "Qt3DLogic",
    "Qt3DRender",
    "QtAxContainer",
    "QtBluetooth",
    "QtCanvasPainter",
    "QtCharts",
    "QtConcurrent",
    "QtDBus",
    "QtDataVisualization",
    "QtDesigner",
    "QtGraphs",
    "QtGraphsWidgets",
    "QtHelp",
    "QtHttpServer",
    "QtLocation",
    "QtMultimedia",
    "QtMultimediaWidgets",
    "QtNetwork",
    "QtNetworkAuth",
    "QtNfc",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPdf",
    "QtPdfWidgets",
    "QtPositioning",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtQuick3D",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtRemoteObjects",
    "QtScxml",
    "QtSensors",
    "QtSerialBus",
    "QtSerialPort",
    "QtSpatialAudio",
    "QtSql",
    "QtStateMachine",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtTextToSpeech",
    "QtUiTools",
    "QtWebChannel",
    "QtWebEngineCore",
    "QtWebEngineQuick",
    "QtWebEngineWidgets",
    "QtWebSockets",
    "QtWebView",
    "QtXml",
]

#: Python packages never bundled: tests, build tools, other GUI toolkits, training-only libraries
#: (runtime/train's scripts run on the GPU host, not in the app), llama-cpp-python's server and
#: multimodal parts.
EXCLUDES = [
    *(f"PySide6.{name}" for name in ALL_QT_MODULES if name not in QT_MODULES),
    "tkinter",
    "_tkinter",
    # GNU readline is GPL-licensed and only serves interactive prompts (pdb, the REPL).
    "readline",
    "rlcompleter",
    "turtle",
    "idlelib",
    "lib2to3",
    "pydoc_data",
    "ensurepip",
    "venv",
    "distutils",
    "setuptools",
    "pkg_resources",
    "pip",
    "pytest",
    "_pytest",
    "pytestqt",
    "mypy",
    "ruff",
    "IPython",
    "matplotlib",
    # pyqtgraph (the report's chart) is bundled without what the app does not use: its examples,
    # 3D (PyOpenGL), notebook, console, flowchart and dock-area parts. It imports QtSvg and QtTest
    # where they exist and goes on without them (excluded above).
    "pyqtgraph.examples",
    "pyqtgraph.opengl",
    "pyqtgraph.jupyter",
    "pyqtgraph.console",
    "pyqtgraph.flowchart",
    "pyqtgraph.dockarea",
    "OpenGL",
    "numba",
    "cupy",
    "h5py",
    "PIL",
    "scipy",
    "pandas",
    "torch",
    "transformers",
    "peft",
    "deepspeed",
    "accelerate",
    "datasets",
    "safetensors",
    "llama_cpp.server",
    "llama_cpp.llava_cpp",
    "llama_cpp.mtmd_cpp",
    # The local server (runtime/serve) is starlette on uvicorn with h11 and asyncio, named in
    # server.py; uvicorn's optional speed-ups and file watcher are not used, nor openai (tests).
    "uvloop",
    "httptools",
    "websockets",
    "wsproto",
    "watchfiles",
    "openai",
    "fastapi",
    "sse_starlette",
    "pydantic_settings",
    "PyInstaller",
    # huggingface_hub is bundled for downloading tokenizers (hf_hub_download); its command line,
    # inference client and file system are not used, nor what only they import.
    "huggingface_hub.cli",
    "huggingface_hub.inference",
    "huggingface_hub.hf_file_system",
    "huggingface_hub._sandbox",
    "fsspec",
    # huggingface_hub downloads over plain HTTPS without it (Xet is only faster); 11 MB.
    "hf_xet",
    "tests",
    "bench",
]

# Qt plugins kept, by folder under PySide6/Qt/plugins (patterns on the file name).
QT_PLUGINS = {
    "platforms": ["*qxcb*", "*qwayland*", "*qoffscreen*", "*qminimal.*", "*qwindows*", "*qcocoa*", "*qdirect2d*"],
    "platforminputcontexts": ["*ibus*", "*compose*"],
    "platformthemes": ["*xdgdesktopportal*"],
    "xcbglintegrations": ["*"],
    "wayland-shell-integration": ["*xdg-shell*"],
    "wayland-decoration-client": ["*bradient*"],
    "wayland-graphics-integration-client": ["*wayland-egl*"],
    "styles": ["*"],  # Windows (qmodernwindowsstyle) and macOS (qmacstyle) native looks
}
# Qt libraries that the kept modules and plugins need; any other Qt library is dropped.
QT_LIBRARIES = [
    "Qt6Core",
    "Qt6Gui",
    "Qt6Widgets",
    "Qt6DBus",
    "Qt6XcbQpa",
    "Qt6WaylandClient",
    "Qt6WlShellIntegration",
    "Qt6OpenGL",
    "Qt6OpenGLWidgets",
    "Qt6EglFSDeviceIntegration",
]
QT_TRANSLATIONS = ["qtbase_zh_CN.qm"]
#: System libraries left to the system (Linux). The C++ runtime: a bundled older libstdc++ would be
#: loaded before the system's graphics drivers, which need the system's newer one. Fontconfig and
#: FreeType: the bundled copies may not read a newer system's font configuration, and then Chinese
#: text has no font. Every desktop Linux has all of these.
SYSTEM_LIBRARIES = ("libstdc++.so.6", "libgcc_s.so.1", "libfontconfig.so.1", "libfreetype.so.6")
#: llama-cpp-python libraries that the app never loads (multimodal).
LLAMA_UNUSED = ("mtmd", "llava")


def _qt_part(dest: str) -> tuple[str, str] | None:
    """(kind, rest) of a destination in PySide6's Qt tree: ("plugins", "platforms/libqxcb.so").

    Linux and macOS wheels keep Qt under ``PySide6/Qt/``; Windows wheels directly under ``PySide6/``.
    """
    parts = Path(dest).parts
    if not parts or parts[0] != "PySide6":
        return None
    i = 2 if len(parts) > 1 and parts[1] == "Qt" else 1
    if len(parts) < i + 2:
        return None
    return parts[i], "/".join(parts[i + 1 :])


#: A Qt library: libQt6Core.so.6, Qt6Core.dll, or a macOS framework (QtCore.framework/...).
_QT_LIBRARY = re.compile(r"^(lib)?Qt6\w+\.(so|dll|dylib)")
_QT_FRAMEWORK = re.compile(r"\b(Qt\w+)\.framework\b")


def keep(dest: str) -> bool:
    """Whether a file PyInstaller collected (by its destination in the bundle) stays."""
    path = Path(dest)
    name = path.name
    if sys.platform.startswith("linux") and name in SYSTEM_LIBRARIES:
        return False
    framework = _QT_FRAMEWORK.search(path.as_posix())
    if framework:
        return _keep_qt_library(framework.group(1))
    if _QT_LIBRARY.match(name):
        return _keep_qt_library(name)
    qt = _qt_part(dest)
    if qt is not None:
        kind, rest = qt
        if kind == "plugins":
            folder, _, file = rest.partition("/")
            return any(fnmatch.fnmatch(file, p) for p in QT_PLUGINS.get(folder, []))
        if kind == "translations":
            return rest in QT_TRANSLATIONS
        if kind in ("qml", "resources", "libexec", "metatypes", "typesystems", "include", "mkspecs"):
            return False
    top = path.parts[0] if path.parts else ""
    if top == "PySide6" and name.endswith((".pyi", ".h")):
        return False
    return not (top == "llama_cpp" and any(unused in name for unused in LLAMA_UNUSED))


def _keep_qt_library(name: str) -> bool:
    """Whether a Qt library (file name, or framework name like ``QtGui``) is one of :data:`QT_LIBRARIES`."""
    stem = re.split(r"\.(so|dll|dylib)", re.sub(r"^lib", "", name))[0]
    if not stem.startswith("Qt6"):
        stem = stem.replace("Qt", "Qt6", 1)  # macOS frameworks are named without the 6
    return stem in QT_LIBRARIES


def filter_hook_files(files: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A hook's ``(source, destination folder)`` list without the files :func:`keep` rejects."""
    return [(src, dest) for src, dest in files if keep(str(Path(dest) / Path(src).name))]


def filter_toc(toc: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``toc`` without the entries :func:`keep` rejects."""
    return [entry for entry in toc if keep(entry[0])]


def llama_lib_dir() -> Path:
    """llama-cpp-python's ``lib`` folder (found without importing llama_cpp)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llama-cpp-python is not installed in this environment (run `make setup`).")
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def llama_binaries() -> list[tuple[str, str]]:
    """(source, destination folder) of llama.cpp's native libraries, one copy of each.

    llama_cpp loads ``libllama.so`` (``llama.dll``, ``libllama.dylib``) by file name; that one needs
    the ggml libraries by soname (``libggml.so.0``, RUNPATH $ORIGIN), so on Linux exactly those names
    are shipped, in ``llama_cpp/lib`` as the package expects.
    """
    lib = llama_lib_dir()
    files = sorted(p for p in lib.iterdir() if p.is_file() and not any(u in p.name for u in LLAMA_UNUSED))
    if sys.platform.startswith("linux"):
        chosen = [p for p in files if p.name == "libllama.so" or re.fullmatch(r"lib[\w-]+\.so\.\d+", p.name)]
        chosen = [p for p in chosen if p.name != "libllama.so.0"]  # loaded as libllama.so
    elif sys.platform == "darwin":
        chosen = [p for p in files if p.suffix == ".dylib"]
    else:
        chosen = [p for p in files if p.suffix == ".dll"]
    if not any(p.name.startswith(("libllama", "llama")) for p in chosen):
        raise SystemExit(f"no llama library found in {lib}")
    return [(str(p), "llama_cpp/lib") for p in chosen]


def asset_datas(root: Path) -> list[tuple[str, str]]:
    """The assets folder without translation sources (.ts); fails if a translation is not compiled."""
    assets = root / "assets"
    datas = []
    for path in sorted(assets.rglob("*")):
        if path.is_file() and path.suffix not in (".ts", ".pyc") and "__pycache__" not in path.parts:
            datas.append((str(path), str(path.parent.relative_to(root))))
    for ts in assets.rglob("*.ts"):
        if not ts.with_suffix(".qm").is_file():
            raise SystemExit(f"{ts.with_suffix('.qm')} is missing: run `make translations` first")
    return datas


def remote_job_sources() -> list[tuple[str, str]]:
    """(source, destination folder) of the Python sources a training job on an SSH host runs.

    The bundle's own modules live in its archive, but a remote job needs files to upload: the
    training scripts with the runtime modules they import, the job agent and the set-up script.
    They are shipped as data at their paths in the source tree (``runtime/training/sft.py``), where
    runtime.training.remote.sources looks in either layout; nothing else of the app is shipped as source.
    """
    from runtime.training.remote.sources import shipped_sources

    return [(str(path), str(Path(name).parent)) for path, name in shipped_sources()]


def _has_debug_info(path: str) -> bool:
    result = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True, check=False)
    return ".debug_info" in result.stdout


def strip_debug_info(toc: Iterable[tuple[str, str, str]], out_dir: Path) -> list[tuple[str, str, str]]:
    """Linux: point binaries that carry debug information at copies without it.

    The Python that builds the bundle may be built with debug information (pyenv's is: libpython
    alone is 23 MB, 4 MB without). ``strip --strip-debug`` keeps the symbol tables, so nothing that
    looks a symbol up by name breaks; libraries that are already stripped are used as they are.
    """
    entries = list(toc)
    if not sys.platform.startswith("linux") or not (shutil.which("strip") and shutil.which("readelf")):
        return entries
    result = []
    for dest, src, kind in entries:
        if kind in ("BINARY", "EXTENSION") and Path(src).is_file() and _has_debug_info(src):
            target = out_dir / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_file() or target.stat().st_mtime < Path(src).stat().st_mtime:
                subprocess.run(["strip", "--strip-debug", "-o", str(target), src], check=True)
            src = str(target)
        result.append((dest, src, kind))
    return result
