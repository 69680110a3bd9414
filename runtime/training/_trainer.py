"""What ``pretrain`` and ``sft`` share: the run's process, the model with its LoRA adapter, the Trainer.

This module runs on the GPU host. torch, transformers and peft (the ``train`` extra) are imported
inside :func:`train` only, so the package stays importable (and its errors reportable) without them.

The recipe is the authors' scripts' (:mod:`runtime.training.presets`; a spec's empty fields are
filled for its kind and generation): LoRA on q, k, v, o, gate, up and down projections; when the
tokenizer is larger than the model's vocabulary (Chinese-LLaMA's 49,953 pieces on LLaMA's 32,000)
the embedding matrix and the LM head are resized (new rows appended, the original rows untouched),
and trained in full (peft's ``modules_to_save``) where the recipe says so. AdamW with the
generation's weight decay, warm-up then cosine decay, gradient clipping, one epoch. The two-stage
option: stage ``embeddings`` trains only the input embeddings with the transformer frozen (the LoRA
matrices stay at zero), stage ``lora`` then continues from that adapter (``init_adapter``).

Why the Hugging Face ``Trainer``: it brings checkpoints that resume (optimizer, scheduler, RNG and
data position), ``torchrun`` / DDP and DeepSpeed, mixed precision and gradient checkpointing; this
module adds the data, the JSON progress lines, the stop request and the CUDA rule.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from runtime._exit import end_with_parent
from runtime.errors import AppError
from runtime.jobs import Emitter, event_stream
from runtime.tokens import vocab_mismatch
from runtime.training import data, evaluation, prepare, quantization, token_cache
from runtime.training._events import RunEvents, StopFlag, finite, progress_callback
from runtime.training.launcher import INSTALL_HINT, TINY_TEST_MAX_PARAMS, JobSpec, SpecError

log = logging.getLogger("runtime.training")

#: The adapter folder's name in the output folder.
ADAPTER_DIR = "adapter"
#: DeepSpeed ZeRO-2 (optimizer state and gradients sharded across the GPUs), for ``"deepspeed": "zero2"``;
#: "auto" takes the values from the Trainer's arguments.
ZERO2_CONFIG: dict[str, Any] = {
    "zero_optimization": {"stage": 2, "overlap_comm": True, "contiguous_gradients": True},
    "train_micro_batch_size_per_gpu": "auto",
    "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
    "bf16": {"enabled": "auto"},
    "fp16": {"enabled": "auto"},
}
#: Status of a run that was stopped (as for jobs: 128 + SIGINT).
STOPPED_STATUS = 130


class TrainingError(AppError):
    """The run cannot go on (no CUDA, a dataset too small, a vocabulary that does not fit, ...)."""


def _setup_logging(log_file: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)


def main(kind: str, argv: Sequence[str] | None = None) -> int:
    """Run the ``kind`` script: ``python -m runtime.training.KIND --spec JOB.json``."""
    parser = argparse.ArgumentParser(prog=f"python -m runtime.training.{kind}", description=__doc__)
    parser.add_argument("--spec", required=True, help="the job specification (JSON)")
    args = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    stream = event_stream()  # stdout carries events only; prints and native output go to stderr
    try:
        spec = JobSpec.read(args.spec)
        if spec.kind != kind:
            raise SpecError(
                f"The job specification {args.spec} is a {spec.kind} job, not {kind}.",
                code="training_spec_invalid",
                params={"field": "kind", "reason": f"{spec.kind} given to {kind}"},
            )
    except SpecError as exc:
        Emitter(stream)({"event": "error", "message": str(exc), "code": exc.code, "params": exc.params})
        return 2
    output = Path(spec.output_dir or ".").resolve()
    output.mkdir(parents=True, exist_ok=True)
    leader = rank == 0
    emit = RunEvents(stream if leader else None, output / "progress.jsonl" if leader else None)
    _setup_logging(output / "train.log" if leader else None)
    stop = StopFlag()

    def on_interrupt(_signum: int, _frame: Any) -> None:
        if stop:
            raise KeyboardInterrupt  # a second interrupt: stop now
        stop.event.set()
        log.info("stop requested: saving a checkpoint after the current step")

    def on_terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    signal.signal(signal.SIGTERM, on_terminate)
    # A run whose launcher is gone ends too (as jobs do); SIGTERM reaches the handler above.
    end_with_parent(death_signal=signal.SIGTERM, status=STOPPED_STATUS)
    emit("started", job=kind, job_id=spec.job_id, pid=os.getpid(), world_size=int(os.environ.get("WORLD_SIZE", "1")))
    try:
        result = train(spec, emit, stop)
    except KeyboardInterrupt:
        emit("cancelled", step=None, checkpoint=None)
        _exit_now(STOPPED_STATUS)
    except AppError as exc:
        log.error("%s", exc)
        emit("error", message=str(exc), code=exc.code, params=exc.params)
        return 1
    except Exception as exc:  # noqa: BLE001 - every failure becomes the run's error event
        log.error("the run failed:\n%s", traceback.format_exc())
        emit(
            "error",
            message=f"The {kind} run failed: {type(exc).__name__}: {exc}. "
            f"The log ({output / 'train.log'}) has details.",
            code="training_failed",
            params={"job": kind, "detail": f"{type(exc).__name__}: {exc}", "log": str(output / "train.log")},
        )
        return 1
    if result.get("stopped"):
        emit("cancelled", step=result.get("steps"), checkpoint=result.get("checkpoint"))
        _exit_now(STOPPED_STATUS)
    emit("result", **result)
    return 0


def _exit_now(status: int) -> NoReturn:
    """End a stopped run at once: the interpreter's teardown of torch can take longer than the
    stop's grace period, and everything worth keeping (checkpoint, events, log) is written."""
    logging.shutdown()
    sys.stderr.flush()
    os._exit(status)


