"""Evaluation of a bundle: KAGL-compatible protocols, retrieval metrics, the evaluator and its report.

python -m search.evaluate --index build/fashion-index --protocol all --out report.json
"""

from search.evaluate.cli import main, parse_args
from search.evaluate.evaluator import EvalConfig, Evaluator, evaluate
from search.evaluate.report import Report, recommend, results_table

__all__ = ["EvalConfig", "Evaluator", "Report", "evaluate", "main", "parse_args", "recommend", "results_table"]
