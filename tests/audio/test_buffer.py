import numpy as np

from audio.buffer import CaptureBuffer


def test_drain_returns_blocks_in_order_and_empties():
    buffer = CaptureBuffer(16_000, max_seconds=1.0)
    buffer.push(np.full((160, 1), 0.1, dtype=np.float32))
    buffer.push(np.full((160, 1), 0.2, dtype=np.float32))
    out = buffer.drain()
    assert out.shape == (320, 1)
    assert np.allclose(out[:160], 0.1) and np.allclose(out[160:], 0.2)
    assert buffer.drain().size == 0


def test_push_copies_the_callback_array():
    buffer = CaptureBuffer(16_000)
    block = np.ones((100, 1), dtype=np.float32)
    buffer.push(block)
    block[:] = 0  # PortAudio reuses its buffer after the callback returns
    assert np.all(buffer.drain() == 1)


def test_full_buffer_drops_newest_and_counts_it():
    buffer = CaptureBuffer(1_000, max_seconds=0.5)  # 500 frames
    for _ in range(7):
        buffer.push(np.zeros((100, 1), dtype=np.float32), overflowed=False)
    stats = buffer.stats()
    assert stats.frames_captured == 700
    assert stats.frames_dropped == 200
    assert stats.queued_seconds == 0.5
    assert len(buffer.drain()) == 500


def test_overflow_flags_and_level_are_reported():
    buffer = CaptureBuffer(16_000)
    buffer.push(np.full((1600, 1), 0.5, dtype=np.float32), overflowed=True)
    stats = buffer.stats()
    assert stats.overflows == 1
    assert abs(stats.level_dbfs - 20 * np.log10(0.5)) < 0.01