# -- the run ---------------------------------------------------------------------------------------


def build_examples(spec: JobSpec) -> tuple[JobSpec, prepare.TrainingTokenizer, token_cache.TokenDataset]:
    """The spec resolved (its generation and recipe filled in), the tokenizer, and the training sequences."""
    spec, tokenizer = prepare.resolve_spec(spec)
    return spec, tokenizer, prepare.run_sequences(spec, tokenizer)


def _require_train_extra() -> None:
    import importlib.util

    missing = [
        name for name in ("torch", "transformers", "peft", "accelerate") if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise TrainingError(
            f"This Python ({sys.executable}) lacks {', '.join(missing)}. Install them with: {INSTALL_HINT}",
            code="training_extra_missing",
            params={"packages": ", ".join(missing), "python": sys.executable, "command": INSTALL_HINT},
        )


def prepare_model(spec: JobSpec, n_vocab: int, *, dtype: Any, cuda: bool) -> tuple[Any, bool, bool]:
    """Load the base model, fit its vocabulary to the tokenizer, and wrap it in its LoRA adapter.

    Returns:
        The peft model, whether the vocabulary was extended, and whether the embeddings and LM head train.
    """
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    assert spec.lora_rank is not None and spec.lora_alpha is not None, "a resolved spec"
    load: dict[str, Any] = {"dtype": dtype}
    if spec.load_in_kbits != 16:
        from transformers import BitsAndBytesConfig

        precision = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(dtype, "fp32")
        # The modules that may train in full stay unquantized (the scripts skip modules_to_save).
        bits = quantization.bitsandbytes_config(
            spec.load_in_kbits, precision=precision, skip_modules=["embed_tokens", "lm_head"]
        )
        log.info("loading the model in %d bits: %s", spec.load_in_kbits, bits)
        load.update(
            quantization_config=BitsAndBytesConfig(**bits),
            device_map={"": int(os.environ.get("LOCAL_RANK", "0"))},
        )
    model: Any = AutoModelForCausalLM.from_pretrained(spec.model, **load)
    if spec.load_in_kbits != 16:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=bool(spec.gradient_checkpointing),
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    parameters = sum(p.numel() for p in model.parameters())
    if not cuda and parameters > TINY_TEST_MAX_PARAMS:
        raise TrainingError(
            f"The model has {parameters:,} parameters; a tiny test on the CPU allows {TINY_TEST_MAX_PARAMS:,}. "
            "Train real models on a CUDA GPU.",
            code="training_tiny_too_large",
            params={"parameters": parameters, "limit": TINY_TEST_MAX_PARAMS},
        )
    rows = int(model.get_input_embeddings().weight.shape[0])
    extended = n_vocab > rows
    if n_vocab < rows:
        warning = vocab_mismatch(n_vocab, rows)
        assert warning is not None
        raise TrainingError(warning.message, code=warning.code, params=warning.params)
    if extended:
        # New rows are appended after the model's own, which stay as they are (paper section 4.2).
        model.resize_token_embeddings(n_vocab, mean_resizing=True)
        log.info("embeddings resized from %d to %d rows", rows, n_vocab)
    choice = spec.train_embeddings or "auto"
    train_embeddings = spec.stage == "embeddings" or choice == "yes" or (choice == "auto" and extended)
    if spec.init_adapter:
        model = PeftModel.from_pretrained(model, spec.init_adapter, is_trainable=True)
    else:
        config = LoraConfig(
            r=spec.lora_rank,
            lora_alpha=spec.lora_alpha,
            lora_dropout=spec.lora_dropout,
            target_modules=list(spec.lora_modules),
            modules_to_save=["embed_tokens", "lm_head"] if train_embeddings else None,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, config)
    if spec.stage == "embeddings":
        for name, parameter in model.named_parameters():
            if "lora_" in name or "lm_head" in name:
                # Stage 1 (paper section 4.3, 7B): only the input embeddings learn. The LM head stays in
                # modules_to_save, untrained, so its appended rows go with the adapter to stage 2.
                parameter.requires_grad_(False)
    for parameter in model.parameters():
        if parameter.requires_grad and parameter.dtype != torch.float32:
            # AdamW's state and fp16 gradient unscaling want fp32 trainable weights (the frozen
            # base stays in half precision).
            parameter.data = parameter.data.float()
    return model, extended, train_embeddings


def train(spec: JobSpec, emit: Callable[..., None], stop: StopFlag) -> dict[str, Any]:
    """Train ``spec``; returns the result event's fields (``stopped`` True if it was stopped)."""
    _require_train_extra()
    # The data first: a dataset that cannot be used is named before torch is even imported.
    spec, tokenizer, examples = build_examples(spec)
    assert spec.learning_rate is not None, "a resolved spec"
    n_vocab, pad = tokenizer.size, tokenizer.pad
    log.info(
        "%d training sequences, tokenizer of %d tokens%s",
        len(examples),
        n_vocab,
        f" ({prepare.SFT_PAD_TOKEN} added as {pad})" if tokenizer.pad_added else "",
    )
    log.info(
        "recipe of generation %d: learning rate %g, warm-up ratio %g, weight decay %g, LoRA %d/%d, "
        "sequence %d, embeddings %s, gradient checkpointing %s, validation %s every %s updates and at the end",
        spec.generation,
        spec.learning_rate,
        spec.warmup_ratio,
        spec.weight_decay,
        spec.lora_rank,
        spec.lora_alpha,
        spec.block_size,
        spec.train_embeddings,
        "on" if spec.gradient_checkpointing else "off",
        spec.validation_file or f"share {spec.validation_split_percentage:g}",
        spec.eval_steps,
    )
    import torch
    import transformers
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    cuda = torch.cuda.is_available()
    if not cuda and not spec.tiny_test:
        raise TrainingError(
            "No CUDA GPU is available here; training needs one. (Only the tiny test configurations, "
            "flagged tiny_test, run on the CPU.) Use a computer with an NVIDIA GPU, or a remote GPU host.",
            code="training_no_cuda",
        )
    output = Path(spec.output_dir).resolve()
    transformers.utils.logging.disable_default_handler()
    transformers.utils.logging.enable_propagation()
    transformers.set_seed(spec.seed)

    precision = spec.precision
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if cuda else "fp32"
    if precision != "fp32" and not cuda:
        raise TrainingError(
            f"Precision {precision} needs a CUDA GPU; use fp32 (or auto) for a tiny test on the CPU.",
            code="training_precision_needs_cuda",
            params={"precision": precision},
        )
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    quantization.check_kbits(spec.load_in_kbits, cuda=cuda)
    train_set, eval_set = validation_sets(spec, _ExampleDataset(examples))
    model, extended, train_embeddings = prepare_model(spec, n_vocab, dtype=dtype, cuda=cuda)
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("trainable parameters: %d of %d", trainable, parameters)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    mean_tokens = examples.token_count / len(examples)  # from the cache's counts, without reading it
    tokens_per_step = mean_tokens * spec.batch_size * spec.grad_accum * world
    deepspeed: str | dict[str, Any] | None = spec.deepspeed or None
    if spec.deepspeed == "zero2":
        deepspeed = ZERO2_CONFIG
    if deepspeed is not None:
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise TrainingError(
                f"The spec asks for DeepSpeed ({spec.deepspeed}) but it is not installed: pip install deepspeed.",
                code="training_deepspeed_missing",
                params={"config": spec.deepspeed},
            )
    args = TrainingArguments(
        output_dir=str(output),
        per_device_train_batch_size=spec.batch_size,
        gradient_accumulation_steps=spec.grad_accum,
        learning_rate=spec.learning_rate,
        lr_scheduler_type=spec.lr_scheduler,
        **warmup_argument(TrainingArguments, spec.warmup_ratio or 0.0),
        max_grad_norm=spec.max_grad_norm,
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps or -1,
        weight_decay=spec.weight_decay or 0.0,
        optim="adamw_torch",
        logging_steps=spec.log_steps,
        save_strategy="steps" if spec.save_steps else "no",
        save_steps=spec.save_steps or 500,
        save_total_limit=spec.save_total_limit,
        seed=spec.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        gradient_checkpointing=bool(spec.gradient_checkpointing),
        gradient_checkpointing_kwargs={"use_reentrant": False} if spec.gradient_checkpointing else None,
        eval_strategy="steps" if eval_set is not None and spec.eval_steps else "no",
        eval_steps=spec.eval_steps or None,
        per_device_eval_batch_size=spec.batch_size,
        prediction_loss_only=True,
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        label_names=["labels"],
        dataloader_pin_memory=cuda,
        ddp_find_unused_parameters=False,
        deepspeed=deepspeed,
    )
    progress = progress_callback(emit, stop, tokens_per_step, output, eval_examples=len(eval_set or ()))
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=_collator(pad),
        callbacks=[progress],
    )
    distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
    log.info("%d process(es), torch.distributed %s", world, "on" if distributed else "off")
    resume = get_last_checkpoint(str(output)) if spec.resume and output.is_dir() else None
    if resume:
        log.info("resuming from %s", resume)
    if stop:
        return {"stopped": True, "steps": 0, "checkpoint": resume}
    outcome = trainer.train(resume_from_checkpoint=resume)
    steps = int(trainer.state.global_step)
    if stop:
        checkpoint = output / f"checkpoint-{steps}"
        return {"stopped": True, "steps": steps, "checkpoint": str(checkpoint) if checkpoint.is_dir() else resume}
    evaluated = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    if eval_set is not None and not (evaluated and evaluated[-1].get("step") == steps):
        trainer.evaluate()  # at the end, as the scripts' do_eval (the Trainer evaluates only every eval_steps)
        evaluated = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    eval_loss = finite(evaluated[-1]["eval_loss"]) if evaluated else None
    adapter = output / ADAPTER_DIR
    if trainer.is_world_process_zero():
        # The trained embeddings are in modules_to_save; resized but untrained ones (train_embeddings
        # "no" with a larger tokenizer) must be saved whole, or the adapter would not fit.
        _save_adapter(model, spec, adapter, tokenizer, save_embedding_layers=extended and not train_embeddings)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {
        "adapter": str(adapter),
        "steps": steps,
        "final_loss": losses[-1] if losses else None,
        "train_loss": float(outcome.training_loss),
        "eval_loss": eval_loss,
        "perplexity": evaluation.perplexity(eval_loss) if eval_loss is not None else None,
        "embeddings_trained": train_embeddings,
        "vocab_size": n_vocab,
        "generation": spec.generation,
    }


