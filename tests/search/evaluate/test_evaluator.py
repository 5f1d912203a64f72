"""The evaluation CLI on the tiny bundle: protocols, metrics recomputed by brute force, determinism, options."""

import json

import numpy as np
import pytest

import index_build
from search import evaluate
from search.catalog.images import decode_image
from search.catalog.schema import product_text
from search.encoding.vectors import normalise
from search.engine import SearchEngine
from search.evaluate import EvalConfig, Evaluator, Report
from search.evaluate.metrics import DEPTH, mean_metrics, query_metrics
from search.evaluate.protocols import build_protocols, protocol_names
from search.ranking.hybrid import CANDIDATES
from tests.helpers import build_args

FAST = {"semantic_weights": (0.0, 0.5, 1.0), "image_weights": (0.0, 0.5, 1.0), "latency_queries": 0}


@pytest.fixture(scope="module")
def report(engine):
    config = EvalConfig(index="-", protocol="text,articleType,image-articleType", queries=40, **FAST)
    return evaluate.evaluate(engine, config)


def result(report, protocol, method, doc="image", semantic_weight=None, fusion=None):
    matches = [
        r
        for r in report.results
        if r["protocol"] == protocol
        and r["method"] == method
        and r["doc"] in (doc, "-")
        and (semantic_weight is None or r["semantic_weight"] == semantic_weight)
        and (fusion is None or r["fusion"] == fusion)
    ]
    assert len(matches) == 1, matches
    return matches[0]["metrics"]


def assert_same_metrics(actual, expected):
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, abs=1e-9), name


def brute_force(ranked_scores, relevant_sets, exclude=None):
    """Metrics from full score vectors: every row scored, sorted, the query's own product removed."""
    per_query = []
    for number, (scores, relevant) in enumerate(zip(ranked_scores, relevant_sets, strict=True)):
        order = np.lexsort((np.arange(len(scores)), -scores))
        if exclude is not None:
            order = order[order != exclude[number]]
        order = order[np.isfinite(scores[order])][:DEPTH]
        per_query.append(query_metrics(order.tolist(), relevant, scores[order].tolist()))
    return mean_metrics(per_query)


def test_text_protocol_relevance_is_every_product_with_that_name(engine):
    (protocol,) = build_protocols(engine.products.frame, ["text"], 40, 0)
    names = engine.products.frame.productDisplayName
    assert len(protocol.queries) == 40 and len({q.text for q in protocol.queries}) == 40
    for query in protocol.queries:
        assert query.relevant == frozenset(np.flatnonzero(names == query.text).tolist())


def test_dense_keyword_and_hybrid_metrics_match_brute_force(engine, report):
    (protocol,) = build_protocols(engine.products.frame, ["text"], 40, 0)
    texts = [q.text for q in protocol.queries]
    relevant = [q.relevant for q in protocol.queries]
    stored = engine.index.vectors(np.arange(len(engine.products)))
    dense = stored @ engine.encoder.encode_text(texts).T
    assert_same_metrics(result(report, "text", "dense"), brute_force(list(dense.T), relevant))
    keyword = [np.where(s > 0, s, -np.inf) for s in (engine.keyword.scores(t).astype(np.float64) for t in texts)]
    assert_same_metrics(result(report, "text", "keyword"), brute_force(keyword, relevant))
    hybrid = []
    for column, text in zip(dense.T, texts, strict=True):
        by_dense = np.argsort(-column, kind="stable")[: CANDIDATES + 1]
        lexical = engine.keyword.scores(text).astype(np.float64)
        by_keyword = np.flatnonzero(lexical > 0)
        by_keyword = by_keyword[np.argsort(-lexical[by_keyword], kind="stable")][: CANDIDATES + 1]
        rows = np.union1d(by_dense, by_keyword)
        semantic = (column[rows] - column[rows].min()) / (column[rows].max() - column[rows].min())
        lex = lexical[rows] / lexical[rows].max() if lexical[rows].max() > 0 else lexical[rows]
        fused = np.full(len(column), -np.inf)
        fused[rows] = 0.5 * semantic + 0.5 * lex
        hybrid.append(fused)
    assert_same_metrics(
        result(report, "text", "hybrid", semantic_weight=0.5, fusion="minmax"), brute_force(hybrid, relevant)
    )


