"""Prompt-lookup speculative decoding against plain decoding, on a real model (issue 25).

SmolLM2-135M-Instruct (Q4_1; ``--model``, or ``SMOLLM2_GGUF``), temperature 0, 256-token answers
from the model's own ChatML template, for copy-heavy prompts (rewrite or correct a given paragraph)
and free-form ones. Each prompt is answered with ``off``, ``lookup`` and ``auto`` in turn (paired,
so a slow spell of a shared machine hits all three), through :class:`runtime.chat.engine.Engine`
in this process.

Reported per set: the paired median tokens/s ratio against ``off``, whether each text is identical
to ``off``'s, the acceptance rate (accepted / drafted), accepted tokens per verification, and how
often ``auto`` stopped drafting. Separately, the cost of one verification batch of ``k + 1``
tokens against one single-token decode (median of repeated decodes at the same depth).

The draft pair (``--draft-layers``, e.g. ``2``): SmolLM2 as the target, and as its drafter a cut of
SmolLM2 itself with its embeddings, output and first N of its 30 blocks (tests/draft_pair.py;
written to a temporary folder). Both loaded as ``chat --speculative draft`` loads them (the target
with flash attention, ``exact_batches``); each prompt of both sets answered with ``off`` and
``draft`` in turn. Reported: identical texts, the paired tokens/s ratio, the acceptance rate,
tokens drafted and accepted per verification, the verification batch cost against a single token
at flash attention, and one drafter token's cost against one target token. ``--only-draft`` skips
the prompt-lookup part.

``--flash-attn`` opens the model with flash attention: the engine leaves it off on a CPU, where
llama.cpp's batched logits then differ from one-token logits (so the texts may differ); with it
on they are bit-identical.

Prints ONE JSON line on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime.chat import draft_model, speculative, templates  # noqa: E402
from runtime.chat.engine import Engine  # noqa: E402
from runtime.decoding import DecodingParams  # noqa: E402

PARAGRAPHS = (
    "The old lighthouse stood at the edge of the cliff for more than a hundred years. Every night its "
    "keeper climbed the narrow stairs, lit the lamp, and watched the ships pass safely through the "
    "rocky strait. When the keeper grew old, his daughter took over the work, and she kept the light "
    "burning through storms that tore the roofs off the houses in the village below.",
    "Our team meets every Monday at nine to review the week's plan. Each person says what they "
    "finished last week, what they will work on next, and what is blocking them. The meeting should "
    "take no more than fifteen minutes; longer discussions move to a separate call with only the "
    "people who need to be there.",
    "Python is a programming language that lets you work quickly and integrate systems more "
    "effectively. It has a large standard library, a friendly community, and runs on every major "
    "operating system. Many scientists use it for data analysis, and many companies use it to build "
    "web services and automate their daily work.",
    "To make a simple tomato soup, soften one chopped onion and two cloves of garlic in olive oil, add "
    "a kilogram of ripe tomatoes and half a litre of stock, and let it simmer for twenty minutes. "
    "Blend until smooth, season with salt and pepper, and serve it hot with a slice of fresh bread.",
    "The library will be closed on Friday for the installation of new shelves. Books that are due on "
    "that day can be returned on Saturday without a late fee. The reading room on the second floor "
    "will reopen on Monday morning, and the children's section will have longer hours next week.",
)
_ASKS = (
    "Rewrite this paragraph, correcting any mistakes and keeping everything else the same:\n\n",
    "Repeat the following text exactly, then add one sentence at the end:\n\n",
    "Proofread this paragraph and return the corrected version:\n\n",
    "Copy this paragraph, changing only the first sentence into a question:\n\n",
)
#: Ten prompts whose answers copy most of what they are given (rewrite, proofread, repeat).
COPY_PROMPTS = tuple(_ASKS[i % len(_ASKS)] + PARAGRAPHS[i % len(PARAGRAPHS)] for i in range(10))
#: Ten prompts with nothing to copy.
FREE_PROMPTS = (
    "Write a short story about a cat who learns to fly.",
    "Explain why the sky is blue to a ten-year-old.",
    "Give me five ideas for a weekend trip with friends.",
    "What are the benefits of learning a second language?",
    "Describe a perfect morning in a small seaside town.",
    "How do I start running if I have never exercised before?",
    "Write a polite email asking a colleague to review my report.",
    "What should I pack for a three-day hiking trip?",
    "Tell me about the history of tea in a few paragraphs.",
    "Suggest a plan for learning to cook in one month.",
)
MODES = ("off", "lookup", "auto")


def _answer(engine: Engine, prompt: str, mode: str, max_tokens: int) -> dict[str, object]:
    info = engine.info
    assert info is not None
    rendered = templates.render(
        "embedded", [templates.Turn(user=prompt)], jinja_source=info.chat_template, jinja_origin=info.file_name
    )
    tokens = engine.prompt_tokens(rendered)
    parts: list[str] = []
    params = DecodingParams(max_tokens=max_tokens, temperature=0.0, seed=1)
    stats = engine.generate(tokens, params, stop=rendered.stop, on_text=parts.append, speculative=mode)
    return {"text": "".join(parts), "stats": stats}


def _batch_cost(engine: Engine, sizes: tuple[int, ...], reps: int) -> dict[str, float]:
    """Median time of a batch of ``k`` tokens (all logits) over a single-token decode, same depth."""
    import llama_cpp

    llm = engine._require()
    ctx = llm.ctx
    memory = llama_cpp.llama_get_memory(ctx)
    tokens = engine.tokenize(PARAGRAPHS[0] * 2, add_bos=True)[:200]
    engine.generate(tokens, DecodingParams(max_tokens=1, temperature=0.0, seed=1), on_text=lambda _t: None)
    depth = len(tokens)
    batch = llama_cpp.llama_batch_init(max(sizes), 0, 1)
    times: dict[int, list[float]] = {k: [] for k in sizes}
    try:
        for _rep in range(reps):
            for k in sizes:  # interleaved, so that load changes hit every size alike
                for i in range(k):
                    batch.token[i] = tokens[i + 1]
                    batch.pos[i] = depth + i
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = 0
                    batch.logits[i] = 1
                batch.n_tokens = k
                t0 = time.perf_counter()
                if llama_cpp.llama_decode(ctx, batch) != 0:
                    raise RuntimeError("llama_decode failed")
                times[k].append(time.perf_counter() - t0)
                llama_cpp.llama_memory_seq_rm(memory, 0, depth, -1)
    finally:
        llama_cpp.llama_batch_free(batch)
        engine._kv_tokens = []  # the cache no longer holds what the engine thinks
        llama_cpp.llama_memory_clear(memory, True)
    one = statistics.median(times[1])
    return {str(k): round(statistics.median(times[k]) / one, 2) for k in sizes} | {"single_ms": round(one * 1e3, 2)}


def _run_set(engine: Engine, prompts: tuple[str, ...], max_tokens: int) -> dict[str, object]:
    ratios: dict[str, list[float]] = {"lookup": [], "auto": []}
    identical = {"lookup": 0, "auto": 0}
    drafted = accepted = verifications = stopped = 0
    per_prompt = []
    for prompt in prompts:
        results = {mode: _answer(engine, prompt, mode, max_tokens) for mode in MODES}
        off = results["off"]
        off_stats = off["stats"]
        row: dict[str, object] = {"tokens": off_stats.generated_tokens, "off_tps": off_stats.tokens_per_s}  # type: ignore[attr-defined]
        for mode in ("lookup", "auto"):
            stats = results[mode]["stats"]
            same = results[mode]["text"] == off["text"]
            identical[mode] += same
            if off_stats.tokens_per_s:  # type: ignore[attr-defined]
                ratios[mode].append(stats.tokens_per_s / off_stats.tokens_per_s)  # type: ignore[attr-defined]
            row[mode] = {
                "tps": stats.tokens_per_s,  # type: ignore[attr-defined]
                "identical": same,
                "drafted": stats.drafted,  # type: ignore[attr-defined]
                "accepted": stats.accepted,  # type: ignore[attr-defined]
                "verifications": stats.verifications,  # type: ignore[attr-defined]
                "stopped_at": stats.drafting_stopped_at,  # type: ignore[attr-defined]
            }
        lookup_stats = results["lookup"]["stats"]
        drafted += lookup_stats.drafted  # type: ignore[attr-defined]
        accepted += lookup_stats.accepted  # type: ignore[attr-defined]
        verifications += lookup_stats.verifications  # type: ignore[attr-defined]
        stopped += results["auto"]["stats"].drafting_stopped_at is not None  # type: ignore[attr-defined]
        per_prompt.append(row)
        print(json.dumps(row), file=sys.stderr)
    return {
        "prompts": len(prompts),
        "speedup_lookup": round(statistics.median(ratios["lookup"]), 3) if ratios["lookup"] else None,
        "speedup_auto": round(statistics.median(ratios["auto"]), 3) if ratios["auto"] else None,
        "identical_lookup": identical["lookup"],
        "identical_auto": identical["auto"],
        "acceptance_rate": round(accepted / drafted, 3) if drafted else None,
        "accepted_per_verification": round(accepted / verifications, 2) if verifications else None,
        "auto_stopped": stopped,
        "per_prompt": per_prompt,
    }


def _run_draft_pair(args: argparse.Namespace, keep: int, folder: Path) -> dict[str, object]:
    from tests.draft_pair import cut_layers

    cut = cut_layers(Path(args.model), folder / f"draft-{keep}-layers.gguf", keep=keep)
    drafter_alone = Engine()
    drafter_alone.load(str(cut), n_ctx=2048, n_threads=args.threads)
    drafter_cost = _batch_cost(drafter_alone, (1,), reps=15)["single_ms"]
    drafter_alone.unload()
    engine = Engine()
    engine.load(args.model, n_ctx=2048, n_threads=args.threads, exact_batches=True)
    batch_cost = _batch_cost(engine, (1, 2, 3, 5, 9, 17), reps=15)
    engine.load_draft(str(cut), p_min=args.p_min)
    out: dict[str, object] = {
        "drafter": f"{Path(args.model).name} cut to its first {keep} of 30 blocks (embeddings and output kept)",
        "drafter_bytes": cut.stat().st_size,
        "p_min": args.p_min,
        "max_draft": draft_model.MAX_DRAFT,
        "batch_cost_vs_single_flash_attn": batch_cost,
        "drafter_token_vs_target_token": round(drafter_cost / batch_cost["single_ms"], 2),
    }
    for name, prompts in (("copy_heavy", COPY_PROMPTS), ("free_form", FREE_PROMPTS)):
        ratios: list[float] = []
        identical = drafted = accepted = verifications = 0
        rows = []
        for prompt in prompts[: args.prompts]:
            off = _answer(engine, prompt, "off", args.max_tokens)
            draft = _answer(engine, prompt, "draft", args.max_tokens)
            off_stats, stats = off["stats"], draft["stats"]
            same = draft["text"] == off["text"]
            identical += same
            if off_stats.tokens_per_s:  # type: ignore[attr-defined]
                ratios.append(stats.tokens_per_s / off_stats.tokens_per_s)  # type: ignore[attr-defined]
            drafted += stats.drafted  # type: ignore[attr-defined]
            accepted += stats.accepted  # type: ignore[attr-defined]
            verifications += stats.verifications  # type: ignore[attr-defined]
            row = {
                "tokens": off_stats.generated_tokens,  # type: ignore[attr-defined]
                "off_tps": off_stats.tokens_per_s,  # type: ignore[attr-defined]
                "draft_tps": stats.tokens_per_s,  # type: ignore[attr-defined]
                "identical": same,
                "drafted": stats.drafted,  # type: ignore[attr-defined]
                "accepted": stats.accepted,  # type: ignore[attr-defined]
                "verifications": stats.verifications,  # type: ignore[attr-defined]
            }
            rows.append(row)
            print(json.dumps({"draft_layers": keep, name: row}), file=sys.stderr)
        out[name] = {
            "prompts": len(rows),
            "identical": identical,
            "speedup_draft": round(statistics.median(ratios), 3) if ratios else None,
            "acceptance_rate": round(accepted / drafted, 3) if drafted else None,
            "drafted_per_verification": round(drafted / verifications, 2) if verifications else None,
            "accepted_per_verification": round(accepted / verifications, 2) if verifications else None,
            "per_prompt": rows,
        }
    engine.unload()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default=os.environ.get("SMOLLM2_GGUF"), help="SmolLM2-135M-Instruct Q4_1 GGUF")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--prompts", type=int, default=10, help="prompts per set (at most 10)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--flash-attn", action="store_true", help="open the model with flash attention on")
    parser.add_argument(
        "--draft-layers",
        default="",
        help="comma-separated block counts of the drafters to cut (e.g. 2): the draft pair",
    )
    parser.add_argument("--p-min", type=float, default=draft_model.P_MIN, help="the drafter's least top probability")
    parser.add_argument("--only-draft", action="store_true", help="only the draft pair")
    args = parser.parse_args()
    if not args.model:
        parser.error("--model (or SMOLLM2_GGUF) is required")
    layers = [int(n) for n in args.draft_layers.split(",") if n.strip()]
    if args.only_draft:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            pairs = {str(keep): _run_draft_pair(args, keep, Path(folder)) for keep in layers}
        result = {"bench": "speculative_draft", "model": Path(args.model).name, "threads": args.threads}
        print(
            json.dumps(
                result | {"max_tokens": args.max_tokens, "load_1m": round(os.getloadavg()[0], 2), "draft_pairs": pairs}
            )
        )
        return 0
    engine = Engine()
    # With --flash-attn, loaded as `chat --speculative` loads a model (exact_batches: flash attention).
    engine.load(args.model, n_ctx=2048, n_threads=args.threads, exact_batches=args.flash_attn)
    sizes = (1, 2, 3, 5, 9)
    result = {
        "bench": "speculative",
        "model": Path(args.model).name,
        "threads": args.threads,
        "flash_attn": args.flash_attn,
        "max_tokens": args.max_tokens,
        "max_draft": speculative.MAX_DRAFT,
        "load_1m": round(os.getloadavg()[0], 2),
        "batch_cost_vs_single": _batch_cost(engine, sizes, reps=15),
        "copy_heavy": _run_set(engine, COPY_PROMPTS[: args.prompts], args.max_tokens),
        "free_form": _run_set(engine, FREE_PROMPTS[: args.prompts], args.max_tokens),
    }
    engine.unload()
    if layers:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            result["draft_pairs"] = {str(keep): _run_draft_pair(args, keep, Path(folder)) for keep in layers}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
