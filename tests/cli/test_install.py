"""Installing like a desktop app: the built wheel in a fresh virtual environment is a
working ``calmline`` with the embedded models, without torch or transformers, within the
size a laptop user accepts (README, "Installing")."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from support import REPO

SIZE_LIMIT_MB = 1200


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


@pytest.mark.slow
def test_the_wheel_in_a_fresh_venv_is_a_working_calmline_without_torch(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True, timeout=600,
    )  # fmt: skip
    [wheel] = wheels.glob("calmline-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=1800)
    installed = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert not names & {"torch", "transformers", "sentence-transformers", "sympy", "pyside6"}
    size = folder_mb(env_dir)
    print(f"fresh venv: {size:.0f} MB")
    assert size <= SIZE_LIMIT_MB
    demo = REPO / "resources" / "demo" / "demo_call.flac"
    result = subprocess.run(
        [env_dir / "bin" / "calmline", "analyze", str(demo), "--json", "-"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["model"]["name"] == "tiny.en" and len(document["segments"]) > 10
    assert document["sentiment_model"] is not None  # Calmline's own ONNX model, no torch