def validation_sets(spec: JobSpec, dataset: Any) -> tuple[Any, Any | None]:
    """The training set and the validation set (None: no validation) of a resolved ``spec``.

    A validation file is read as the training data is (the same function, the other path); else
    ``validation_split_percentage`` of the sequences is held out by index (:mod:`evaluation`), both
    sides views of ``dataset`` (``Subset``), so no sequence is copied or read ahead.
    """
    from torch.utils.data import Subset

    if spec.validation_file:
        _, _, held = build_examples(spec.replace(dataset=spec.validation_file, max_examples=0))
        log.info("validation: %d sequences of %s", len(held), spec.validation_file)
        return dataset, _ExampleDataset(held)
    count = len(dataset)
    indices = evaluation.held_out_indices(count, spec.validation_split_percentage or 0.0, spec.seed)
    if not indices:
        log.info("validation: none (no share held out of %d sequences)", count)
        return dataset, None
    log.info("validation: %d of %d sequences held out (seed %d)", len(indices), count, spec.seed)
    return Subset(dataset, evaluation.Complement(count, indices)), Subset(dataset, indices)


def warmup_argument(arguments: type, ratio: float) -> dict[str, Any]:
    """The warm-up as a share of the run, in the keyword this transformers takes.

    transformers 4.x has ``warmup_ratio`` and reads ``warmup_steps`` as a count (0.05 steps: no
    warm-up at all); 5.x dropped ``warmup_ratio`` and reads a ``warmup_steps`` below 1 as the
    share. Both then warm up for ``ceil(total * ratio)`` steps.
    """
    names = {f.name for f in dataclasses.fields(arguments)}
    return {"warmup_ratio": ratio} if "warmup_ratio" in names else {"warmup_steps": ratio}


