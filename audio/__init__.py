"""Audio in: devices, the softphone line, file replay, resampling and voice activity. No Qt."""

SAMPLE_RATE = 16_000  # what Whisper and the VAD take; every source is resampled to it
