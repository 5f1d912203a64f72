"""search/version.py is the one place the version is written: pyproject.toml reads it, bundles record it."""

import re
from pathlib import Path

from search import __version__

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_pyproject_reads_the_version_from_search_version():
    text = PYPROJECT.read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    assert not re.search(r"^version\s*=", project, re.MULTILINE)
    assert 'dynamic = ["version"]' in project
    assert 'version = { attr = "search.version.__version__" }' in text


def test_the_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
