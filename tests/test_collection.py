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


def test_without_the_optional_ray_extra_its_tests_are_skipped_with_the_reason():
    """requirements-scale.txt (Ray) is optional: an install without it collects and skips those tests, saying why."""
    script = (
        "import sys\n"
        "sys.modules['ray'] = None  # as if Ray were not installed: `import ray` raises ImportError\n"
        "import pytest\n"
        "sys.exit(pytest.main(['-q', '-rs', '-p', 'no:cacheprovider', 'tests/search/indexing/test_ray_runner.py',\n"
        "                      'tests/search/indexing/test_unreadable.py']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 skipped" in done.stdout and "optional extra: pip install -r requirements-scale.txt" in done.stdout
