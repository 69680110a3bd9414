"""``alpaca-desk --self-test``: does this installation work, end to end, without a display?

It checks what a user would otherwise find broken by hand, in a temporary data folder (the
user's settings and conversations are never touched):

1. the inference host starts from this executable (``alpaca-desk host`` when frozen), loads a
   tiny GGUF model and generates a few tokens;
2. sentencepiece counts the tokens of a sample text with the model's own vocabulary (turned into
   a SentencePiece model) and agrees with llama.cpp's count;
3. the main window opens offscreen with the Chinese translation (the app's and Qt's own
   ``qtbase_zh_CN.qm``), loads the same model through the GUI's client, and closes;
4. the quantization report's chart (pyqtgraph) draws two points and encodes them as a PNG;
5. in a frozen build, nothing was loaded from outside the bundle (:mod:`app.isolation`);
6. every module of ``app`` and ``runtime`` imports (a frozen build that missed one fails here,
   not when the user first opens that feature);
7. nothing tried to reach the network: an audit hook records every Internet socket connection
   and name lookup made in this process (the start-up must not contact anything).

The model is ``--model PATH`` when given, else a tiny random-weight LLaMA written on the fly with
:mod:`runtime.models.tiny` from a small vocabulary built here (so the self-test needs no file at
all). It prints one JSON line (the results and the bundled library versions) and exits 0, or
prints one JSON line with ``"ok": false`` and the failing stage and exits 1.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

#: Exit code when a check failed (the JSON line says which).
FAILED_EXIT_CODE = 1
#: Text whose tokens are counted by both sentencepiece and llama.cpp.
SAMPLE_TEXT = "Once upon a time, there was a little girl who liked to read."
#: The prompt the host continues.
PROMPT = "Once upon a time"
GENERATE_TOKENS = 8
TIMEOUT_S = 120.0

# Plain pieces of the built-in vocabulary: letters, digits, punctuation, a few merges that make
# SentencePiece's BPE and llama.cpp's tokenizer actually merge something, and two Chinese
# characters so that UTF-8 text is exercised (everything else falls back to byte pieces).
_CHARS = "▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-你好"
_MERGES = ("▁t", "th", "▁th", "he", "▁the", "in", "▁a", "an", "er", "re", "on", "▁w", "▁o", "▁l", "▁r", "ce")


class SelfTestError(Exception):
    """A check failed; ``stage`` says which."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def builtin_vocabulary() -> bytes:
    """A minimal SentencePiece (BPE, byte fallback) model, serialized: the self-test's own vocabulary."""
    from sentencepiece import sentencepiece_model_pb2 as sp_pb2

    proto: Any = sp_pb2.ModelProto()  # type: ignore[attr-defined]
    piece_type: Any = proto.SentencePiece
    for text, kind in (("<unk>", piece_type.UNKNOWN), ("<s>", piece_type.CONTROL), ("</s>", piece_type.CONTROL)):
        proto.pieces.add(piece=text, score=0.0, type=kind)
    for byte in range(256):
        proto.pieces.add(piece=f"<0x{byte:02X}>", score=0.0, type=piece_type.BYTE)
    # BPE merges in score order: earlier pieces win.
    for rank, text in enumerate((*_MERGES, *_CHARS)):
        proto.pieces.add(piece=text, score=-float(rank), type=piece_type.NORMAL)
    _set_specs(proto, unk=0, bos=1, eos=2, add_dummy_prefix=True)
    return proto.SerializeToString()


def _set_specs(proto: Any, *, unk: int, bos: int, eos: int, add_dummy_prefix: bool) -> None:
    spec = proto.trainer_spec
    spec.model_type = spec.BPE
    spec.vocab_size = len(proto.pieces)
    spec.byte_fallback = True
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = unk, bos, eos, -1
    normalizer = proto.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = add_dummy_prefix
    normalizer.remove_extra_whitespaces = False


