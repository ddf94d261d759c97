"""Hand the C heap's free memory back to the OS during long calls (glibc only).

Why: an agent keeps Calmline open for hours. ``calmline soak --pace 4`` over 40 minutes of
call showed the process's RSS creeping by about 50–85 MB while Python's own objects
(tracemalloc, numpy arrays included) stayed at 6–9 MB and the bytes *in use* in glibc's
malloc heap stayed at about 115–140 MB. What grew was the *free* memory glibc kept inside its
heap: 47 MB → 110–130 MB. Decoding (Whisper via CTranslate2, the ONNX models, numpy) frees
large buffers of ever-different sizes; once glibc has raised its mmap threshold they land in
the heap, glibc reuses the holes only in part, the heap grows around them and gives back
nothing but its top. Measured drift over those 40 minutes, each against a baseline run beside
it: capping arenas (``MALLOC_ARENA_MAX=2``) +54 vs +48 MB; onnxruntime without its CPU arena
and MKL without its buffer cache +85 vs +84 MB; a fixed 128 KiB mmap threshold +32 vs +81 MB
(but decoding's big buffers then cost an mmap and munmap each: p50 latency doubled at pace 4);
``malloc_trim(0)`` every 30 s, which also returns the free pages in the middle of the heap,
+14 vs +84 MB. Only the trim is kept.

The other half of the creep was not free memory at all: oneDNN (inside CTranslate2) compiles
and caches a kernel set for every new length of Whisper's input window, about 1 MB each and
up to 1024 of them. ``models.stt`` now rounds windows to whole seconds (at most 21 lengths);
the hour's soak went from +60.8 MB to +37.3 and +25.1 MB in two runs with both.

:class:`HeapTrim` is a pipeline stage that does nothing to the events; on the call clock's
tick it trims the heap (:func:`trim_heap`) at most once every ``every_s`` seconds of wall
time, on the pipeline thread between decodes. Where the C library is not glibc (macOS,
Windows, musl) it is a no-op and never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

TRIM_EVERY_S = 30.0


@functools.cache
def _glibc() -> Any | None:
    """The C library when it is glibc with ``malloc_trim``; None anywhere else."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # glibc only (musl has neither)  # noqa: B018
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return libc


def trim_heap() -> bool:
    """Return the heap's free pages to the OS (``malloc_trim(0)``). True when memory was
    released; False when there was none to release or the C library is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    try:
        return bool(libc.malloc_trim(0))
    except Exception:  # never let memory housekeeping break a call
        log.debug("malloc_trim failed", exc_info=True)
        return False


class HeapTrim:
    """Trims the C heap at most once every ``every_s`` seconds of wall time, when the call
    clock ticks (:class:`app.pipeline.stages.StageRunner` ticks it)."""

    def __init__(
        self,
        every_s: float = TRIM_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        trim: Callable[[], bool] = trim_heap,
    ) -> None:
        self.every_s = every_s
        self._clock = clock
        self._trim = trim
        self._last = clock()
        self.trims = 0

    def tick(self) -> None:
        moment = self._clock()
        if moment - self._last >= self.every_s:
            self._last = moment
            self._trim()
            self.trims += 1
