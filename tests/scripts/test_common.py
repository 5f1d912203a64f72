"""scripts/common.py: a script run without the reference data says what is missing and where to give it, without
pointing to a file that is not part of the repository."""

from scripts.common import missing_reference_data


def test_missing_reference_data_is_named_with_the_way_to_give_it(tmp_path, capsys):
    present, absent = tmp_path, tmp_path / "kagl-ground-truth"
    assert missing_reference_data(present, absent)
    message = capsys.readouterr().err
    assert str(absent) in message and str(present) not in message.replace(str(absent), "")
    assert "--help" in message and "README" not in message


def test_present_reference_data_passes_quietly(tmp_path, capsys):
    assert not missing_reference_data(tmp_path)
    assert capsys.readouterr().err == ""