def vocabulary_of_gguf(path: str | os.PathLike[str]) -> bytes | None:
    """The GGUF's SentencePiece-style (``llama``) vocabulary as a SentencePiece model, or None.

    llama.cpp's ``llama`` tokenizer merges by piece score like SentencePiece's BPE, so the two must
    count alike; other tokenizer kinds (GPT-2 BPE, ...) have no SentencePiece equivalent.
    """
    import gguf
    from sentencepiece import sentencepiece_model_pb2 as sp_pb2

    reader = gguf.GGUFReader(str(path))

    def value(key: str, default: Any = None) -> Any:
        field = reader.fields.get(key)
        return field.contents() if field is not None else default

    if value("tokenizer.ggml.model") != "llama":
        return None
    tokens = value("tokenizer.ggml.tokens") or []
    scores = value("tokenizer.ggml.scores") or [0.0] * len(tokens)
    types = value("tokenizer.ggml.token_type") or [1] * len(tokens)
    proto: Any = sp_pb2.ModelProto()  # type: ignore[attr-defined]
    for text, score, kind in zip(tokens, scores, types, strict=False):
        # GGUF token types use SentencePiece's numbering (1 normal ... 6 byte).
        proto.pieces.add(piece=text, score=float(score), type=int(kind) if 1 <= int(kind) <= 6 else 1)
    _set_specs(
        proto,
        unk=int(value("tokenizer.ggml.unknown_token_id", 0)),
        bos=int(value("tokenizer.ggml.bos_token_id", 1)),
        eos=int(value("tokenizer.ggml.eos_token_id", 2)),
        add_dummy_prefix=bool(value("tokenizer.ggml.add_space_prefix", True)),
    )
    return proto.SerializeToString()


def build_tiny_model(folder: Path) -> Path:
    """Write the self-test's tiny random-weight LLaMA (about 0.2 MB) into ``folder``."""
    from runtime.models.tiny import write_llama_gguf

    return write_llama_gguf(
        folder / "self-test-tiny.gguf",
        tokenizer=builtin_vocabulary(),
        hidden=64,
        layers=2,
        heads=4,
        ffn=128,
        context_length=256,
        name="alpaca-desk-self-test",
    )


def versions() -> dict[str, Any]:
    """Versions of the bundled libraries (module attributes: a frozen build has no dist metadata)."""
    import jinja2
    import llama_cpp
    import numpy
    import platformdirs
    import PySide6
    import sentencepiece
    from PySide6.QtCore import qVersion

    from app.views.report_chart import pg  # imported there, once pyqtgraph's Qt binding is chosen
    from runtime import __version__

    return {
        "alpaca_desk": __version__,
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "pyside6": PySide6.__version__,
        "qt": qVersion(),
        "sentencepiece": sentencepiece.__version__,
        "numpy": numpy.__version__,
        "jinja2": jinja2.__version__,
        "platformdirs": platformdirs.__version__,
        "pyqtgraph": pg.__version__,
    }


def check_host(model: Path, logs: Path) -> dict[str, Any]:
    """Load ``model`` in a host process started the way the app starts it; generate; tokenize."""
    from runtime.chat.client import HostClient, host_command
    from runtime.decoding import DecodingParams

    client = HostClient(log_file=logs / "host.log")
    started = time.perf_counter()
    try:
        client.start()
        if not client.wait_ready(TIMEOUT_S):
            raise SelfTestError("host", f"the inference host did not start within {TIMEOUT_S:.0f} s")
        ready_s = time.perf_counter() - started
        # One thread: a tiny model gains nothing from more, and on a busy machine threads that wait
        # for each other at every layer can make eight tokens take seconds.
        loaded = client.call("load", path=str(model), n_ctx=256, n_threads=1, timeout=TIMEOUT_S)
        params = DecodingParams(n_ctx=256, max_tokens=GENERATE_TOKENS, temperature=0.0, seed=1)
        pieces: list[str] = []
        finished: dict[str, Any] = {}
        for event in client.stream("generate", prompt=PROMPT, params=params.to_dict(), stop=[], timeout=TIMEOUT_S):
            if event["event"] == "token":
                pieces.append(event["text"])
            elif event["event"] == "finished":
                finished = event
            elif event["event"] == "error":
                raise SelfTestError("generate", str(event.get("message")))
        counted = client.call("tokenize", text=SAMPLE_TEXT, add_bos=False, timeout=TIMEOUT_S)
    finally:
        client.stop()
    generated = int(finished.get("generated_tokens", 0))
    if generated < 1:
        raise SelfTestError("generate", f"the host generated no token (finished: {finished})")
    return {
        "command": [Path(host_command()[0]).name, *host_command()[1:]],
        "ready_s": round(ready_s, 3),
        "model": loaded["info"].get("file_name"),
        "generated_tokens": generated,
        "generated_text": "".join(pieces),
        "tokens_per_s": finished.get("tokens_per_s"),
        "llama_tokens": len(counted["tokens"]),
    }


