"""Translated text for the errors that runtime/ reports (long on purpose: one table of every code).

runtime/ cannot use Qt's translator, so its errors carry a stable ``code`` and the values
they name (``params``); this module maps each code to a translatable sentence. An error
without a known code is shown in its English text, which is still clear, just not translated.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from runtime.errors import AppError


def _messages() -> dict[str, str]:
    # Built on each call so the current language is used (the language can change at run time).
    # Each call is written out in full: lupdate only recognises literal
    # QCoreApplication.translate("Messages", "...") calls.
    return {
        "model_not_found": QCoreApplication.translate(
            "Messages", "Model file not found: {path}. Check the path, or choose another file."
        ),
        "model_is_folder": QCoreApplication.translate(
            "Messages",
            "{path} is a folder, not a model file. Choose the .gguf file inside it (a Hugging Face folder "
            "must first be converted to GGUF).",
        ),
        "model_symlink_loop": QCoreApplication.translate(
            "Messages",
            "{path} is a symbolic link that leads back to itself (a loop), not a model file. Choose the model "
            "file itself, or fix the link.",
        ),
        "model_not_regular_file": QCoreApplication.translate(
            "Messages",
            "{path} is not a regular file (a named pipe, a device or a socket cannot be a model). Choose a .gguf "
            "model file.",
        ),
        "model_native_abort": QCoreApplication.translate(
            "Messages",
            "llama.cpp stopped on {name} with a failed check ({assertion}) and ended the {job} job. The file is "
            "damaged or unusual: download it again, or choose another model.",
        ),
        "model_unreadable": QCoreApplication.translate(
            "Messages", "Cannot read {path}: {reason}. Check the file's permissions."
        ),
        "model_empty": QCoreApplication.translate("Messages", "{name} is empty (0 bytes). Download the model again."),
        "model_legacy_ggml": QCoreApplication.translate(
            "Messages",
            "{name} is an old {format} model file (the format llama.cpp used before August 2023), which "
            "llama.cpp no longer reads. Download the GGUF version of this model, or convert the original "
            "weights to GGUF.",
        ),
        "model_not_gguf": QCoreApplication.translate(
            "Messages",
            "{name} is not a GGUF model file (it does not start with the GGUF signature). Choose a .gguf file.",
        ),
        "model_header_out_of_memory": QCoreApplication.translate(
            "Messages",
            "There is not enough memory to read {name}'s header (mapping the file failed). Close other programs, or raise this session's memory limit, and load it again.",
        ),
        "model_bad_header": QCoreApplication.translate(
            "Messages",
            "{name} looks like GGUF but its header cannot be read. The file is probably truncated or damaged: "
            "download it again and compare its size or SHA-256 with the source.",
        ),
        "model_truncated": QCoreApplication.translate(
            "Messages",
            "{name} is truncated: its tensors need {need} bytes but the file has {have}. The download "
            "probably stopped early: download it again.",
        ),
        "model_needs_more_memory": QCoreApplication.translate(
            "Messages",
            "{name} with a context of {n_ctx} tokens and an {kv} KV cache needs about {need_gb} GB of memory (weights {weights_gb} GB, KV cache {kv_gb} GB), and {free_gb} GB is free. Choose a smaller context, a q8_0 or q4_0 KV cache, or a smaller model, or close other programs.",
        ),
        "draft_model_incompatible": QCoreApplication.translate(
            "Messages",
            "{draft} cannot draft for {model}: their vocabularies differ ({difference}). A draft model must "
            "share the model's vocabulary: choose a smaller model of the same family.",
        ),
        "draft_model_missing": QCoreApplication.translate(
            "Messages",
            "Speculative decoding with a draft model needs a draft model: load one first (--draft FILE).",
        ),
        "kv_type_unknown": QCoreApplication.translate(
            "Messages", "The KV cache type {kv} is not one of {known}. Choose one of them."
        ),
        "model_bad_metadata": QCoreApplication.translate(
            "Messages",
            "{name} is damaged or unusual: {field} {problem}. Alpaca Desk cannot use this file: download it again "
            "and compare its size or SHA-256 with the source, or choose another model.",
        ),
        "model_rejected": QCoreApplication.translate(
            "Messages",
            "llama.cpp could not load {name} (architecture '{arch}'). The file may be damaged or use an "
            "architecture this llama.cpp does not support: download it again, or choose another model.",
        ),
        "not_loaded": QCoreApplication.translate("Messages", "No model is loaded. Open a GGUF model file first."),
        "prompt_too_long": QCoreApplication.translate(
            "Messages",
            "The message needs {n_tokens} prompt tokens and the answer up to {max_tokens} new tokens, but "
            "the context holds only {n_ctx} tokens, even with all earlier messages left out. Shorten the "
            "message, lower max new tokens, or raise the context size.",
        ),
        "context_full": QCoreApplication.translate(
            "Messages",
            "The context of {n_ctx} tokens is full: this message would leave earlier turns out of the "
            "prompt, and you chose to stop instead. Your message is kept. Start a new conversation, or raise "
            "the context size (or choose to leave out the oldest turns) in the decoding panel.",
        ),
        "tokenizer_missing": QCoreApplication.translate(
            "Messages",
            "The {label} tokenizer is not on this computer (the copy Alpaca Desk ships is missing: reinstall "
            "to get it back). Add it by opening its tokenizer.model file (or a GGUF model that uses it), or "
            "fetch it from the Hugging Face hub ({repo}).",
        ),
        "tokenizer_not_found": QCoreApplication.translate(
            "Messages",
            "No tokenizer at {path}: the file does not exist. Choose a tokenizer.model file, a Hugging Face "
            "tokenizer folder or a GGUF model.",
        ),
        "tokenizer_empty": QCoreApplication.translate(
            "Messages", "{path} is empty, so it is not a tokenizer. Choose a tokenizer.model file or a GGUF model."
        ),
        "tokenizer_invalid": QCoreApplication.translate(
            "Messages",
            "{path} is not a SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer "
            "folder or a GGUF model.",
        ),
        "tokenizer_too_large": QCoreApplication.translate(
            "Messages", "{path} is {size_mb} MB, far larger than any tokenizer. Choose a tokenizer.model file."
        ),
        "tokenizer_unusable": QCoreApplication.translate(
            "Messages", "{path} could not be opened as a tokenizer. Choose a tokenizer.model file or a GGUF model."
        ),
        "gguf_no_vocab": QCoreApplication.translate(
            "Messages",
            "{path} has no vocabulary, so it cannot count tokens. Choose the tokenizer.model that belongs to "
            "this model instead.",
        ),
        "vocab_llama_alpaca_mismatch": QCoreApplication.translate(
            "Messages",
            "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. Chinese-LLaMA (49,953) "
            "and Chinese-Alpaca (49,954: the same vocabulary plus a pad token) must not be mixed: merging LoRA "
            "weights or converting the model fails. Use the tokenizer that came with these weights.",
        ),
        "vocab_llama_chinese_mismatch": QCoreApplication.translate(
            "Messages",
            "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows: the original LLaMA "
            "vocabulary (32,000) against the extended Chinese one (49,953, or 49,954 for Alpaca). Mixing them "
            "breaks merging and conversion.",
        ),
        "vocab_size_mismatch": QCoreApplication.translate(
            "Messages",
            "The tokenizer has {tokenizer} pieces but the model has {rows} embedding rows. They must be equal "
            "for merging and conversion; use the tokenizer that belongs to these weights.",
        ),
        "corpus_not_found": QCoreApplication.translate(
            "Messages",
            "The corpus {path} does not exist or cannot be read. Choose a UTF-8 text file.",
        ),
        "corpus_empty": QCoreApplication.translate(
            "Messages",
            "The corpus {path} is empty. Choose a UTF-8 text file with the text to learn from.",
        ),
        "vocab_size_too_small": QCoreApplication.translate(
            "Messages",
            "A vocabulary of {size} pieces is too small for {path}: its characters alone need {required}. Choose a larger size, or lower the character coverage.",
        ),
        "vocab_size_too_large": QCoreApplication.translate(
            "Messages",
            "{path} is too small for a vocabulary of {size} pieces: at most {largest} can be learned from it. Choose a smaller size, or use a larger corpus.",
        ),
        "vocab_train_failed": QCoreApplication.translate(
            "Messages",
            "Training a vocabulary on {path} failed: {detail}",
        ),
        "tokenizer_unknown": QCoreApplication.translate(
            "Messages",
            "There is no known tokenizer with that name. Choose a tokenizer.model file instead.",
        ),
        "tokenizer_wrong_size": QCoreApplication.translate(
            "Messages",
            "{path} has {size} pieces, not the {expected} of the {label} tokenizer; it was not used. Open the right tokenizer.model file instead.",
        ),
        "training_added_tokens_bad": QCoreApplication.translate(
            "Messages",
            "{path} cannot be used with the {pieces} pieces of the tokenizer.model beside it ({reason}). Put there the tokenizer.model and added_tokens.json that were saved together; training did not start.",
        ),
        "tokenizer_folder_without_model": QCoreApplication.translate(
            "Messages",
            "The folder {path} has no tokenizer.model. Choose a folder that holds one, or the tokenizer.model or GGUF file itself.",
        ),
        "tokenizer_fetch_failed": QCoreApplication.translate(
            "Messages",
            "Could not fetch the {label} tokenizer from the Hugging Face hub ({repo}). Check the connection and try again, or open its tokenizer.model file.",
        ),
        "tokenizer_unreadable": QCoreApplication.translate(
            "Messages",
            "Cannot read {path}. Check the file's permissions.",
        ),
        "tokenizer_rejected": QCoreApplication.translate(
            "Messages",
            "{path} is not a usable SentencePiece tokenizer. Choose a tokenizer.model file, a Hugging Face tokenizer folder or a GGUF model.",
        ),
        "gguf_invalid": QCoreApplication.translate(
            "Messages",
            "{path} is not a readable GGUF file; it may be truncated. Download it again, or choose a tokenizer.model file.",
        ),
        "gguf_unsupported_vocab": QCoreApplication.translate(
            "Messages",
            "{path} has a {kind} vocabulary; only SentencePiece vocabularies (as in LLaMA and Chinese-LLaMA/Alpaca) can be compared here. Choose a tokenizer.model file.",
        ),
        "job_crashed": QCoreApplication.translate(
            "Messages",
            "The background job ended unexpectedly; the file it was working on was removed. Try again; if it happens again, see the log.",
        ),
        "model_no_vocab_size": QCoreApplication.translate(
            "Messages",
            "The vocabulary size of {path} cannot be found. Choose a GGUF file or a Hugging Face model folder with a config.json.",
        ),
        "tokenizer_is_folder": QCoreApplication.translate(
            "Messages",
            "{path} is a folder, not a tokenizer file. Choose the tokenizer.model inside it, or a GGUF model.",
        ),
        "store_damaged": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} is damaged or is not an Alpaca Desk database ({detail}). Restart Alpaca Desk: it keeps the damaged file aside, starts a new one and offers to recover the messages that can still be read.",
        ),
        "store_kept_aside": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} is damaged ({detail}). It was kept as {kept} and new chats go to a new file in its place. Recover its messages to copy what can still be read.",
        ),
        "recover_missing": QCoreApplication.translate(
            "Messages",
            "The damaged conversation database {path} does not exist any more; nothing to recover.",
        ),
        "settings_bad_value": QCoreApplication.translate(
            "Messages",
            'The setting "{name}" had the value {value}, which is not valid; the default {default} is used.',
        ),
        "settings_dropped_entries": QCoreApplication.translate(
            "Messages",
            'The setting "{name}" had entries that are not file paths ({value}); they were left out.',
        ),
        "settings_kept_aside": QCoreApplication.translate(
            "Messages",
            "The settings file {path} could not be read ({reason}). It was kept as {kept} and the default settings are used.",
        ),
        "settings_unreadable": QCoreApplication.translate(
            "Messages",
            "The settings file {path} could not be read ({reason}) and could not be moved aside ({error}); the default settings are used.",
        ),
        "json_too_large": QCoreApplication.translate(
            "Messages",
            "{path} was not read: it is larger than the {limit} bytes such a file may have. Replace it with a good copy, or remove it.",
        ),
        "json_too_deep": QCoreApplication.translate(
            "Messages",
            "{path} was not read: it is nested more than {limit} levels deep, which a real one never is. Replace it with a good copy, or remove it.",
        ),
        "json_invalid": QCoreApplication.translate(
            "Messages",
            "{path} was not read: it is not JSON ({detail}). Replace it with a good copy, or remove it.",
        ),
        "downloads_queue_kept_aside": QCoreApplication.translate(
            "Messages",
            "The download queue {path} could not be read ({reason}). It was kept as {kept}; start the downloads that were waiting again from the model hub.",
        ),
        "log_unwritable": QCoreApplication.translate(
            "Messages",
            "The log folder {path} cannot be written ({reason}); Alpaca Desk runs without a log file.",
        ),
        "store_full": QCoreApplication.translate(
            "Messages",
            "The disk holding the conversation database {path} is full. Free some space and try again; nothing was lost.",
        ),
        "store_readonly": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} or its folder is read-only. Make them writable, or start Alpaca Desk with --data-dir elsewhere.",
        ),
        "store_locked": QCoreApplication.translate(
            "Messages",
            "Another program is using the conversation database {path}. Close it and try again.",
        ),
        "store_cantopen": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} cannot be opened. Check that it is a file you may read and write, or start Alpaca Desk with --data-dir elsewhere.",
        ),
        "store_ioerror": QCoreApplication.translate(
            "Messages",
            "The disk reported an error while using the conversation database {path}. Check the drive and free space, then try again.",
        ),
        "store_error": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} reported an error ({detail}). Try again; if it keeps happening, restart Alpaca Desk.",
        ),
        "store_newer": QCoreApplication.translate(
            "Messages",
            "The conversation database {path} was written by a newer Alpaca Desk. Update Alpaca Desk, or start it with --data-dir pointing to another folder.",
        ),
        "embedded_template_missing": QCoreApplication.translate(
            "Messages",
            "The model file has no embedded chat template; choose another chat template in the decoding panel.",
        ),
        "embedded_template_source_too_large": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: it is larger than {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_syntax": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: syntax error on line {line}: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_forbidden": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: it tried something the sandbox forbids ({detail}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_timeout": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: rendering it took longer than {seconds} s. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_output_too_large": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: its output grew past {limit_kib} KiB. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_memory": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_crashed": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} was refused: its output or values grew past the memory limit ({limit_mib} MiB) and ended the sandbox process ({how}). Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "embedded_template_error": QCoreApplication.translate(
            "Messages",
            "The chat template inside {name} failed: {detail}. Choose a built-in chat template for this model in the decoding panel, such as Chinese-Alpaca-2 (Llama-2 chat).",
        ),
        "template_sandbox_failed": QCoreApplication.translate(
            "Messages",
            "The process that renders model files' chat templates could not start ({how}); see the log. Choose a built-in chat template in the decoding panel meanwhile.",
        ),
        "import_format": QCoreApplication.translate(
            "Messages",
            "Cannot import this file: {problem}. Choose a file made with Alpaca Desk's JSON export.",
        ),
        "import_newer": QCoreApplication.translate(
            "Messages",
            "Cannot import this file: it was exported by a newer Alpaca Desk (format version {version}). Update Alpaca Desk to import it.",
        ),
        "import_too_large": QCoreApplication.translate(
            "Messages",
            "Cannot import {path}: it is {size_mib} MiB, and imports are limited to {limit_mib} MiB. Export the conversation in parts, or choose another file.",
        ),
        "import_unreadable": QCoreApplication.translate(
            "Messages",
            "Cannot read {path}: {detail}. Check the file and try again.",
        ),
        "host_exists": QCoreApplication.translate(
            "Messages",
            "A host called {name} is already saved; choose another name or remove it first.",
        ),
        "host_invalid": QCoreApplication.translate(
            "Messages",
            "Host {name}: {field} {reason}.",
        ),
        "host_not_found": QCoreApplication.translate(
            "Messages",
            "No saved host is called {name}. Add it in Training hosts.",
        ),
        "hosts_file_bad": QCoreApplication.translate(
            "Messages",
            "The saved SSH hosts file {path} {reason}; no hosts were loaded. It was kept aside.",
        ),
        "known_hosts_bad": QCoreApplication.translate(
            "Messages",
            "The known-hosts file {path} is not one Alpaca Desk wrote. Move it away and accept the host keys again.",
        ),
        "remote_command_failed": QCoreApplication.translate(
            "Messages",
            "A command on {name} failed: {reason}.",
        ),
        "remote_download_failed": QCoreApplication.translate(
            "Messages",
            "Cannot download {path} from {name}: {reason}.",
        ),
        "remote_agent_missing": QCoreApplication.translate(
            "Messages",
            "{path} is missing from this installation, so no job can be started on a host. Reinstall Alpaca Desk.",
        ),
        "remote_disk_full": QCoreApplication.translate(
            "Messages",
            "{name} has no room for the job: {path} has {free} MB free and the job needs {needed} MB more. Free some space there, or give the host another jobs folder, then start the run again.",
        ),
        "remote_job_not_found": QCoreApplication.translate(
            "Messages",
            "There is no remote run {job}, or its folder on the host is gone.",
        ),
        "remote_job_started": QCoreApplication.translate(
            "Messages",
            "The remote run {job} was started already ({state}).",
        ),
        "remote_python_missing": QCoreApplication.translate(
            "Messages",
            "{name} has no usable Python at {python} ({found}). Install Python 3.8 or newer there, or set the host's Python to its full path.",
        ),
        "remote_spec_invalid": QCoreApplication.translate(
            "Messages",
            "The remote job cannot be sent: {reason}.",
        ),
        "remote_start_failed": QCoreApplication.translate(
            "Messages",
            "The job could not start on {name}: {reason}.",
        ),
        "remote_upload_failed": QCoreApplication.translate(
            "Messages",
            "Uploading the job to {name} failed: {reason}. Check the free space and permissions of {path} on the host, then start it again.",
        ),
        "ssh_auth_failed": QCoreApplication.translate(
            "Messages",
            "{name} refused the login as {user}. Check the user name, that the public key is in ~/.ssh/authorized_keys on the host, and the passphrase.",
        ),
        "ssh_command_timeout": QCoreApplication.translate(
            "Messages",
            "{name} did not finish {action} within {seconds} s.",
        ),
        "ssh_connect_failed": QCoreApplication.translate(
            "Messages",
            "Cannot connect to {name} at {address}:{port}: {reason}. Check the address and port, and that the host is on and reachable.",
        ),
        "ssh_connection_lost": QCoreApplication.translate(
            "Messages",
            "The connection to {name} was lost while {action}.",
        ),
        "ssh_host_key_bad": QCoreApplication.translate(
            "Messages",
            "The host key to accept for {name} cannot be read.",
        ),
        "ssh_host_key_changed": QCoreApplication.translate(
            "Messages",
            "The host key of {name} ({address}:{port}) has changed: it is now {fingerprint}. Someone may be intercepting the connection, or the host was reinstalled. Nothing was sent. If the administrator confirms the new key, forget the old one and accept the new one.",
        ),
        "ssh_host_key_mismatch": QCoreApplication.translate(
            "Messages",
            "{name} presents the key {fingerprint}, not {expected}; nothing was accepted.",
        ),
        "ssh_host_key_unknown": QCoreApplication.translate(
            "Messages",
            "The host key of {name} ({address}:{port}) is not known yet. Its fingerprint is {fingerprint}. Compare it with the one the host's administrator gives and accept it only if they match.",
        ),
        "ssh_key_unreadable": QCoreApplication.translate(
            "Messages",
            "The key file {path} of {name} cannot be used: {reason}. Choose another key file in the host's settings.",
        ),
        "ssh_passphrase_needed": QCoreApplication.translate(
            "Messages",
            "The key file {path} of {name} is protected by a passphrase: enter it.",
        ),
        "serve_key_required": QCoreApplication.translate(
            "Messages",
            "The local server would listen on {host}, where other computers can reach it, without an API key. Turn on “Require the API key”, or use the address 127.0.0.1.",
        ),
        "serve_bad_port": QCoreApplication.translate(
            "Messages",
            "The port {port} is not one the local server can use: choose a port from 1 to 65535 (0 takes any free one).",
        ),
        "serve_bad_address": QCoreApplication.translate(
            "Messages",
            "The address {host} is not one this computer has; enter an IP address such as 127.0.0.1.",
        ),
        "serve_port_busy": QCoreApplication.translate(
            "Messages",
            "The local server cannot listen on {host}:{port}: another program may use that port. Choose another port in Settings → Local server.",
        ),
        "hub_bad_endpoint": QCoreApplication.translate(
            "Messages",
            "The hub address {endpoint} is not an http:// or https:// address of a server. Enter one like https://huggingface.co, or a mirror's address.",
        ),
        "hub_offline": QCoreApplication.translate(
            "Messages",
            "Offline mode is on, so nothing was asked of the hub. Turn offline mode off in Settings → Model hub to download models or refresh the catalogue.",
        ),
        "hub_gated": QCoreApplication.translate(
            "Messages",
            "{repo} is gated on {endpoint}: accept its licence on the hub's page, then save an access token for this hub in Settings → Model hub.",
        ),
        "hub_not_found": QCoreApplication.translate(
            "Messages",
            "{repo} was not found on {endpoint}. Check the name, or the hub address in Settings → Model hub.",
        ),
        "hub_unreachable": QCoreApplication.translate(
            "Messages",
            "The hub {endpoint} could not be reached for {repo}: {detail}. Check the network, the proxy and the hub address in Settings → Model hub, or try a mirror.",
        ),
        "hub_name_unresolved": QCoreApplication.translate(
            "Messages",
            "The hub's address {host} cannot be resolved ({reason}), so {what} cannot be asked of it: this computer looks offline, or its name server blocks the hub. Turn on offline mode in Settings → Model hub to use only the models you have, or enter a mirror's address there.",
        ),
        "hub_bad_listing": QCoreApplication.translate(
            "Messages",
            "The hub {endpoint} answered with a file list for {repo} that cannot be read. Try again later, or another hub address.",
        ),
        "hub_listing_endless": QCoreApplication.translate(
            "Messages",
            "The hub {endpoint} kept sending the list for {repo} with no end ({reason}); it was stopped. Try again later, or another hub address.",
        ),
        "hub_no_keyring": QCoreApplication.translate(
            "Messages",
            "The access token could not be saved: this computer has no usable keyring ({detail}). Alpaca Desk never writes tokens to a plain file; install a keyring service (GNOME Keyring, KWallet) to save one.",
        ),
        "hub_bad_token": QCoreApplication.translate(
            "Messages",
            "That access token is not one: a hub token is a single word of letters and digits.",
        ),
        "hub_bad_repo": QCoreApplication.translate(
            "Messages",
            "{repo} is not a repository name: write it as ORGANISATION/NAME, e.g. hfl/chinese-alpaca-2-7b-gguf.",
        ),
        "hub_unsafe_name": QCoreApplication.translate(
            "Messages",
            "The hub listed a file named {name}, which would be written outside the model's folder. It was refused; nothing was written. Check the hub address in Settings → Model hub.",
        ),
        "hub_file_not_found": QCoreApplication.translate(
            "Messages",
            "{repo} has no file {name}. Refresh the catalogue and choose one of its files.",
        ),
        "hub_no_checksum": QCoreApplication.translate(
            "Messages",
            "The hub gave no checksum for {name}, so it could not be verified and was not downloaded. Try again later or another hub address.",
        ),
        "catalogue_invalid": QCoreApplication.translate(
            "Messages",
            "The model catalogue cannot be read ({reason}). Reinstall Alpaca Desk to restore it.",
        ),
        "download_refused": QCoreApplication.translate(
            "Messages",
            "The hub refused {name} (HTTP {status}). If the model is gated, accept its licence on the hub and save an access token for this hub in Settings → Model hub.",
        ),
        "download_failed": QCoreApplication.translate(
            "Messages",
            "The download of {name} failed repeatedly ({reason}). The {kept} already downloaded are kept and the next try resumes from there: check the network or the proxy, or try a mirror in Settings → Model hub.",
        ),
        "download_write_failed": QCoreApplication.translate(
            "Messages",
            "{name} could not be written to {path} ({reason}). Check the models folder's permissions.",
        ),
        "size_mismatch": QCoreApplication.translate(
            "Messages",
            "{name} does not have the {size} bytes the hub announced; it was removed. Try again later or another hub address.",
        ),
        "checksum_mismatch": QCoreApplication.translate(
            "Messages",
            "Checksum mismatch: {name} is not the file the hub describes. The damaged file was removed; download it again.",
        ),
        "disk_full": QCoreApplication.translate(
            "Messages",
            "The disk is full: {name} stopped after {kept}. What was downloaded is kept; free some space (or choose another models folder) and resume.",
        ),
        "not_enough_space": QCoreApplication.translate(
            "Messages",
            "Not enough disk space for {name}: it needs {needed} and {folder} has {free} free. Free some space or choose another models folder in Settings → Model hub.",
        ),
        "verify_not_found": QCoreApplication.translate(
            "Messages",
            "{path} does not exist. Give the path of a downloaded model file or its folder.",
        ),
        "convert_no_folder": QCoreApplication.translate(
            "Messages", "{folder} is not a folder. Choose the folder the merge script wrote."
        ),
        "convert_empty_folder": QCoreApplication.translate(
            "Messages",
            "{folder} holds no model checkpoint: no config.json (Hugging Face) and no params.json with consolidated.*.pth (Meta's layout). Choose the folder the merge script wrote.",
        ),
        "convert_no_weights": QCoreApplication.translate(
            "Messages",
            "{folder} has a config.json but no weights (model*.safetensors or pytorch_model*.bin). Copy the weight files into it.",
        ),
        "convert_not_llama": QCoreApplication.translate(
            "Messages",
            "This folder holds a {architecture} model; only LLaMA models (LlamaForCausalLM) such as Chinese-LLaMA and Chinese-Alpaca can be converted here.",
        ),
        "convert_remote_code": QCoreApplication.translate(
            "Messages",
            "{path} asks for code shipped with the model (auto_map / trust_remote_code). Alpaca Desk never runs code from a model folder; only plain LlamaForCausalLM checkpoints are converted.",
        ),
        "convert_no_tokenizer": QCoreApplication.translate(
            "Messages",
            "{folder} has no usable tokenizer.model. Copy the tokenizer that came with these weights into the folder (for Chinese-LLaMA/Alpaca: the merged Chinese tokenizer).",
        ),
        "convert_vocab_mismatch": QCoreApplication.translate(
            "Messages",
            "The tokenizer has {tokenizer} pieces but the weights have {rows} embedding rows: they do not belong together. Use the tokenizer that came with these weights (Alpaca's for Alpaca, LLaMA's for LLaMA). Nothing was converted.",
        ),
        "convert_shard_missing": QCoreApplication.translate(
            "Messages",
            "Weight files of this checkpoint are missing or do not belong together. Copy the complete folder again.",
        ),
        "convert_shard_truncated": QCoreApplication.translate(
            "Messages",
            "{path} is cut off or damaged. Copy or download this weight file again.",
        ),
        "convert_unsafe_pickle": QCoreApplication.translate(
            "Messages",
            "{path} holds more than tensors: loading it would run code from the file, which Alpaca Desk never does. Use weights saved as safetensors, or from a source you trust.",
        ),
        "convert_needs_torch": QCoreApplication.translate(
            "Messages",
            "This checkpoint is stored as PyTorch pickles (.bin/.pth), which need PyTorch, and PyTorch is not installed here. Save the model as safetensors, or convert it with the command line where PyTorch is installed.",
        ),
        "convert_bad_json": QCoreApplication.translate(
            "Messages",
            "A configuration file of this checkpoint is damaged or does not belong to it. Restore the folder from the model's download or merge.",
        ),
        "convert_bad_number": QCoreApplication.translate(
            "Messages",
            "{path}: {key} is {value}, not {expected}. Restore this file from the model's download or merge.",
        ),
        "convert_config_mismatch": QCoreApplication.translate(
            "Messages",
            "{path}: {key} is {value}, but the weights do not match it ({tensor}: {found}). Restore this file from the model's download or merge.",
        ),
        "convert_shard_overlap": QCoreApplication.translate(
            "Messages",
            "{path} is damaged: its header puts the tensors {tensor} and {other} on the same bytes. Copy or download this weight file again.",
        ),
        "convert_bad_tensor": QCoreApplication.translate(
            "Messages",
            "The weights hold a tensor that a LLaMA model in float32, float16 or bfloat16 does not have; this checkpoint cannot be converted.",
        ),
        "convert_unsupported": QCoreApplication.translate(
            "Messages",
            "{path} uses RoPE scaling, which this converter does not write. Use llama.cpp's convert_hf_to_gguf.py for this model.",
        ),
        "convert_bad_outtype": QCoreApplication.translate(
            "Messages", "Unknown output type {outtype}; choose f16, bf16 or f32."
        ),
        "convert_bad_template": QCoreApplication.translate(
            "Messages", "Unknown template {template}; choose auto, raw, chinese-alpaca or chinese-alpaca-2."
        ),
        "convert_no_space": QCoreApplication.translate(
            "Messages",
            "{folder} has {free_size} free, but the output needs about {needed_size}. Free some space or choose another folder; nothing was written.",
        ),
        "convert_write_failed": QCoreApplication.translate(
            "Messages", "Cannot write {path}: {detail}. Choose another output folder."
        ),
        "quantize_bad_type": QCoreApplication.translate(
            "Messages", "Unknown quantization type {type}; choose one of the types offered."
        ),
        "quantize_bad_folder": QCoreApplication.translate("Messages", "{path} is not a folder."),
        "quantize_bad_folder_access": QCoreApplication.translate(
            "Messages", "Cannot use the folder {path}: {reason}. Choose another output folder."
        ),
        "quantize_disk_full": QCoreApplication.translate(
            "Messages",
            "The disk that holds {folder} filled up while {name} was quantized to {type}: {free_size} is free, and "
            "the file needs about {needed_size}. Free some space or choose another folder, then quantize again; the "
            "unfinished file was removed.",
        ),
        "quantize_failed": QCoreApplication.translate(
            "Messages", "llama.cpp could not quantize {path} to {type}:\n{log}"
        ),
        "report_decode_failed": QCoreApplication.translate(
            "Messages",
            "llama.cpp could not evaluate a window of the text for the report (out of memory?). Close other programs or choose a smaller context, and run the report again.",
        ),
        "report_text_too_large": QCoreApplication.translate(
            "Messages", "{path} is too large for the report; choose a text under 64 MiB."
        ),
        "report_text_too_short": QCoreApplication.translate(
            "Messages",
            "The text has {tokens} tokens for this model; the perplexity needs at least {needed} (two windows). Use a longer text or a smaller context.",
        ),
        "report_text_unreadable": QCoreApplication.translate(
            "Messages", "Cannot read the text {path}. Choose a UTF-8 text file."
        ),
        "training_output_outside": QCoreApplication.translate(
            "Messages",
            "The run's output folder {folder} is outside Alpaca Desk's data folder {data} and was not chosen here; it is not used. Choose the folder yourself, or leave it empty and the run's own folder is used.",
        ),
        "training_output_outside_spec": QCoreApplication.translate(
            "Messages",
            "The job specification {path} names the output folder {folder}, outside Alpaca Desk's data folder {data}; a folder named inside a spec file is not used without your word. To write there, name it on the command line (--out {folder}); or remove output_dir from the spec and the run's own folder is used.",
        ),
        "training_spec_invalid": QCoreApplication.translate(
            "Messages",
            "The training recipe is not valid: {field}: {reason}.",
        ),
        "training_spec_unreadable": QCoreApplication.translate(
            "Messages",
            "Cannot read the job specification {path}: {reason}.",
        ),
        "training_spec_file_invalid": QCoreApplication.translate(
            "Messages",
            "The job specification {path} is not valid: {field}: {reason}.",
        ),
        "training_extra_missing": QCoreApplication.translate(
            "Messages",
            "Training needs {packages} in the Python that runs it ({python}). Install them with: {command} (or train on a GPU host that has them).",
        ),
        "training_no_cuda": QCoreApplication.translate(
            "Messages",
            "No CUDA GPU was found; training needs one (only the tiny test configurations run on the CPU). Use a computer with an NVIDIA GPU, or a remote GPU host.",
        ),
        "training_no_adapter": QCoreApplication.translate(
            "Messages",
            "Run {job} has no adapter yet ({path} is missing): it has not finished.",
        ),
        "training_run_not_found": QCoreApplication.translate(
            "Messages",
            "No training run {job}. The list of runs is in the Advanced window and in `alpaca-desk train status`.",
        ),
        "training_run_damaged": QCoreApplication.translate(
            "Messages",
            "The record of run {job} ({path}) is damaged; its folder can be deleted.",
        ),
        "training_run_lost": QCoreApplication.translate(
            "Messages",
            "The process that ran it is gone (the app or command that started it was closed or killed).",
        ),
        "training_stop_remote": QCoreApplication.translate(
            "Messages",
            "Run {job} runs on {target}; stop it from the Advanced window.",
        ),
        "training_attach_local": QCoreApplication.translate(
            "Messages",
            "Run {job} runs on this computer, in the process that started it; see `alpaca-desk train status {job}`.",
        ),
        "remote_job_lost": QCoreApplication.translate(
            "Messages",
            "The job on {name} ended without a word (the host restarted, or its processes were killed).",
        ),
        "remote_host_not_ready": QCoreApplication.translate(
            "Messages",
            "{name} lacks: {missing}.",
        ),
        "training_not_running": QCoreApplication.translate(
            "Messages",
            "Run {job} is not running ({state}).",
        ),
        "training_dataset_too_large": QCoreApplication.translate(
            "Messages",
            "The dataset {path} is too large ({size} bytes; the limit is 2 GB). Split it into several files in one folder.",
        ),
        "training_dataset_unreadable": QCoreApplication.translate(
            "Messages",
            "Cannot read the dataset {path}: {reason}.",
        ),
        "training_dataset_empty": QCoreApplication.translate(
            "Messages",
            "The dataset {path} holds no records (pre-training reads UTF-8 .txt files; instruction data is JSON).",
        ),
        "training_dataset_bad_record": QCoreApplication.translate(
            "Messages",
            'Record {index} of {path} {reason}. Instruction data is a JSON array (or JSON lines) of objects with "instruction", optional "input", and "output" strings.',
        ),
        "training_dataset_not_json": QCoreApplication.translate(
            "Messages",
            "{path} is not valid JSON (line {line}). Instruction data is a JSON array, or one JSON object per line.",
        ),
        "training_dataset_line_too_large": QCoreApplication.translate(
            "Messages",
            "Line {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.",
        ),
        "training_dataset_record_too_large": QCoreApplication.translate(
            "Messages",
            "Record {index} of {path} is longer than {limit_mb} MB, far more than a training sequence holds, so it was not read. Shorten that record or remove it, then start again.",
        ),
        "training_prompt_too_long": QCoreApplication.translate(
            "Messages",
            "Record {index} of {path} has a prompt (instruction and input) longer than the {block_size} tokens of a training sequence, so none of its answer can be learned. Shorten the instruction and input, or raise the block size.",
        ),
        "training_dataset_too_small": QCoreApplication.translate(
            "Messages",
            "The dataset {path} gives no training sequence of {block_size} tokens; use more text or a smaller block size.",
        ),
        "training_precision_needs_cuda": QCoreApplication.translate(
            "Messages",
            "Precision {precision} needs a CUDA GPU; use fp32 (or Automatic) for a tiny test on the CPU.",
        ),
        "training_tiny_too_large": QCoreApplication.translate(
            "Messages",
            "The model has {parameters} parameters; a tiny test on the CPU allows {limit}. Train real models on a CUDA GPU.",
        ),
        "training_deepspeed_missing": QCoreApplication.translate(
            "Messages",
            "The recipe asks for DeepSpeed ({config}) but it is not installed: pip install deepspeed.",
        ),
        "training_kbits_needs_cuda": QCoreApplication.translate(
            "Messages",
            "Loading the model in {bits} bits needs a CUDA GPU: bitsandbytes quantizes on the GPU only. Choose "
            "16 bits here, or train on a computer with an NVIDIA GPU.",
        ),
        "training_bitsandbytes_missing": QCoreApplication.translate(
            "Messages",
            "Loading the model in {bits} bits needs bitsandbytes, which the training Python lacks. Install it "
            "with: {command}; or choose 16 bits.",
        ),
        "training_failed": QCoreApplication.translate(
            "Messages",
            "The {job} run failed: {detail}. The log ({log}) has details.",
        ),
        "merge_file_unreadable": QCoreApplication.translate(
            "Messages",
            "Cannot read {path} ({what}): {reason}.",
        ),
        "merge_bad_config": QCoreApplication.translate(
            "Messages",
            "{path}: {key} is {value}, not a number from {low} to {high}. The adapter's configuration is damaged: download or train the adapter again. Nothing was merged.",
        ),
        "merge_unsafe_pickle": QCoreApplication.translate(
            "Messages",
            "{path} is a pickle that holds more than tensors ({what}); loading it could run code from the file, so it was not opened. Use the adapter saved as safetensors, or get it again from its publisher.",
        ),
        "merge_adapter_empty": QCoreApplication.translate(
            "Messages",
            "The adapter {adapter} holds no weights, so merging it would change nothing. Download or train the adapter again.",
        ),
        "merge_not_finite": QCoreApplication.translate(
            "Messages",
            "Merging gives {tensor} values that are not finite numbers (inf or NaN), because of {path}. Nothing was written; use a sound adapter and base model.",
        ),
        "merge_not_lora": QCoreApplication.translate(
            "Messages",
            "{path} is a {kind} adapter; only plain LoRA adapters can be merged here (use peft's merge_and_unload for the others).",
        ),
        "merge_no_weights": QCoreApplication.translate(
            "Messages",
            "{path} holds no model weights (model.safetensors, pytorch_model.bin or a sharded index). Give the base model's Hugging Face folder.",
        ),
        "merge_adapter_mismatch": QCoreApplication.translate(
            "Messages",
            "The adapter {adapter} does not fit this base model ({tensor}): it was trained for another model.",
        ),
        "merge_tokenizer_missing": QCoreApplication.translate(
            "Messages",
            "The adapters resize the vocabulary to {rows} rows but carry no tokenizer.model. Put the adapter's tokenizer in its folder.",
        ),
        "merge_added_tokens_bad": QCoreApplication.translate(
            "Messages",
            "{path} gives the added token {token} the id {id}, but the tokenizer.model beside it has {pieces} pieces, so the added tokens must take the ids from {pieces} on, in turn ({expected} here). The tokenizer files of that folder do not belong together: put there the tokenizer.model and added_tokens.json that were saved with its weights (or download or train them again). Nothing was merged.",
        ),
        "merge_no_adapter": QCoreApplication.translate(
            "Messages",
            "Give at least one LoRA adapter to merge.",
        ),
        "merge_out_exists": QCoreApplication.translate(
            "Messages",
            "{path} exists already; choose a new folder for the merged model.",
        ),
        "lora_chain_unknown": QCoreApplication.translate(
            "Messages",
            "{repo} is not a LoRA repository of the model catalogue (or its merge recipe goes round in a circle), so it cannot be merged from here.",
        ),
        "lora_adapter_missing": QCoreApplication.translate(
            "Messages",
            "The LoRA repository {repo} is not (wholly) in the models folder {folder}. Download it first: alpaca-desk download {repo}",
        ),
        "lora_chain_order": QCoreApplication.translate(
            "Messages",
            "{repo} is merged on top of {after}: give the adapters in the order {chain}.",
        ),
        "lora_base_not_folder": QCoreApplication.translate(
            "Messages",
            "{folder} is not a folder. Choose the folder of the original LLaMA weights in Hugging Face format.",
        ),
        "lora_base_meta_format": QCoreApplication.translate(
            "Messages",
            "{folder} holds Meta's original checkpoint (consolidated.*.pth). The merge needs the Hugging Face format: convert it first with transformers' script, {command}, then choose the output folder.",
        ),
        "lora_base_not_hf": QCoreApplication.translate(
            "Messages",
            "{folder} has no config.json: it is not a model in Hugging Face format. Choose the folder of the original LLaMA weights converted to Hugging Face format (config.json, tokenizer.model, weights).",
        ),
        "lora_base_vocab": QCoreApplication.translate(
            "Messages",
            "{folder} has a vocabulary of {rows} tokens{label}, not the original LLaMA's {expected}. The Chinese LoRA adapters add the Chinese vocabulary themselves and must be merged into Meta's original LLaMA weights, not into a model that was merged or extended already.",
        ),
        "lora_base_size": QCoreApplication.translate(
            "Messages",
            "{folder} is LLaMA {found}, but these adapters are for LLaMA {params}. Choose the {params} weights.",
        ),
        "lora_merge_extra_missing": QCoreApplication.translate(
            "Messages",
            "Merging needs {packages} (the train extra), which this computer's Python ({python}) lacks. Install them with: {command}, or merge with alpaca-desk merge-lora on a computer that has them.",
        ),
    }


def user_message(code: str | None, params: dict[str, Any] | None, fallback: str) -> str:
    """The translated sentence for ``code``, or ``fallback`` (the English text) if none."""
    template = _messages().get(code or "")
    if template is None:
        return fallback
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return fallback


def error_text(exc: BaseException) -> str:
    """What to show the user for an exception from runtime/."""
    if isinstance(exc, AppError):
        return user_message(exc.code, exc.params, str(exc))
    return str(exc)
