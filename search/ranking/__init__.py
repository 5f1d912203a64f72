"""Ranking within the filters: the FAISS vector index, the BM25 keyword index and its text analysis, hybrid fusion,
filters compiled to row selectors, and the folding of near-identical results."""
