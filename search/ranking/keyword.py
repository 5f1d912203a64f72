"""Keyword (BM25) index over each product's text, name plus attributes, stored in the bundle next to FAISS.

bm25s keeps BM25 as a sparse matrix of precomputed per-term scores, so scoring a query against the whole
catalog is a handful of numpy additions (about a millisecond for 44k products), saves to plain .npy/.json
files and needs no server; exact scores for every row are what makes filtered keyword search exact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from search.catalog.schema import LABEL_COLUMNS, NAME_COLUMN, clean_label
from search.errors import BundleError
from search.ranking.analysis import ANALYZER, FIELD_SEPARATOR, TOKEN_PATTERN, Analyzer, compounds

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import ("Building index from IDs" in every build log): let it follow the
# application's level instead, so its DEBUG lines show only when DEBUG is asked for (--verbose).
logging.getLogger("bm25s").setLevel(logging.NOTSET)

KEYWORD_DIR = "keyword"
# The product's name first, then the labels a shopper types ("Men", "Tshirts", "Navy Blue", "Summer", "Casual").
KEYWORD_FIELDS = (NAME_COLUMN, *LABEL_COLUMNS)
# What the settings may name (a manifest naming anything else is refused: search.bundle.manifest.KeywordInfo).
STEMMERS = tuple(Stemmer.algorithms())
STOPWORD_LISTS = (
    *("en", "english", "en_plus", "english_plus", "de", "german", "nl", "dutch", "fr", "french", "es", "spanish"),
    *("pt", "portuguese", "it", "italian", "ru", "russian", "sv", "swedish", "no", "norwegian", "zh", "chinese"),
    *("tr", "turkish", "ko", "korean", "da", "danish"),
)
METHODS = ("robertson", "lucene", "atire", "bm25l", "bm25+")
DEFAULT_SETTINGS: dict[str, Any] = {
    "library": "bm25s",
    "fields": list(KEYWORD_FIELDS),
    "method": "lucene",
    "k1": 1.5,
    "b": 0.75,
    "lower": True,
    "token_pattern": TOKEN_PATTERN,
    "analyzer": ANALYZER,
    "stopwords": "en",
    "stemmer": "english",
}


def keyword_text(record: Mapping[str, object], fields: Sequence[str] = KEYWORD_FIELDS) -> str:
    """The text a product is found by: its name and labels, missing ones skipped, fields kept apart so that the
    analysis joins no words across two of them."""
    return FIELD_SEPARATOR.join(value for value in (clean_label(record.get(name)) for name in fields) if value)


class KeywordIndex:
    """BM25 scores of a query for every product row (row i = vector i of the FAISS index)."""

    def __init__(self, bm25: bm25s.BM25, settings: Mapping[str, Any]) -> None:
        self.bm25 = bm25
        self.settings = dict(settings)
        self._stemmer = Stemmer.Stemmer(self.settings["stemmer"]) if self.settings.get("stemmer") else None
        # Queries know the compounds the index holds; a bundle built before the analysis existed records none
        # (the manifest admits only the analyzer this version has, search.bundle.manifest.KeywordInfo).
        self._analyzer = Analyzer(self.stem, self.indexed) if self.settings.get("analyzer") else None
        # A query's tokens as bm25s.tokenize makes them (lower case, the token pattern, stop words dropped, stems),
        # without its per-call progress bars and vocabulary: a query is tokenized on every search.
        self._split = re.compile(self.settings["token_pattern"]).findall
        self._stopwords = frozenset(bm25s.tokenization.Tokenizer(stopwords=self.settings["stopwords"]).stopwords)

    @classmethod
    def build(cls, texts: Sequence[str], settings: Mapping[str, Any] | None = None) -> KeywordIndex:
        """Index one text per product; the vocabulary is sorted so the same catalog gives the same files."""
        settings = {**DEFAULT_SETTINGS, **(settings or {})}
        bm25 = bm25s.BM25(k1=settings["k1"], b=settings["b"], method=settings["method"])
        index = cls(bm25, settings)
        if settings.get("analyzer"):
            analyzer = Analyzer(index.stem, compounds(texts, index.stem).__contains__)
            texts = [analyzer.document(text) for text in texts]
        tokens = index.tokenize(list(texts))
        vocab = {token: number for number, token in enumerate(sorted({t for doc in tokens for t in doc}))}
        bm25.index(([[vocab[t] for t in doc] for doc in tokens], vocab), show_progress=False)
        index.settings["num_docs"] = len(tokens)
        index.settings["vocabulary_size"] = len(vocab)
        return index

    @classmethod
    def load(cls, folder: Path, settings: Mapping[str, Any], mmap: bool = False) -> KeywordIndex:
        """Read an index written by `save` into the bundle folder `folder`, with the settings its manifest section
        (`describe`) recorded; `mmap` maps its arrays instead of reading them (to check a written index without a
        second copy in memory)."""
        path = Path(folder) / settings["folder"]
        try:
            bm25 = bm25s.BM25.load(str(path), mmap=mmap)
        except (OSError, ValueError) as error:
            raise BundleError(f"The keyword index in {path.name}/ cannot be read: {error}") from error
        return cls(bm25, settings)

    def save(self, folder: Path) -> None:
        """Write the index into its own folder (KEYWORD_DIR) of the bundle folder `folder`."""
        self.bm25.save(str(Path(folder) / KEYWORD_DIR), show_progress=False)

    def describe(self) -> dict[str, Any]:
        """What the manifest records about this index: where it lives, how text was tokenized and scored."""
        return {**self.settings, "folder": KEYWORD_DIR, "library_version": bm25s.__version__}

    def __len__(self) -> int:
        return int(self.bm25.scores["num_docs"])

    def indexed(self, token: str) -> bool:
        """Whether a (stemmed) token occurs in some product."""
        return token in self.bm25.vocab_dict

    def stem(self, word: str) -> str:
        """The word as the index stores it (Snowball stem, or itself without a stemmer)."""
        return self._stemmer.stemWord(word) if self._stemmer else word

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """Lower-cased words (texts already analysed), English stop words dropped, Snowball-stemmed."""
        return bm25s.tokenize(
            texts,
            lower=self.settings["lower"],
            token_pattern=self.settings["token_pattern"],
            stopwords=self.settings["stopwords"],
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )

    def only_stop_words(self, text: str) -> bool:
        """Whether the text has words and every one is a stop word ("the", "for", "with"): it says nothing about a
        product, so no ranking can be specific to it."""
        return bool(re.search(self.settings["token_pattern"], self.analyse(text))) and not self.query_tokens(text)

    def analyse(self, text: str) -> str:
        """A query as the index reads it before tokenizing: known compounds joined, unknown ones split."""
        return self._analyzer.query(text) if self._analyzer is not None else text

    def query_tokens(self, text: str) -> list[str]:
        """The query's tokens (analysed, stop words dropped, stemmed), known to the index or not: what `tokenize`
        gives for the analysed text."""
        text = self.analyse(text)
        words = self._split(text.lower() if self.settings["lower"] else text)
        return [self.stem(word) for word in words if word not in self._stopwords]

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every row for the query (0 where no query word occurs)."""
        known = [token for token in self.query_tokens(text) if token in self.bm25.vocab_dict]
        if not known:
            return np.zeros(len(self), dtype=np.float32)
        return self.bm25.get_scores(known)

    def rows_with(self, token: str) -> np.ndarray:
        """The rows whose text holds a (stemmed) token, in increasing order; none for an unknown token."""
        number = self.bm25.vocab_dict.get(token)
        if number is None:
            return np.empty(0, dtype=np.int64)
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[number] : indptr[number + 1]], dtype=np.int64)

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k (scores, rows) among the allowed rows that contain a query word, best first;
        equal scores keep row order so results are deterministic."""
        return top_rows(self.scores(text), k, allowed)


def build_keyword_index(table: Any) -> KeywordIndex:
    """The keyword index of a catalog (a `datasets.Dataset` in the dataset's schema), row i = product i."""
    return KeywordIndex.build([keyword_text(row) for row in table.select_columns(list(KEYWORD_FIELDS)).to_list()])


def top_rows(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k best positive-scoring allowed rows, best first, ties in row order."""
    keep = scores > 0
    if allowed is not None:
        keep &= allowed
    rows = np.flatnonzero(keep)
    if len(rows) > k:
        threshold = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
        rows = rows[scores[rows] >= threshold]
    order = np.lexsort((rows, -scores[rows]))[:k]
    return scores[rows[order]], rows[order]
