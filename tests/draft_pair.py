"""A draft model cut from its target: the target's embeddings, output and first layers only.

It shares the target's vocabulary (token texts, BOS/EOS) by construction, so it passes the draft
model's compatibility check, and it agrees with the target where the first layers already decide
the next token. Used by tests/unit/chat/test_draft_model.py and bench/speculative.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import gguf

_BLOCK = re.compile(r"blk\.(\d+)\.")


def cut_layers(src: Path, dst: Path, *, keep: int) -> Path:
    """Write ``dst``: ``src`` with only its first ``keep`` transformer blocks (``blk.0`` ...)."""
    reader = gguf.GGUFReader(src)
    arch_key = gguf.Keys.General.ARCHITECTURE
    arch = str(reader.fields[arch_key].contents())
    count_key = f"{arch}.block_count"
    writer = gguf.GGUFWriter(dst, arch=arch)
    writer.kv_data[0].pop(arch_key, None)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name == arch_key:
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = keep if field.name == count_key else field.contents()
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)
    writer.add_key_value(arch_key, arch, gguf.GGUFValueType.STRING)
    tensors = [t for t in reader.tensors if (m := _BLOCK.match(t.name)) is None or int(m.group(1)) < keep]
    for tensor in tensors:
        data = tensor.data
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in tensors:
        writer.write_tensor_data(tensor.data)
    writer.close()
    return dst
