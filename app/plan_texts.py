"""The planner's figures in the interface's language: a catalogue file's memory and speed on this
computer, the ★'s reason, and the plan of the loaded model.

The figures come from Qt-free :mod:`runtime.models.plan`; the sentences are built here, with
``QCoreApplication.translate`` in the ``Plan`` context, so that they are translated like every
other string of the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from runtime.hub.catalogue import MEMORY_SHARE, READING_SPEED, CatalogueEntry, CatalogueFile, Recommendation
from runtime.models.machine import Machine
from runtime.models.plan import Plan, catalogue_shape, plan

__all__ = [
    "FILE_CONTEXT",
    "FilePlan",
    "context_plan_text",
    "file_plan",
    "gb_text",
    "loaded_plan_text",
    "star_reason",
    "tps_text",
]

#: The context a catalogue file's row is planned for (less when the model was trained for less).
FILE_CONTEXT = 4096


def gb_text(n_bytes: int) -> str:
    """Bytes as "5.4 GB" (one decimal: the plan is an estimate), or "35 MB" under 0.1 GB, where
    "0.0 GB" would say nothing (a small model's KV cache)."""
    if n_bytes < 100_000_000:
        return f"{max(1, round(n_bytes / 1e6))} MB"
    return f"{n_bytes / 1e9:.1f} GB"


def tps_text(tokens_per_second: float) -> str:
    """A decode speed's number: whole tokens/s, one decimal under 10 (2.4 and 0.8 are not 2 and 1)."""
    return f"{tokens_per_second:.0f}" if tokens_per_second >= 10 else f"{tokens_per_second:.1f}"


@dataclass(frozen=True)
class FilePlan:
    """A catalogue file's row text and tooltip, and whether it is marked (too slow or too big)."""

    text: str
    tooltip: str
    too_slow: bool
    too_big: bool
    plan: Plan


def file_plan(
    entry: CatalogueEntry, file: CatalogueFile, machine: Machine, *, reading_speed: float = READING_SPEED
) -> FilePlan:
    """``file`` of ``entry`` planned on ``machine`` at the entry's context or :data:`FILE_CONTEXT`."""
    n_ctx = min(entry.context or FILE_CONTEXT, FILE_CONTEXT)
    shape = catalogue_shape(entry.params, file.quant, context=entry.context, file_size=file.size, name=file.name)
    planned = plan(shape, machine, n_ctx=n_ctx)
    gb, tps = gb_text(planned.memory_bytes), tps_text(planned.tokens_per_second)
    too_big = planned.memory_bytes > machine.memory_total * MEMORY_SHARE
    too_slow = planned.tokens_per_second < reading_speed
    text = QCoreApplication.translate("Plan", "{gb} · about {tps} tokens/s").format(gb=gb, tps=tps)
    tips = [
        QCoreApplication.translate(
            "Plan",
            "Planned for this computer at {ctx} tokens of context: about {gb} of memory, and about {tps} "
            "tokens/s while it answers.",
        ).format(ctx=f"{planned.n_ctx:,}", gb=gb, tps=tps)
    ]
    if too_big:
        text += " · " + QCoreApplication.translate("Plan", "does not fit")
        tips.append(
            QCoreApplication.translate(
                "Plan", "This computer has {total} of memory: the model would leave too little for the rest."
            ).format(total=gb_text(machine.memory_total))
        )
    if too_slow:
        text += " · " + QCoreApplication.translate("Plan", "too slow here")
        tips.append(
            QCoreApplication.translate(
                "Plan", "That is slower than reading ({speed} tokens/s): it works, but answers come slowly."
            ).format(speed=tps_text(reading_speed))
        )
    return FilePlan(text, "\n".join(tips), too_slow, too_big, planned)


def star_reason(pick: Recommendation) -> str:
    """Why the ★ is on its file: "about 6 tokens/s here, 5.4 GB at 2,048 context" (or "" when the
    pick was made without the machine's figures)."""
    if not pick.tokens_per_second:
        return ""
    return QCoreApplication.translate("Plan", "about {tps} tokens/s here, {gb} at {ctx} context").format(
        tps=tps_text(pick.tokens_per_second), gb=gb_text(pick.memory), ctx=f"{pick.n_ctx:,}"
    )


def loaded_plan_text(planned: Plan) -> str:
    """The status bar's plan of the loaded model: "plan: 1.2 GB, about 14 tokens/s"."""
    return QCoreApplication.translate("Plan", "plan: {gb}, about {tps} tokens/s").format(
        gb=gb_text(planned.memory_bytes), tps=tps_text(planned.tokens_per_second)
    )


def context_plan_text(planned: Plan) -> str:
    """The decoding panel's plan of the chosen context: "about 1.2 GB of memory, KV cache 0.3 GB"."""
    return QCoreApplication.translate("Plan", "about {gb} of memory, KV cache {kv}").format(
        gb=gb_text(planned.memory_bytes), kv=gb_text(planned.kv_cache_bytes)
    )