def check_sentencepiece(model: Path, llama_tokens: int) -> dict[str, Any]:
    """Count :data:`SAMPLE_TEXT` with sentencepiece using the model's vocabulary."""
    import sentencepiece

    vocabulary = vocabulary_of_gguf(model)
    source = "model"
    if vocabulary is None:
        vocabulary, source = builtin_vocabulary(), "builtin"
    processor = sentencepiece.SentencePieceProcessor(model_proto=vocabulary)
    count = len(processor.encode(SAMPLE_TEXT))
    match = count == llama_tokens if source == "model" else None
    if count < 1:
        raise SelfTestError("sentencepiece", "sentencepiece counted no tokens")
    if match is False:
        raise SelfTestError(
            "sentencepiece", f"sentencepiece counted {count} tokens where llama.cpp counted {llama_tokens}"
        )
    return {"vocabulary": source, "pieces": processor.get_piece_size(), "tokens": count, "matches_llama": match}


def check_window(model: Path, lang: str) -> dict[str, Any]:
    """Open the main window offscreen in ``lang``, load ``model`` through the GUI, close it."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QLibraryInfo, QLocale, QTimer, QTranslator
    from PySide6.QtWidgets import QApplication

    from app.context import AppContext
    from app.i18n import install_translators
    from app.main_window import MainWindow
    from runtime.paths import assets_dir

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Alpaca Desk")
    app.setOrganizationName("AlpacaDesk")
    qm_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translations = {
        "app": QTranslator().load(str(assets_dir() / "translations" / f"alpaca_desk_{lang}.qm")),
        "qtbase": QTranslator().load(QLocale(lang), "qtbase", "_", qm_folder),
    }
    if lang != "en" and not all(translations.values()):
        raise SelfTestError("translations", f"translations for {lang} are missing: {translations}")

    context = AppContext.open(show_errors=False)
    started = time.perf_counter()
    loop = QEventLoop()
    outcome: dict[str, Any] = {}
    try:
        install_translators(lang)
        window = MainWindow(context)
        window.show()
        client = context.client

        def loaded(info: object) -> None:
            outcome["loaded"] = info
            loop.quit()

        def failed(message: str) -> None:
            outcome["failed"] = message
            loop.quit()

        client.loaded.connect(loaded)
        client.failed.connect(failed)
        client.host_died.connect(failed)
        window.open_model(str(model))
        QTimer.singleShot(int(TIMEOUT_S * 1000), loop.quit)
        loop.exec()
        visible = window.isVisible()
        title = window.windowTitle()
        menus = [action.text() for action in window.menuBar().actions()]
        window.close()
        QCoreApplication.processEvents()
    finally:
        context.close()
    if "failed" in outcome or "loaded" not in outcome:
        raise SelfTestError("window", f"the window could not load the model: {outcome.get('failed', 'timed out')}")
    if not visible:
        raise SelfTestError("window", "the main window was not shown")
    return {
        "platform": QApplication.platformName(),
        "shown": visible,
        "title": title,
        "menus": menus,
        "language": lang,
        "translations": translations,
        "model_loaded_s": round(time.perf_counter() - started, 3),
    }


def check_chart() -> dict[str, Any]:
    """The report's chart draws (pyqtgraph in a bundle without QtSvg or OpenGL) and exports a PNG."""
    from PySide6.QtGui import QImage

    from app.views.report_chart import ReportChart

    chart = ReportChart()
    chart.resize(480, 320)
    chart.set_rows(
        [
            {"quantization": "F16", "bytes": 13 * 2**30, "perplexity": 9.128},
            {"quantization": "Q4_0", "bytes": 4 * 2**30, "perplexity": 9.476},
        ]
    )
    png = chart.png_bytes(width=400)
    image = QImage.fromData(png, "PNG")
    chart.deleteLater()
    if image.isNull() or image.width() != 400:
        raise SelfTestError("chart", f"the report's chart did not export as a PNG ({len(png)} bytes)")
    return {"png_bytes": len(png), "size": [image.width(), image.height()]}


