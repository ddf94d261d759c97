"""The soak test (`calmline soak`): memory and latency over a long live call.

The fast tests check the report's arithmetic on made-up numbers; the slow one replays a
5-minute two-sided call through the real live path (real Whisper, sentiment model, coach and
SQLite store) at real-time pace.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.tooling.soak import (
    LatencyPoint,
    RssSample,
    SoakReport,
    aligned_period,
    format_report,
    latency_window,
    main,
    run_soak,
    write_looped_call,
)


def _report(
    duration_s: float, rss: list[float], latencies: list[tuple[float, float]]
) -> SoakReport:
    """A report with one RSS reading a minute and (end time, latency) per segment."""
    report = SoakReport(
        minutes=duration_s / 60,
        duration_s=duration_s,
        model="tiny.en",
        threads=2,
        store="sqlite:///x.db",
        report_every_s=60,
        completed=True,
        saved=True,
    )
    report.samples = [
        RssSample(t_s=60.0 * (i + 1), rss_mb=mb, segments=0, backlog_s=0, unsaved=0, load1=1.0)
        for i, mb in enumerate(rss)
    ]
    report.latencies = [
        LatencyPoint(end_s=end, commit_s=end + lat, latency_s=lat, speaker="agent")
        for end, lat in latencies
    ]
    return report


def test_latency_windows_are_10_minutes_or_the_first_and_last_20_percent():
    assert latency_window(3600) == (600, "first vs last 10 minutes")
    assert latency_window(8 * 3600)[0] == 600
    assert latency_window(3000)[0] == 600  # 20 % of 50 minutes is exactly 10 minutes
    width, rule = latency_window(300)
    assert width == pytest.approx(60)
    assert "20 %" in rule and "1.0 min" in rule
    assert latency_window(600)[0] == pytest.approx(120)


def test_rss_drift_is_last_reading_minus_the_first_minute():
    report = _report(300, [500.0, 520.0, 505.0, 512.0, 530.5], [])
    assert report.rss_drift_mb == pytest.approx(30.5)
    assert report.rss_ok is True
    assert _report(300, [500.0, 560.0], []).rss_ok is False  # 60 MB > 50 MB
    assert _report(60, [500.0], []).rss_drift_mb is None  # one reading: nothing to compare
    assert _report(60, [500.0], []).rss_ok is None
    # a steady 10 MB a minute is 600 MB an hour
    assert _report(300, [500, 510, 520, 530, 540], []).rss_slope_mb_per_h == pytest.approx(600)


def test_p95_of_the_first_and_last_windows_and_their_ratio():
    # 5-minute run: windows are the first and last 60 s of call time (by when speech ended)
    first = [(5.0 + i, 0.5 + 0.1 * i) for i in range(10)]  # ends 5..14 s, 0.5..1.4 s
    middle = [(120.0 + i, 9.0) for i in range(10)]  # in neither window
    last = [(245.0 + i, 0.6 + 0.1 * i) for i in range(10)]  # ends 245..254 s
    report = _report(300, [500] * 5, first + middle + last)
    assert report.p95_first == pytest.approx(np.percentile([lat for _, lat in first], 95))
    assert report.p95_last == pytest.approx(np.percentile([lat for _, lat in last], 95))
    assert report.p95_ratio == pytest.approx(report.p95_last / report.p95_first)
    assert report.p95_ratio == pytest.approx(1.4555 / 1.3555, rel=1e-3)
    assert report.latency_ok is True  # +7 % ≤ 10 %
    slower = _report(300, [500] * 5, [*first, (250.0, 3.0), (251.0, 3.0)])
    assert slower.latency_ok is False
    assert _report(300, [500], first).p95_last is None
    assert _report(300, [500], first).latency_ok is None
    # an hour: 10-minute windows, so a segment at 11 minutes is in neither
    hour = _report(3600, [500] * 60, [(590.0, 1.0), (660.0, 5.0), (3000.0, 1.1)])
    assert (hour.p95_first, hour.p95_last) == (pytest.approx(1.0), pytest.approx(1.1))


def test_minute_rows_count_commits_between_readings():
    report = _report(180, [500, 501, 502], [(10, 0.5), (30, 0.7), (70, 1.0), (150, 2.0)])
    rows = report.minute_rows()
    assert [r.segments for r in rows] == [2, 1, 1]
    assert rows[0].p50_s == pytest.approx(0.6)
    assert rows[1].p95_s == pytest.approx(1.0)
    assert [r.rss_mb for r in rows] == [500, 501, 502]


def test_format_report_prints_the_table_and_the_verdicts_with_the_ratio():
    first = [(5.0 + i, 1.0) for i in range(5)]
    last = [(250.0 + i, 2.0) for i in range(5)]
    text = format_report(_report(300, [500, 510, 520, 530, 600], first + last))
    assert "RSS MB" in text and "p95 s" in text
    assert "600.0 − 500.0 MB = +100.0 MB" in text
    assert "ratio 2.00" in text and "MISS" in text
    assert "20 % of the run" in text
    json.dumps(_report(300, [500, 510], first + last).to_json())  # serialisable


def test_looped_call_files_have_the_asked_length(shared_data, tmp_path):
    import soundfile

    agent, client, loop_s = write_looped_call(shared_data, 600.0, tmp_path)
    assert 200 < loop_s < 300  # Auto_Repairs_40_UTC: about 4 minutes a side
    for path in (agent, client):
        info = soundfile.info(str(path))
        assert (info.channels, info.samplerate) == (1, 8000)
        assert info.frames == 600 * 8000


@pytest.mark.parametrize("minutes", [5, 60, 480])
def test_the_last_latency_window_replays_the_audio_of_the_first(minutes):
    seconds, loop_s = minutes * 60.0, 245.2
    window_s, _ = latency_window(seconds)
    period = aligned_period(loop_s, seconds, window_s)
    assert abs(period - loop_s) <= loop_s / 2
    turns = (seconds - window_s) / period
    assert turns == pytest.approx(round(turns)) and round(turns) >= 1


def test_an_aligned_call_repeats_every_period(shared_data, tmp_path):
    import soundfile

    agent, client, period = write_looped_call(shared_data, 300.0, tmp_path, window_s=60.0)
    assert period == pytest.approx(240.0)  # the 245 s pair, its last 5 s left out
    for path in (agent, client):
        samples, rate = soundfile.read(str(path), dtype="int16")
        assert len(samples) == 300 * rate
        first, last = samples[: 60 * rate], samples[240 * rate :]
        assert np.array_equal(first, last) and np.abs(first).max() > 0


def test_missing_data_exits_2_with_a_clear_message(tmp_path, capsys):
    assert main(["--minutes", "1", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Auto_Repairs_40_UTC_agent.wav" in err and "--data" in err


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.reliability("load", "A 5-minute two-sided call through the live path, saved")
def test_five_minute_soak_through_the_live_path(shared_data, reliability_note):
    report = run_soak(5, shared_data, model="tiny.en", threads=2, report_every_s=60)
    print("\n" + format_report(report))

    assert report.completed and report.saved and not report.errors
    rows = report.minute_rows()
    assert len(rows) == 5
    assert all(row.segments > 0 for row in rows), [row.segments for row in rows]
    assert report.frames_dropped == 0
    assert report.rss_drift_mb is not None and report.rss_drift_mb <= 50
    # Loose on purpose. With 5 minutes the windows are the first and last minute (the 20 %
    # rule), a dozen or two segments each, so their p95 is nearly their maximum: one long
    # utterance or a neighbour's burst on the shared 2-core CI machine moves it by a second.
    # The 10 % target needs the 10-minute windows of an hour's run (`calmline soak`). This
    # still fails on real drift — a growing backlog or decoding that slows as the session
    # ages adds seconds, not tenths.
    assert report.p95_first is not None and report.p95_last is not None
    assert report.p95_last <= 1.5 * report.p95_first + 0.5
    reliability_note(
        f"RSS drift {report.rss_drift_mb:+.1f} MB; latency p95 first {report.p95_first:.2f} s, "
        f"last {report.p95_last:.2f} s; {report.frames_dropped} frames dropped"
    )


def test_pace_reaches_the_run_and_the_report_says_latency_is_not_judged(
    monkeypatch, tmp_path, capsys
):
    import app.tooling.soak as soak

    seen = {}

    def fake_run(minutes, data, **kwargs):
        seen.update(kwargs, minutes=minutes)
        report = _report(300, [500.0, 505.0], [(5.0, 1.0), (250.0, 3.0)])
        report.pace = kwargs["pace"]
        return report

    monkeypatch.setattr(soak, "run_soak", fake_run)
    out = tmp_path / "soak.json"
    assert main(["--minutes", "5", "--pace", "4", "--data", "data", "--json", str(out)]) == 0
    assert seen["pace"] == 4.0 and seen["minutes"] == 5.0
    text = capsys.readouterr().out
    assert "pace 4 (× real time)" in text and "call min" in text
    assert "latency verdicts only mean something at pace 1" in text
    assert "MISS" not in text  # a 3× slower last window is not judged at pace 4
    data = json.loads(out.read_text())
    assert data["pace"] == 4.0
    assert data["checks"]["latency_ok"] is None and data["checks"]["latency_judged"] is False
    assert data["checks"]["rss_ok"] is True  # memory is still judged

    assert main(["--minutes", "5", "--data", "data"]) == 0
    assert seen["pace"] == 1.0  # the default: real time
    text = capsys.readouterr().out
    assert "real-time pace" in text and "call min" not in text and "MISS" in text


@pytest.mark.parametrize("pace", ["0", "-2", "nan"])
def test_a_pace_that_is_not_positive_exits_2(pace, tmp_path, capsys):
    assert main(["--minutes", "1", "--pace", pace, "--data", str(tmp_path)]) == 2
    assert "--pace must be a positive number" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_paced_soak_replays_the_call_faster(shared_data):
    report = run_soak(2, shared_data, threads=2, report_every_s=10, pace=4, progress=print)
    print("\n" + format_report(report))

    assert report.completed and report.pace == 4
    assert report.wall_s < 0.5 * report.duration_s  # 2 minutes of call in well under one
    assert report.samples[-1].call_s == pytest.approx(report.duration_s)
    assert report.samples[0].call_s == pytest.approx(4 * report.samples[0].t_s)
    assert report.segments > 10 and report.latency_ok is None
