"""``alpaca-desk plan MODEL.gguf``: memory and decode speed of a model here, before it is loaded."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from runtime.models.machine import free_vram, this_machine
from runtime.models.plan import DEFAULT_BATCH, KV_TYPES, gpu_layers, plan, read_shape


def add_parsers(sub: Any) -> None:
    """Add ``plan`` to the ``alpaca-desk`` subcommands."""
    parser = sub.add_parser("plan", help="predict a model's memory and speed on this computer, without loading it")
    parser.add_argument("model", help="a .gguf model file")
    parser.add_argument("--ctx", type=int, default=2048, help="context size in tokens (default: 2048)")
    parser.add_argument("--kv", choices=KV_TYPES, default="f16", help="KV cache type (default: f16)")
    parser.add_argument("--threads", type=int, default=None, help="decode threads (default: the cores)")
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help=f"prompt tokens evaluated at once (default: {DEFAULT_BATCH})"
    )
    parser.add_argument(
        "--vram",
        type=float,
        default=None,
        metavar="GB",
        help="free GPU memory to plan the offload for (default: asked of the GPU, 0 without one)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    """``alpaca-desk plan``."""
    shape = read_shape(args.model)
    machine = this_machine()
    assert machine is not None  # measured when not cached
    result = plan(shape, machine, n_ctx=args.ctx, kv_type=args.kv, threads=args.threads, batch=args.batch)
    fits = machine.memory_available == 0 or result.memory_bytes <= machine.memory_available
    vram = int(args.vram * 1e9) if args.vram is not None else free_vram()
    offload = gpu_layers(shape, free_vram=vram, n_ctx=args.ctx, kv_type=args.kv)
    if args.json:
        document = {
            "model": shape.name,
            **result.to_dict(),
            "fits": fits,
            "free_vram_bytes": vram,
            "gpu_layers": offload,
            "machine": {
                "cpu": machine.cpu,
                "cores": machine.cores,
                "memory_total": machine.memory_total,
                "memory_available": machine.memory_available,
                "bandwidth": round(machine.bandwidth),
                "core_rate": round(machine.core_rate),
            },
        }
        sys.stdout.write(json.dumps(document) + "\n")
        return 0
    mb = 1e6
    lines = [
        f"{shape.name}: context {result.n_ctx:,}, KV cache {result.kv_type}, {result.threads} thread(s)",
        f"memory_bytes       {result.memory_bytes:,}  ({result.memory_bytes / 1e9:.2f} GB"
        f"{'' if fits else ', more than the ' + format(machine.memory_available / 1e9, '.2f') + ' GB free'})",
        f"  weights          {result.weights_bytes / mb:,.1f} MB",
        f"  KV cache         {result.kv_cache_bytes / mb:,.1f} MB",
        f"  compute buffers  {result.compute_bytes / mb:,.1f} MB (a {result.batch}-token prompt batch)",
        f"  vocabulary       {result.vocab_bytes / mb:,.1f} MB",
        f"  host baseline    {result.baseline_bytes / mb:,.1f} MB",
        f"  (header check    {result.header_peak_bytes / mb:,.1f} MB peak, before the load)",
        f"tokens_per_second  {result.tokens_per_second:.1f}  (at half the context)",
        f"  memory bound     {result.bandwidth_tokens_per_second:.1f}  ({result.bytes_per_token / mb:,.1f} MB read per "
        f"token at {machine.bandwidth / 1e9:.1f} GB/s)",
        f"  compute bound    {result.compute_tokens_per_second:.1f}  ({result.threads} x "
        f"{machine.core_rate / 1e9:.1f} G operations/s)",
    ]
    if vram:
        lines.append(
            f"gpu_layers         {offload} of {shape.n_layer + 1} "
            f"(for --gpu-layers; {vram / 1e9:.1f} GB of GPU memory free)"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
