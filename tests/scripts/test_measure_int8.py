"""scripts/measure_int8.py on the test bundle: both precisions evaluated on the same float32 bundle, R@10 per
protocol and the top-10 overlap written to its report."""

import json

from scripts.measure_int8 import main, top10_overlap
from search.encoding.encoder import Encoder
from search.engine import SearchEngine


def test_int8_is_judged_against_float32_on_the_same_bundle(bundle_dir, tmp_path, capsys):
    out = tmp_path / "int8.json"
    args = ["--bundle", str(bundle_dir), "--protocol", "text,image", "--queries", "8", "--overlap-queries", "6"]
    assert main([*args, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["dense_R@10"]) == {"float32", "int8"}
    assert set(report["dense_R@10"]["float32"]) == set(report["dense_R@10"]["int8"]) >= {"text"}
    overlap = report["top10_overlap"]
    assert 0 <= overlap["text"] <= 1 and 0 <= overlap["image"] <= 1 and overlap["text_queries"] == 6
    assert "top-10 overlap with float32" in capsys.readouterr().out


def test_with_the_shipped_model_int8_keeps_most_of_float32s_top_10(demo_engine):
    """On the demo with the trained model (docs/BENCHMARKS.md, "Encoder precision": 0.977 / 0.972 on held-out
    products), int8 keeps most of float32's top 10; a broken quantisation or a mismatched tower would not."""
    model = demo_engine.manifest.model
    int8 = SearchEngine.load(demo_engine.folder, encoder=Encoder.load(model.id, model.revision, "cpu", "int8"))
    products = [int(product) for product in demo_engine.products.ids[::12]]
    texts = [demo_engine.product(product)["productDisplayName"] for product in products]
    overlap = top10_overlap(demo_engine, int8, texts, products)
    assert overlap["text"] >= 0.9 and overlap["image"] >= 0.9, overlap
