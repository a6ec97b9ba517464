"""SpeechModel's refusals and `make models` (download_model) without the network."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from connectors.speech import PRODUCTION_MODEL, SpeechModel, SpeechUnavailable, download_model


@pytest.mark.parametrize("path", ["", "   ", None])
def test_no_model_configured(path: str | None) -> None:
    with pytest.raises(SpeechUnavailable, match="JOBBOT_VOSK_MODEL_PATH"):
        SpeechModel.get(path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SpeechUnavailable, match="not found"):
        SpeechModel.get(tmp_path / "nowhere")


def test_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("not a model")
    with pytest.raises(SpeechUnavailable, match="does not look like a Vosk model"):
        SpeechModel.get(tmp_path)


def test_broken_model_files(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"garbage")
    with pytest.raises(SpeechUnavailable, match="could not load"):
        SpeechModel.get(tmp_path)


def _fake_archive(tmp_path: Path, member_root: str = PRODUCTION_MODEL) -> Path:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for sub in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "ivector/final.ie"):
            zf.writestr(f"{member_root}/{sub}", "x")
    return archive


def test_install_unpacks_into_models_dir(tmp_path: Path) -> None:
    archive = _fake_archive(tmp_path)
    target = download_model.install(tmp_path / "models", url=archive.as_uri())
    assert target == tmp_path / "models" / PRODUCTION_MODEL
    assert (target / "am" / "final.mdl").is_file()
    # A second run finds it and does not download again.
    assert download_model.install(tmp_path / "models", url="http://127.0.0.1:9/none.zip") == target


def test_install_refuses_wrong_archive(tmp_path: Path) -> None:
    archive = _fake_archive(tmp_path, member_root="something-else")
    with pytest.raises(ValueError, match="no vosk-model-small-cn-0.22/am"):
        download_model.install(tmp_path / "models", url=archive.as_uri())


def test_install_refuses_zip_slip(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
    with pytest.raises(ValueError, match="unsafe path"):
        download_model.install(tmp_path / "models", url=archive.as_uri())
    assert not (tmp_path / "escaped.txt").exists()


def test_offline_prints_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 (discard) is closed: the download fails at once, as it does without a network.
    rc = download_model.main(["--dir", str(tmp_path), "--url", "http://127.0.0.1:9/model.zip"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Could not download" in err
    assert "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip" in err
    assert f"JOBBOT_VOSK_MODEL_PATH={tmp_path.resolve() / PRODUCTION_MODEL}" in err
