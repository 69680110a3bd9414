"""A host's test over a real sshd: Python, GPUs (or why none), free disk, what is missing."""

from __future__ import annotations

import shutil
import sys

from runtime.training.remote import connect, probe_host
from runtime.training.remote.connection import host_with


def test_probe_reports_python_gpus_and_disk(trusted_host) -> None:
    with connect(trusted_host) as conn:
        report = probe_host(conn)
    assert report.python == ".".join(map(str, sys.version_info[:3]))
    assert report.free_bytes is not None and report.free_bytes > 0
    assert report.disk_path  # the jobs folder does not exist yet: its nearest existing parent
    assert set(report.modules) == {"torch", "transformers", "peft", "accelerate"}
    if shutil.which("nvidia-smi") is None:
        assert report.gpus == [] and "nvidia-smi was not found" in report.gpu_note
        assert any("CUDA GPU" in item for item in report.missing)
    else:
        assert report.gpus or report.gpu_note


def test_probe_without_python_says_so(trusted_host) -> None:
    with connect(host_with(trusted_host, python="/nonexistent/python3")) as conn:
        report = probe_host(conn)
    assert report.python == "" and report.modules == {}
    assert any("/nonexistent/python3" in item for item in report.missing)
