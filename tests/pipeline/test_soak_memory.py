"""What the soak found was needed against memory creep: the heap housekeeping (free memory
kept inside glibc's heap) and Whisper windows of whole seconds (oneDNN caches kernels per
input length). Fast tests; the effect over a long call is `calmline soak`'s."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest

from app.pipeline import memory
from app.pipeline.call import CallSetup
from app.pipeline.memory import HeapTrim, trim_heap
from models.stt import LIVE_WINDOW_S, MAX_WINDOW_S, SAMPLE_RATE


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def fresh_libc():
    memory._glibc.cache_clear()
    yield
    memory._glibc.cache_clear()


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


def test_a_failing_trim_never_raises(fresh_libc, monkeypatch):
    class Broken:
        def malloc_trim(self, pad):
            raise RuntimeError("boom")

    monkeypatch.setattr(memory, "_glibc", lambda: Broken())
    assert trim_heap() is False


def test_the_heap_is_trimmed_at_most_every_interval():
    now = [100.0]
    calls = []
    trim = HeapTrim(every_s=30, clock=lambda: now[0], trim=lambda: calls.append(now[0]) or True)
    for _ in range(1, 121):  # two minutes of ticks, one a second
        now[0] += 1
        trim.tick()
    assert calls == [130.0, 160.0, 190.0, 220.0]
    assert trim.trims == 4


def test_every_call_trims_the_heap_on_its_clock_tick(monkeypatch):
    trims = []
    monkeypatch.setattr(HeapTrim, "tick", lambda self: trims.append(self))
    runner = CallSetup(None, redact=()).stages()
    assert runner.tick(1.0) == []
    assert len(trims) == 1


def test_utterances_of_every_length_reach_the_encoder_in_few_window_lengths(tiny_engine):
    frames_per_s = 100
    windows = set()
    for seconds in np.linspace(0.2, 31.0, 157):
        audio = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)
        for min_window in (LIVE_WINDOW_S, MAX_WINDOW_S):
            frames = tiny_engine._features(audio, min_window).shape[-1]
            assert frames % frames_per_s == 0
            assert frames >= min(seconds, MAX_WINDOW_S) * frames_per_s
            windows.add(frames)
    assert len(windows) <= MAX_WINDOW_S - LIVE_WINDOW_S + 1


def test_a_decode_goes_through_the_whole_second_windows(tiny_engine, monkeypatch):
    shapes = []
    features = tiny_engine._features

    def spy(audio, min_window):
        view = features(audio, min_window)
        shapes.append(view.shape[-1])
        return view

    monkeypatch.setattr(tiny_engine, "_features", spy)
    tiny_engine.decode(np.zeros(int(12.3 * SAMPLE_RATE), dtype=np.float32), beam_size=1)
    assert shapes[0] == 1300
