"""app.memory: the heap housekeeping the soak found was needed (RSS creep from free memory
kept inside glibc's heap). Fast tests; the effect over a long call is `calmline soak`'s."""

from __future__ import annotations

import ctypes
import sys

import pytest

from app import memory
from app.analyze import call_stages
from app.memory import HeapTrim, trim_heap, tune_malloc


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def fresh_libc():
    memory._glibc.cache_clear()
    memory.tune_malloc.cache_clear()
    yield
    memory._glibc.cache_clear()
    memory.tune_malloc.cache_clear()


def test_trim_returns_freed_heap_pages_to_the_os():
    if memory._glibc() is None:
        pytest.skip("not glibc: trimming is a no-op here")
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    block, count = 64 * 1024, 1600  # 100 MB in blocks below the mmap threshold: the heap
    blocks = [libc.malloc(block) for _ in range(count)]
    try:
        for address in blocks:
            ctypes.memset(address, 1, block)  # touched: resident
        for address in blocks[:-1]:  # the last one pins the heap's top: free but kept
            libc.free(address)
        before = _rss_mb()
        assert trim_heap() is True
        after = _rss_mb()
    finally:
        libc.free(blocks[-1])
    assert before - after > 50, (before, after)


def test_trim_is_a_no_op_without_glibc(monkeypatch, fresh_libc):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory._glibc() is None
    assert trim_heap() is False
    assert tune_malloc() is False


def test_the_mmap_threshold_is_fixed_once_unless_the_user_set_one(fresh_libc, monkeypatch):
    if memory._glibc() is None:
        pytest.skip("not glibc: tuning is a no-op here")
    calls = []

    class Libc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(memory, "_glibc", lambda: Libc())
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert tune_malloc() is True and tune_malloc() is True
    assert calls == [(memory.M_MMAP_THRESHOLD, 128 * 1024)]  # once per process
    memory.tune_malloc.cache_clear()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=4194304")
    assert tune_malloc() is False and len(calls) == 1
    memory.tune_malloc.cache_clear()
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert tune_malloc() is False and len(calls) == 1


def test_trim_is_a_no_op_when_the_c_library_has_no_malloc_trim(monkeypatch, fresh_libc):
    class Musl:  # no gnu_get_libc_version, no malloc_trim
        pass

    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: Musl())
    assert memory._glibc() is None
    assert trim_heap() is False


def test_trim_is_a_no_op_when_the_c_library_cannot_be_loaded(monkeypatch, fresh_libc):
    def refuse(name):
        raise OSError("no libc here")

    monkeypatch.setattr(memory.ctypes, "CDLL", refuse)
    assert trim_heap() is False


def test_a_failing_trim_or_tune_never_raises(fresh_libc, monkeypatch):
    class Broken:
        def malloc_trim(self, pad):
            raise RuntimeError("boom")

        def mallopt(self, param, value):
            raise RuntimeError("boom")

    monkeypatch.setattr(memory, "_glibc", lambda: Broken())
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert trim_heap() is False
    assert tune_malloc() is False


def test_the_stage_passes_events_through_and_trims_at_most_every_interval():
    now = [100.0]
    calls = []
    tuned = []
    stage = HeapTrim(
        every_s=30,
        clock=lambda: now[0],
        trim=lambda: calls.append(now[0]) or True,
        tune=lambda: tuned.append(True) or True,
    )
    assert tuned == [True]  # the mmap threshold is fixed when the call's stages are made
    events = [object(), object()]
    assert stage(events) is events
    for step in range(1, 121):  # two minutes of ticks, one a second
        now[0] = 100.0 + step
        assert stage.tick(step) == []
    assert calls == [130.0, 160.0, 190.0, 220.0]
    assert stage.trims == 4


def test_every_call_pipeline_trims_the_heap():
    stages = call_stages(None, None)
    assert sum(isinstance(stage, HeapTrim) for stage in stages) == 1
