"""The window's calls are built like every other call (app.pipeline.call.CallSetup), from
the user's settings: before, the window ignored ``redact`` in settings.toml."""

from __future__ import annotations

from support.window import close_and_wait, open_window, private_store

from app.pipeline.call import CallSetup
from app.privacy.redact import RedactStage
from app.settings import Settings
from app.summary.stage import SummaryStage
from models.stt import Decoded
from ui.call_controller import Services


class SaysHello:
    def decode(self, audio, beam_size=5, prompt="", window_s=10.0):
        return Decoded("hello", avg_logprob=-0.2, no_speech_prob=0.01)


def test_the_window_takes_out_the_personal_data_its_settings_name(qtbot, settings, tmp_path):
    asked = []

    def load_models(options, progress):
        asked.append(options.redact)
        progress("Ready", 100)
        return CallSetup(SaysHello(), None, None, options.redact)

    services = Services(
        load_models=load_models, list_devices=list, open_store=private_store(tmp_path)
    )
    config = Settings(redact=("email",))
    window = open_window(qtbot, settings, tmp_path, services=services, config=config)
    qtbot.waitUntil(lambda: window.controller.models is not None, timeout=10_000)
    assert asked == [("email",)]
    stages = window.controller.models.stages().stages
    assert [type(s) for s in stages] == [RedactStage, SummaryStage]
    assert stages[0].kinds == frozenset({"email"})
    close_and_wait(qtbot, window)
