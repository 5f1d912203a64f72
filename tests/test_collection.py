"""The suite's own settings collect every test file: pytest's default `norecursedirs` skips folders named "build",
which once left tests/search/indexing/ out of every run without a word."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_file_under_tests_is_collected():
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    collected = {line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}
    files = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py")}
    assert files - collected == set(), listed.stdout[-2000:] + listed.stderr[-2000:]
