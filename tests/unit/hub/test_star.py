"""The catalogue's ★ as a function of a machine's figures: fits with headroom and decodes at reading speed."""

from __future__ import annotations

from runtime.hub.catalogue import READING_SPEED, load_catalogue, recommend, star_pick
from runtime.models.machine import Machine
from runtime.models.plan import catalogue_shape, plan

GB = 10**9
PLENTY_OF_DISK = 1000 * GB


def _picked(machine: Machine) -> tuple[str, str]:
    pick = star_pick(load_catalogue(), machine, free=PLENTY_OF_DISK)
    assert pick is not None
    entry = load_catalogue().entry(pick.repo)
    assert entry is not None
    quant = next(f.quant for f in entry.files if f.name == pick.file)
    return entry.params, quant


def test_a_two_core_laptop_gets_a_small_model_at_four_or_five_bits() -> None:
    laptop = Machine.described(cores=2, memory_gb=16, bandwidth_gb_s=15)
    params, quant = _picked(laptop)
    assert params in {"1.3B", "7B"}
    assert quant in {"Q4_0", "Q4_K", "Q5_0", "Q5_K"}


def test_a_sixteen_core_workstation_gets_a_13b_or_a_7b_q8_0() -> None:
    workstation = Machine.described(cores=16, memory_gb=64, bandwidth_gb_s=60)
    assert _picked(workstation) in {("13B", "Q4_0"), ("13B", "Q4_K"), ("13B", "Q5_0"), ("13B", "Q5_K"),
                                    ("13B", "Q6_K"), ("13B", "Q8_0"), ("7B", "Q8_0")}  # fmt: skip


def test_the_pick_decodes_at_reading_speed_and_says_so() -> None:
    for machine in (
        Machine.described(cores=2, memory_gb=16, bandwidth_gb_s=15),
        Machine.described(cores=4, memory_gb=25, bandwidth_gb_s=20),
        Machine.described(cores=16, memory_gb=64, bandwidth_gb_s=60),
    ):
        pick = star_pick(load_catalogue(), machine, free=PLENTY_OF_DISK)
        assert pick is not None
        entry = load_catalogue().entry(pick.repo)
        assert entry is not None
        file = next(f for f in entry.files if f.name == pick.file)
        planned = plan(catalogue_shape(entry.params, file.quant, context=entry.context, file_size=file.size), machine)
        assert planned.tokens_per_second >= READING_SPEED
        assert planned.memory_bytes <= 0.7 * machine.memory_total
        assert "tokens/s" in pick.reason and "GB" in pick.reason


def test_a_slow_memory_rules_out_the_13b_that_memory_alone_would_star() -> None:
    # The case: 2 cores, 25 GB. By memory alone the 13B Q6_K is starred; at 15 GB/s it
    # would decode at one or two tokens per second.
    catalogue = load_catalogue()
    by_memory = recommend(catalogue, ram=25 * GB, free=PLENTY_OF_DISK)
    assert by_memory is not None and "13b" in by_memory.repo
    machine = Machine.described(cores=2, memory_gb=25, bandwidth_gb_s=15)
    by_plan = recommend(catalogue, ram=25 * GB, free=PLENTY_OF_DISK, machine=machine)
    assert by_plan is not None and "13b" not in by_plan.repo


def test_nothing_is_starred_when_nothing_reaches_reading_speed_or_fits() -> None:
    crawling = Machine.described(cores=1, memory_gb=16, bandwidth_gb_s=0.5)
    assert star_pick(load_catalogue(), crawling, free=PLENTY_OF_DISK) is None
    tiny = Machine.described(cores=8, memory_gb=0.5, bandwidth_gb_s=60)
    assert star_pick(load_catalogue(), tiny, free=PLENTY_OF_DISK) is None
    roomy = Machine.described(cores=8, memory_gb=64, bandwidth_gb_s=60)
    assert star_pick(load_catalogue(), roomy, free=GB) is None  # no disk space for any file
