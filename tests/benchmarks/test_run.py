"""The benchmark suite's smoke run (--quick) produces every table and JSON file; timings are never asserted."""

import json

import numpy as np
import pytest

from benchmarks import run
from benchmarks.common import Report, percentiles
from benchmarks.fixtures import clustered_vectors, query_vectors, text_queries

EXPECTED = {
    "query_latency",
    "query_latency_int8",
    "query_stages",
    "understanding_cost",
    "language_cost",
    "encoder_precision",
    "build_stages",
    "build_pipeline",
    "cold_start",
    "ann",
    "index_44k",
    "runtime_queries",
    "runtime_threads",
    "incremental_400",
    "incremental_1200",
    "build_memory_1200",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench")
    assert run.main(["--quick", "--out", str(out), "--photos", str(out / "no-photos-here")]) == 0
    document = json.loads((out / "results.json").read_text())
    for name in document["benchmarks"]:
        assert json.loads((out / f"{name}.json").read_text())["name"] == name
    return document


def test_quick_run_writes_every_benchmark_with_machine_info(results):
    assert results["quick"] is True
    assert set(results["benchmarks"]) == EXPECTED
    assert {"cpu", "logical_cores", "load_average_1m", "torch_threads", "faiss"} <= set(results["machine"])
    for report in results["benchmarks"].values():
        assert report["rows"], report["name"]
        assert all(report["columns"][0] in row for row in report["rows"])
        assert report["seconds"] > 0


def test_query_latency_covers_every_query_kind_with_positive_percentiles(results):
    rows = {row["query"]: row for row in results["benchmarks"]["query_latency"]["rows"]}
    assert {"text", "text, repeated (cache)", "image + text", "more like this"} <= set(rows)
    assert any(name.startswith("image (224×224") for name in rows)
    for row in rows.values():
        assert 0 < row["p50_ms"] <= row["p95_ms"]
    assert "generated" in results["benchmarks"]["query_latency"]["settings"]["photos"]


def test_understanding_cost_times_the_reader_on_and_off(results):
    report = results["benchmarks"]["understanding_cost"]
    rows = {row["query"] for row in report["rows"]}
    assert {"keyword only, reader off", "keyword only, reader on", "read alone"} <= rows
    assert "the reader's steps alone, a whole product name" in rows
    assert "the reader's steps alone, 40 words" in rows
    assert "the reader adds" in report["notes"][0]


def test_precision_compares_lower_precisions_with_float32(results):
    rows = {row["dtype"]: row for row in results["benchmarks"]["encoder_precision"]["rows"]}
    assert rows["float32"]["text_top10_overlap"] == 1.0
    assert 0.0 <= rows["int8"]["text_top10_overlap"] <= 1.0
    assert 0.9 < rows["int8"]["min_cosine"] <= 1.0


def test_build_reports_every_stage_and_the_whole_pipeline(results):
    stages = [row["stage"] for row in results["benchmarks"]["build_stages"]["rows"]]
    for word in ("decode", "preprocess", "catalog rows", "image encode", "text encode", "index build"):
        assert any(word in stage for stage in stages), word
    pipeline = results["benchmarks"]["build_pipeline"]
    cpu = [(row["dtype"], row["runtime"], row["names"]) for row in pipeline["rows"] if row["device"] == "cpu"]
    assert cpu == [("float32", "torch", "encoded"), ("float32", "onnx", "skipped"), ("int8", "torch", "skipped")]
    assert all(row["images_per_s"] > 0 for row in pipeline["rows"])
    assert any("CUDA" in note for note in pipeline["notes"])


def test_language_cost_times_english_and_translated_queries(results):
    report = results["benchmarks"]["language_cost"]
    rows = {row["query"]: row for row in report["rows"]}
    assert {"English, step off", "English, step on", "non-English, translated greedily"} <= set(rows)
    assert any("cached" in name for name in rows) and any("4 beams" in name for name in rows)
    assert all(0 < row["p50_ms"] <= row["p95_ms"] for row in rows.values())
    assert "marian-tiny" in report["settings"]["translator"]


def test_runtime_compares_the_engine_with_pytorch_eager_per_query_kind(results):
    queries = results["benchmarks"]["runtime_queries"]
    assert queries["settings"]["runtime"] == "onnx"
    assert [row["query"] for row in queries["rows"]] == ["text", "image", "image + text"]
    for row in queries["rows"]:
        assert row["eager_encode_p50_ms"] > 0 and row["engine_p50_ms"] > 0
        assert row["ratio"] == pytest.approx(row["engine_p50_ms"] / row["eager_encode_p50_ms"], rel=1e-2)
    settings = {
        (row["runtime"], row["threads"], row["spinning"]) for row in results["benchmarks"]["runtime_threads"]["rows"]
    }
    assert settings == {
        ("onnx", 1, "no"),
        ("onnx", 1, "yes"),
        ("onnx", 2, "no"),
        ("onnx", 2, "yes"),
        ("torch", 1, "no"),
        ("torch", 2, "no"),
    }


def test_the_44k_index_table_has_the_exact_reference_and_the_cheaper_codecs(results):
    rows = {row["index"]: row for row in results["benchmarks"]["index_44k"]["rows"]}
    assert rows["flat fp32 (exact)"]["recall_at_10"] == 1.0
    assert {"flat fp16", "flat SQ8"} <= set(rows) and any(name.startswith("hnsw") for name in rows)
    assert all(0.0 < row["recall_at_10"] <= 1.0 and row["p50_ms"] > 0 for row in rows.values())


def test_the_incremental_rerun_encodes_only_new_photos_and_new_products(results):
    report = results["benchmarks"]["incremental_400"]
    first, rerun = report["rows"]
    changes = report["settings"]["changes"]
    assert (first["encoded"], first["reused"]) == (400, 0)
    assert rerun["encoded"] == changes["photo"] + changes["added"]
    assert rerun["reused"] == 400 - changes["removed"] - changes["photo"]
    assert report["settings"]["full_cpu_build_estimate_s"] > 0 and rerun["total_s"] > 0
    assert results["benchmarks"]["incremental_1200"]["rows"][1]["after_encoding_s"] > 0


def test_the_build_memory_is_measured_per_stage_in_a_fresh_process(results):
    report = results["benchmarks"]["build_memory_1200"]
    stages = {row["stage"]: row for row in report["rows"]}
    assert set(stages) == {"load", "catalog", "previous", "model", "encode", "index", "keyword", "bundle"}
    assert all(row["peak_anon_mb"] > 50 and row["peak_rss_mb"] >= row["peak_anon_mb"] for row in stages.values())
    assert report["settings"]["vm_hwm_mb"] >= max(row["peak_rss_mb"] for row in stages.values())


def test_cold_start_measures_a_fresh_process(results):
    rows = results["benchmarks"]["cold_start"]["rows"]
    assert rows[0]["what"].startswith("library")
    assert all(row["first_answer_s"] > 0 and row["peak_rss_mb"] > 50 for row in rows)


def test_ann_has_exact_reference_a_sweep_per_approximate_index_and_exact_narrow_filters(results):
    rows = results["benchmarks"]["ann"]["rows"]
    flat = [row for row in rows if row["index"] == "flat"]
    assert len(flat) == 3 and all(row["recall_at_10"] == 1.0 for row in flat)
    for index_type in ("hnsw", "ivfsq8", "ivfpq"):
        mine = [row for row in rows if row["index"] == index_type]
        unfiltered = [row["recall_at_10"] for row in mine if row["filter"] == "none"]
        assert len(unfiltered) >= 2 and all(0.0 <= value <= 1.0 for value in unfiltered)
        assert unfiltered[-1] >= unfiltered[0]
        assert all(row["recall_at_10"] == 1.0 for row in mine if row["filter"].startswith("gender + article type"))


def test_clustered_vectors_are_unit_length_and_clustered():
    vectors = clustered_vectors(3000, 64, seed=1)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    nearest = np.sort(vectors @ vectors.T, axis=1)[:, -2]
    rng = np.random.default_rng(0)
    uniform = rng.standard_normal((3000, 64)).astype(np.float32)
    uniform /= np.linalg.norm(uniform, axis=1, keepdims=True)
    assert nearest.mean() > 0.6 > np.sort(uniform @ uniform.T, axis=1)[:, -2].mean()
    queries = query_vectors(50, 3000, 64, seed=1)
    assert not np.isin(queries, vectors).all(axis=1).any()
    assert np.max(queries @ vectors.T, axis=1).mean() > 0.6


def test_text_queries_are_distinct():
    queries = text_queries(300, seed=4)
    assert len(set(queries)) == 300


def test_percentiles_and_table():
    stats = percentiles([1.0, 2.0, 3.0, 4.0, 100.0])
    assert stats["p50_ms"] == 3.0 and stats["n"] == 5 and stats["p95_ms"] > 4.0
    report = Report("x", "Title", ["a", "b"])
    report.add(a="row", b=1234.5)
    assert report.table().splitlines()[-1] == "| row | 1,234 |"


def test_unknown_benchmark_name_is_refused(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "query,speed"])
    assert "unknown benchmark(s) speed" in capsys.readouterr().err
