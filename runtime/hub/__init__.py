"""The model hub: the catalogue of the Chinese-LLaMA/Alpaca family, and resumable, verified downloads.

Modules:
    client: endpoint, proxy, token, offline mode, the network log and the hub API (huggingface_hub).
    token: the access token in the operating system's keyring, per endpoint.
    catalogue: the shipped snapshot, refreshed from the hub; what is on disk; the recommendation.
    manifest: the models folder's layout, its manifest, safe file names, verification.
    transfer: one file, resumable with HTTP Range, retried, verified, renamed into place (ours).
    download: a repository's files into the models folder, and the ``hub-download`` job.
"""

from runtime.hub.catalogue import (
    Catalogue,
    CatalogueEntry,
    CatalogueFile,
    Recommendation,
    files_on_disk,
    load_catalogue,
    recommend,
    refresh_entry,
)
from runtime.hub.client import DEFAULT_ENDPOINT, HubClient, HubConfig, HubOffline, hub_config_from_settings
from runtime.hub.download import DownloadProgress, discard_partial, download_files
from runtime.hub.manifest import VerifyResult, find_gguf_files, safe_repo_path, verify

__all__ = [
    "DEFAULT_ENDPOINT",
    "Catalogue",
    "CatalogueEntry",
    "CatalogueFile",
    "DownloadProgress",
    "HubClient",
    "HubConfig",
    "HubOffline",
    "Recommendation",
    "VerifyResult",
    "discard_partial",
    "download_files",
    "files_on_disk",
    "find_gguf_files",
    "hub_config_from_settings",
    "load_catalogue",
    "recommend",
    "refresh_entry",
    "safe_repo_path",
    "verify",
]
