"""Build the one-folder app with PyInstaller: ``make package`` runs this.

Writes ``dist/alpaca-desk/`` (the executable ``alpaca-desk`` and its ``_internal`` folder) and, on
Linux, ``dist/alpaca-desk-VERSION-linux-ARCH.tar.gz`` with the desktop entry, the icon and a script
that installs both for the current user. Prints the build time and the bundle size.

Run from the repository root with the project's venv: ``.venv/bin/python packaging/build.py``.
The translations must be compiled first (``make translations``; ``make package`` does it).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
APP_NAME = "alpaca-desk"
LINUX_EXTRAS = {
    # file in the repository -> name at the top of the bundle
    PACKAGING / "alpaca-desk.desktop": "alpaca-desk.desktop",
    PACKAGING / "install-desktop-entry.sh": "install-desktop-entry.sh",
    ROOT / "assets" / "icons" / "alpaca-desk-256.png": "alpaca-desk.png",
}


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from runtime import __version__

    return __version__


def run_pyinstaller(dist: Path, work: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(PACKAGING / "alpaca-desk.spec"),
        "--noconfirm",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        "--log-level",
        os.environ.get("PYINSTALLER_LOG_LEVEL", "WARN"),
    ]
    # The build must see only the venv's packages, and nothing from the caller's PYTHONPATH.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "LLAMA_CPP_LIB_PATH")}
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def add_top_level_files(bundle: Path, work: Path) -> None:
    """Licences where a user sees them, and on Linux the desktop entry, icon and its installer."""
    shutil.copy2(work / "alpaca-desk" / "THIRD_PARTY_LICENSES", bundle / "THIRD_PARTY_LICENSES")
    if sys.platform.startswith("linux"):
        for source, name in LINUX_EXTRAS.items():
            shutil.copy2(source, bundle / name)
        (bundle / "install-desktop-entry.sh").chmod(0o755)


def make_archive(bundle: Path, out: Path) -> Path:
    """``bundle`` as a .tar.gz whose single top folder is the bundle's name (links kept)."""
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=bundle.name)
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder (default: dist/)")
    parser.add_argument("--work", default=str(ROOT / "build" / "pyinstaller"), help="PyInstaller's work folder")
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz")
    args = parser.parse_args(argv)
    dist, work = Path(args.dist).resolve(), Path(args.work).resolve()

    started = time.perf_counter()
    run_pyinstaller(dist, work)
    bundle = dist / APP_NAME
    if sys.platform == "darwin":
        bundle = dist / "Alpaca Desk.app"
    add_top_level_files(bundle if sys.platform != "darwin" else dist / APP_NAME, work)
    built = time.perf_counter() - started
    size = folder_size(bundle)
    print(f"built {bundle} in {built:.0f} s: {size / 1e6:.1f} MB")

    if sys.platform.startswith("linux") and not args.no_archive:
        arch = platform.machine() or "unknown"
        archive = make_archive(bundle, dist / f"{APP_NAME}-{version()}-linux-{arch}.tar.gz")
        print(
            f"archive {archive}: {archive.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - started:.0f} s in all)"
        )
    # An unchanged tree must not rebuild: make compares the executable's time with the sources'.
    (bundle / (APP_NAME + (".exe" if sys.platform == "win32" else ""))).touch(exist_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
