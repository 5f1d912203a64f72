"""The hostile-photo benchmark runs each photo through the checkout's own decoding in a fresh process."""

from benchmarks import hostile_images
from benchmarks.fixtures import REPO_ROOT


def test_thin_photos_are_measured_as_refused_and_skipped_ones_are_said(tmp_path):
    names = list(hostile_images.photos())
    thin = "1-bit PNG 8 × 1,000,000"
    report = hostile_images.measure(REPO_ROOT, tmp_path, skip=set(names) - {thin})
    rows = {row["photo"]: row for row in report.rows}
    assert rows[thin]["outcome"].startswith("refused: The image is 8×1000000 px")
    assert all(rows[name]["outcome"] == "not run (--skip)" for name in names if name != thin)