def test_label_and_image_protocols_match_brute_force(engine, report):
    frame = engine.products.frame
    stored = engine.index.vectors(np.arange(len(engine.products)))
    (labels,) = build_protocols(frame, ["articleType"], 40, 0)
    assert sorted(q.text for q in labels.queries) == sorted(set(frame.articleType))
    dense = stored @ engine.encoder.encode_text([q.text for q in labels.queries]).T
    assert_same_metrics(
        result(report, "articleType", "dense"), brute_force(list(dense.T), [q.relevant for q in labels.queries])
    )
    (images,) = build_protocols(frame, ["image-articleType"], 40, 0)
    rows = [q.image_row for q in images.queries]
    for query in images.queries:
        same = set(np.flatnonzero(frame.articleType == frame.articleType[query.image_row]).tolist())
        assert query.relevant == frozenset(same - {query.image_row})
    photos = [decode_image(engine.products.image_bytes(row)) for row in rows]
    dense = stored @ engine.encoder.encode_images(photos).T
    expected = brute_force(list(dense.T), [q.relevant for q in images.queries], exclude=rows)
    assert_same_metrics(result(report, "image-articleType", "dense"), expected)


def test_the_derived_mixed_documents_equal_a_bundle_built_with_them(engine, catalog_dir, tiny_model, tmp_path):
    out = tmp_path / "mixed"
    assert index_build.main(build_args(catalog_dir, tiny_model, out, "--limit", "48", "--doc-image-weight", "0.9")) == 0
    built = SearchEngine.load(out).index.vectors(np.arange(48))
    documents = Evaluator(engine, EvalConfig(index="-", doc_image_weights=(1.0, 0.9)), Report({}, {}, {})).documents()
    assert [d.label for d in documents] == ["image", "0.9·image+0.1·text"]
    np.testing.assert_allclose(documents[1].vectors[:48], built, atol=1e-5)
    texts = [product_text(r) for r in engine.products.frame.iloc[:3].to_dict("records")]
    expected = normalise(0.9 * documents[0].vectors[:3] + 0.1 * engine.encoder.encode_text(texts))
    np.testing.assert_allclose(documents[1].vectors[:3], expected, atol=1e-6)


def test_cli_writes_a_deterministic_report_and_prints_a_table(bundle_dir, tmp_path, capsys):
    args = ["--index", str(bundle_dir), "--protocol", "colour,composed", "--queries", "12", "--limit", "150"]
    args += ["--semantic-weights", "0,0.5,1", "--image-weights", "0.5,1", "--latency-queries", "2"]
    assert evaluate.main([*args, "--out", str(tmp_path / "a.json")]) == 0
    printed = capsys.readouterr().out
    assert "composed-baseColour" in printed and "nDCG@10 of every method" in printed and "p95" in printed
    assert evaluate.main([*args, "--out", str(tmp_path / "b.json"), "--latency-queries", "0"]) == 0
    first, second = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert first["results"] == second["results"] and first["protocols"] == second["protocols"]
    assert {r["protocol"] for r in first["results"]} == {"baseColour", "composed-baseColour", "composed-articleType"}
    assert {row["call"] for row in first["latency_ms"]} >= {"text dense", "text keyword", "composed"}
    assert first["recommended"]["criterion"] == "mean nDCG@10 over protocols"
    assert first["protocols"]["composed-articleType"]["queries"] > 0
    assert first["machine"]["cpu_count"] >= 1 and first["bundle"]["keyword"]["library"] == "bm25s"


def test_limit_restricts_the_catalog(engine):
    config = EvalConfig(index="-", protocol="text", queries=20, limit=60, doc_image_weights=(1.0,), **FAST)
    evaluator = Evaluator(engine, config, Report({}, {}, {}))
    (protocol,) = build_protocols(evaluator.frame, ["text"], 20, 0)
    assert all(max(q.relevant) < 60 for q in protocol.queries)
    texts = [q.text for q in protocol.queries]
    for ranking in evaluator.dense(evaluator.documents()[0], engine.encoder.encode_text(texts), [None] * 20):
        assert ranking.rows.max() < 60 and len(ranking.rows) == DEPTH
    for ranking in evaluator.keyword(texts, [None] * 20):
        assert ranking.rows.max() < 60


def test_bad_options_are_explained(bundle_dir, caplog):
    assert evaluate.main(["--index", str(bundle_dir), "--protocol", "colours"]) == 1
    assert "Unknown protocol 'colours'" in caplog.text
    with pytest.raises(SystemExit):
        evaluate.main(["--index", str(bundle_dir), "--semantic-weights", "0.5,2"])
    assert protocol_names("season-usage,text") == ["text", "season", "usage"]
