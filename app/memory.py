"""Keep the C heap from creeping during long calls (glibc only).

Why: an agent keeps Calmline open for hours. ``calmline soak --pace 4`` over 40 minutes of
call showed the process's RSS creeping by about 50–85 MB while Python's own objects
(tracemalloc, numpy arrays included) stayed at 6–9 MB and the bytes *in use* in glibc's
malloc heap stayed at about 115–140 MB. What grew was the *free* memory glibc kept inside its
heap: 47 MB → 110–130 MB. Decoding (Whisper via CTranslate2, the ONNX models, numpy) frees
large buffers of ever-different sizes; once glibc has raised its mmap threshold they land in
the heap, glibc reuses the holes only in part, the heap grows around them and gives back
nothing but its top. Capping arenas (``MALLOC_ARENA_MAX=2``), turning off onnxruntime's CPU
arena and MKL's buffer cache did not change the growth. A fixed 128 KiB mmap threshold kept
the heap flat (a 1 MiB one did not); ``malloc_trim(0)``, which also returns the free pages in
the middle of the heap, lowered RSS further.

:class:`HeapTrim` is a pipeline stage that does nothing to the events: made, it fixes the
threshold (:func:`tune_malloc`, once per process); on the call clock's tick it trims the heap
(:func:`trim_heap`) at most once every ``every_s`` seconds of wall time, on the pipeline
thread between decodes. Where the C library is not glibc (macOS, Windows, musl) all of it is
a no-op and never raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

TRIM_EVERY_S = 30.0
M_MMAP_THRESHOLD = -3  # mallopt() parameter, from glibc's <malloc.h>
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed


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
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc


@functools.cache
def tune_malloc() -> bool:
    """Once per process: blocks of 128 KiB or more get a mapping of their own, returned to the
    OS when freed. glibc starts there but raises the threshold to the size of each large
    block freed (up to 32 MiB), after which decoding's big, ever-different buffers land in
    the heap and leave holes in it. A value the user set (``MALLOC_MMAP_THRESHOLD_``,
    ``GLIBC_TUNABLES``) is left alone. True when the setting was made."""
    libc = _glibc()
    if libc is None:
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "mmap_threshold" in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    try:
        return libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    except Exception:  # never let memory housekeeping break a call
        log.debug("mallopt failed", exc_info=True)
        return False


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
    """A pipeline stage that passes events through untouched. Made (with a call's stages), it
    fixes the mmap threshold (:func:`tune_malloc`, once per process); on the call clock's
    tick it trims the C heap at most once every ``every_s`` seconds of wall time."""

    component = "memory housekeeping"

    def __init__(
        self,
        every_s: float = TRIM_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        trim: Callable[[], bool] = trim_heap,
        tune: Callable[[], bool] = tune_malloc,
    ) -> None:
        tune()
        self.every_s = every_s
        self._clock = clock
        self._trim = trim
        self._last = clock()
        self.trims = 0

    def __call__(self, events: list[Any]) -> list[Any]:
        return events

    def tick(self, now: float) -> list[Any]:
        moment = self._clock()
        if moment - self._last >= self.every_s:
            self._last = moment
            self._trim()
            self.trims += 1
        return []
