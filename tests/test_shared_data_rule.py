"""Tests that read ../shared/data skip where it is missing, but fail in CI (CI=true): conftest's rule."""
from __future__ import annotations

from pathlib import Path

import pytest

import conftest


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception),
                                         ("TRUE", pytest.fail.Exception), ("false", pytest.skip.Exception)])
def test_missing_data_skips_except_in_ci(ci: str, outcome: type, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "nowhere")
    monkeypatch.setenv("CI", ci)
    # a skip and a failure are both exceptions: catch whichever comes (a skip must not skip this test), then judge it
    with pytest.raises(BaseException) as raised:
        conftest.shared_data_dir()
    assert raised.type is outcome and "no shared data in" in str(raised.value)


def test_present_data_is_returned(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "ml-latest-small").mkdir()
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert conftest.shared_data_dir() == tmp_path
