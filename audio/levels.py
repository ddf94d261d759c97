"""Signal levels in dBFS."""

from __future__ import annotations

import numpy as np

SILENCE_DBFS = -120.0


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level of ``samples`` (float, full scale ±1) in dBFS."""
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DBFS, 20.0 * np.log10(rms)) if rms > 0 else SILENCE_DBFS