def check_isolation() -> dict[str, Any]:
    """Frozen builds: every module and bundled native library came from the bundle."""
    from app import isolation

    if not isolation.is_frozen():
        return {"frozen": False}
    roots = isolation.bundle_roots()
    problems = isolation.find_problems(roots)
    if problems:
        raise SelfTestError("isolation", isolation.refusal_message(problems, roots))
    return {"frozen": True, "bundle": str(roots[0]), "modules_checked": len(sys.modules)}


class NetworkWatch:
    """Records Internet connections and name lookups of this process (``sys.addaudithook``)."""

    def __init__(self) -> None:
        import socket

        self.events: list[str] = []
        self._families = (socket.AF_INET, socket.AF_INET6)

    def install(self) -> NetworkWatch:
        sys.addaudithook(self._hook)
        return self

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        # Called for every audited event in the process: no imports, nothing that can raise.
        if event == "socket.getaddrinfo":
            self.events.append(f"name lookup of {args[0]!r}")
        elif event in ("socket.connect", "socket.sendto") and getattr(args[0], "family", None) in self._families:
            self.events.append(f"{event} to {args[1]!r}")


def check_imports() -> dict[str, Any]:
    """Import every module of ``app`` and ``runtime`` (``__main__`` modules left out)."""
    import importlib
    import pkgutil

    import app
    import runtime

    names: list[str] = []
    failed: dict[str, str] = {}
    for package in (app, runtime):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] == "__main__":
                continue
            names.append(info.name)
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # noqa: BLE001 - any import error is what this check reports
                failed[info.name] = f"{type(exc).__name__}: {exc}"
    if failed:
        raise SelfTestError("imports", f"modules that do not import: {failed}")
    if len(names) < 10:
        raise SelfTestError("imports", f"only {len(names)} modules of app and runtime were found: {names}")
    return {"modules": len(names)}


def run(model: str | None, lang: str = "zh_CN") -> dict[str, Any]:
    """Run every check; return the results (raises :class:`SelfTestError` on the first failure)."""
    from runtime.paths import app_paths

    started = time.perf_counter()
    network = NetworkWatch().install()
    paths = app_paths().ensure()
    if model:
        model_path = Path(model).expanduser().resolve()
        if not model_path.is_file():
            raise SelfTestError("model", f"no such model file: {model_path}")
    else:
        model_path = build_tiny_model(paths.models)
    host = check_host(model_path, paths.logs)
    tokens = check_sentencepiece(model_path, host["llama_tokens"])
    window = check_window(model_path, lang)
    chart = check_chart()
    if network.events:
        raise SelfTestError("network", f"the app tried to reach the network: {network.events[:5]}")
    imports = check_imports()
    return {
        "ok": True,
        "model": str(model_path) if model else "built-in tiny model",
        "host": host,
        "sentencepiece": tokens,
        "window": window,
        "chart": chart,
        "imports": imports,
        "network": network.events,
        "isolation": check_isolation(),
        "versions": versions(),
        "elapsed_s": round(time.perf_counter() - started, 3),
    }


def main(model: str | None = None, data_dir: str | None = None, lang: str = "zh_CN") -> int:
    """Run the self-test, print one JSON line; 0 when every check passed, else 1."""
    # Before Qt is imported: the self-test never needs (or uses) a display.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from runtime.paths import set_base_dir

    temp = None
    if data_dir is None:
        temp = tempfile.mkdtemp(prefix="alpaca-desk-self-test-")
        data_dir = temp
    set_base_dir(data_dir)
    try:
        result = run(model, lang if lang != "system" else "zh_CN")
        code = 0
    except SelfTestError as exc:
        result, code = {"ok": False, "stage": exc.stage, "error": str(exc)}, FAILED_EXIT_CODE
    except Exception as exc:  # noqa: BLE001 - report any failure as JSON, with where it happened
        result = {
            "ok": False,
            "stage": "unexpected",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
        code = FAILED_EXIT_CODE
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return code