def _save_adapter(
    model: Any, spec: JobSpec, adapter: Path, tokenizer: prepare.TrainingTokenizer, *, save_embedding_layers: bool
) -> None:
    """Write the adapter and its tokenizer under a temporary name, then rename it into place."""
    partial = adapter.with_name(f".{adapter.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(str(partial), save_embedding_layers=save_embedding_layers)
    # The tokenizer goes with the adapter: merging and conversion need the one it was trained with.
    source = data.tokenizer_file(spec.tokenizer or spec.model)
    shutil.copy2(source, partial / source.name)
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        sibling = source.parent / name
        if sibling.is_file():
            shutil.copy2(sibling, partial / name)
    if tokenizer.added:
        # As the authors' tokenizer.save_pretrained leaves it: the pad token after the pieces.
        (partial / prepare.ADDED_TOKENS_FILE).write_text(json.dumps(tokenizer.added), encoding="utf-8")
    if tokenizer.pad_added:
        special = partial / "special_tokens_map.json"
        tokens = json.loads(special.read_text(encoding="utf-8")) if special.is_file() else {}
        tokens["pad_token"] = prepare.SFT_PAD_TOKEN
        special.write_text(json.dumps(tokens, ensure_ascii=False, indent=2), encoding="utf-8")
    (partial / "training_spec.json").write_text(spec.to_json(), encoding="utf-8")
    if adapter.exists():
        shutil.rmtree(adapter)
    os.replace(partial, adapter)


class _ExampleDataset:
    """A map-style dataset over the examples (what ``Trainer`` needs: ``len`` and indexing)."""

    def __init__(self, examples: token_cache.TokenDataset | list[data.Example]) -> None:
        self._examples = examples

    def __len__(self) -> int:
        return len(self._examples)

    def __getitem__(self, index: int) -> data.Example:
        return self._examples[index]


def _collator(pad: int) -> Callable[[list[data.Example]], dict[str, Any]]:
    import torch

    def collate(batch: list[data.Example]) -> dict[str, Any]:
        width = max(len(example.input_ids) for example in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), data.IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, example in enumerate(batch):
            length = len(example.input_ids)
            ids[row, :length] = torch.tensor(list(example.input_ids), dtype=torch.long)
            labels[row, :length] = torch.tensor(list(example.labels), dtype=torch.long)
            mask[row, :length] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    return collate
