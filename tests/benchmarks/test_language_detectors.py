"""The detector comparison runs on the project's own detector (the other candidates are optional installs)."""

import pytest

from benchmarks import language_detectors


def test_compares_the_installed_detector_at_every_threshold(tmp_path, capsys):
    assert language_detectors.main(["--only", "py3langid", "--names", str(tmp_path / "no-names.json")]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| py3langid |")]
    assert [row.split(" | ")[1] for row in rows] == [str(threshold) for threshold in language_detectors.THRESHOLDS]
    for row in rows:
        translated, right, english, names = (int(cell) for cell in row.split(" | ")[2:6])
        assert 0 < right <= translated <= 170 and 0 <= english <= 30 and names == 0


def test_an_unknown_detector_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exited:
        language_detectors.main(["--only", "py3langid,cld9"])
    assert exited.value.code == 2 and "unknown detector(s) cld9" in capsys.readouterr().err
