"""The catalog's own vocabulary, built with the index and stored in the bundle: what the query reader knows.

- words: every word of the products' names and labels with the number of products using it (spelling correction
  is weighted by it, and never touches a word listed here);
- labels: each label field's values with their product counts (what a query can name: "Men", "Red", "Tshirts");
- brands: the brand of each product, read from its name (search.understanding.brands), and the brand list;
- synonyms: the shopper words of search.understanding.synonyms whose labels this catalog has.

The part describes itself (`describe` → the manifest's `components.vocabulary`), saves and loads itself; what it
reads back is validated, so a damaged or hand-edited file is a BundleError naming what is wrong.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from search.catalog.schema import LABEL_COLUMNS, NAME_COLUMN, clean_label
from search.errors import BundleError
from search.ranking.analysis import phrases
from search.understanding.brands import read_brands
from search.understanding.synonyms import SYNONYMS

VOCABULARY_DIR: Final = "vocabulary"
VOCABULARY_FILE = "vocabulary.json"
BRANDS_FILE = "brands.npy"
FORMAT: Final = "catalog-vocabulary-v1"
NO_BRAND = -1

Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
LabelField = Literal["gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage"]


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class VocabularyInfo:
    """The manifest's description of the vocabulary: its folder, format and sizes (checked against the files)."""

    folder: Literal["vocabulary"]
    format: Literal["catalog-vocabulary-v1"]
    num_rows: Positive
    words: Count
    brands: Count
    synonyms: Count


@dataclass(config=ConfigDict(extra="forbid", frozen=True))
class _Contents:
    """The vocabulary file's schema."""

    words: dict[Annotated[str, Field(min_length=1)], Positive]
    labels: dict[LabelField, dict[Annotated[str, Field(min_length=1)], Positive]]
    brands: list[Annotated[str, Field(min_length=1)]]
    synonyms: dict[Annotated[str, Field(min_length=1)], list[tuple[LabelField, Annotated[str, Field(min_length=1)]]]]


_CONTENTS = TypeAdapter(_Contents)


class Vocabulary:
    """Words, labels, brands and synonyms of one catalog; row i's brand is `brands[brand_codes[i]]`."""

    def __init__(
        self,
        words: Mapping[str, int],
        labels: Mapping[str, Mapping[str, int]],
        brands: list[str],
        brand_codes: np.ndarray,
        synonyms: Mapping[str, tuple[tuple[str, str], ...]],
    ) -> None:
        self.words = dict(words)
        self.labels = {field: dict(values) for field, values in labels.items()}
        self.brands = list(brands)
        self.brand_codes = brand_codes
        self.synonyms = dict(synonyms)

    @classmethod
    def build(cls, records: Iterable[Mapping[str, Any]]) -> Vocabulary:
        """The vocabulary of a catalog's products (records with the name and label columns), in row order."""
        words: Counter[str] = Counter()
        labels: dict[str, Counter[str]] = {field: Counter() for field in LABEL_COLUMNS}
        names = []
        for record in records:
            names.append(clean_label(record.get(NAME_COLUMN)))
            texts = [names[-1]]
            for field in LABEL_COLUMNS:
                label = clean_label(record.get(field))
                if label:
                    labels[field][label] += 1
                    texts.append(label)
            words.update({word for text in texts for word in text_words(text)})
        label_words = {word for values in labels.values() for value in values for word in text_words(value)}
        read = read_brands(names, label_words)
        brands = sorted({brand for brand in read if brand}, key=str.lower)
        code_of = {brand: code for code, brand in enumerate(brands)}
        codes = np.array([code_of.get(brand, NO_BRAND) for brand in read], dtype=np.int32)
        present = {(field, value) for field, values in labels.items() for value in values}
        synonyms = {
            word: kept
            for word, targets in sorted(SYNONYMS.items())
            if (kept := tuple(target for target in targets if target in present))
        }
        return cls(dict(sorted(words.items())), labels, brands, codes, synonyms)

    def __len__(self) -> int:
        return len(self.brand_codes)

    def brand_labels(self) -> list[str]:
        """Each product's brand, "" where its name has none (the products' "brand" column for filters)."""
        table = np.array([*self.brands, ""], dtype=object)
        return table[self.brand_codes].tolist()

    def describe(self) -> VocabularyInfo:
        """The manifest's `components.vocabulary` for this vocabulary."""
        return VocabularyInfo(
            folder=VOCABULARY_DIR,
            format=FORMAT,
            num_rows=len(self),
            words=len(self.words),
            brands=len(self.brands),
            synonyms=len(self.synonyms),
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        contents = {
            "words": self.words,
            "labels": {field: dict(sorted(values.items())) for field, values in self.labels.items()},
            "brands": self.brands,
            "synonyms": {word: [list(target) for target in targets] for word, targets in self.synonyms.items()},
        }
        (folder / VOCABULARY_FILE).write_text(json.dumps(contents, ensure_ascii=False, indent=0), encoding="utf-8")
        np.save(folder / BRANDS_FILE, self.brand_codes, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, info: VocabularyInfo) -> Vocabulary:
        """Read a vocabulary written by `save`, checked against its manifest section."""
        try:
            contents = _CONTENTS.validate_json((folder / VOCABULARY_FILE).read_bytes(), strict=True)
            codes = np.load(folder / BRANDS_FILE, allow_pickle=False)
        except ValidationError as error:
            raise BundleError(f"The bundle's {info.folder}/{VOCABULARY_FILE} is invalid: {error}") from error
        except (OSError, ValueError) as error:
            raise BundleError(f"The bundle's vocabulary in {info.folder}/ cannot be read: {error}") from error
        sizes = {"words": len(contents.words), "brands": len(contents.brands), "synonyms": len(contents.synonyms)}
        wrong = {name: size for name, size in sizes.items() if size != getattr(info, name)}
        if wrong:
            listed = ", ".join(
                f"{size} {name} (the manifest says {getattr(info, name)})" for name, size in wrong.items()
            )
            raise BundleError(f"The bundle's vocabulary disagrees with its manifest: it holds {listed}.")
        if codes.dtype != np.int32 or codes.ndim != 1 or len(codes) != info.num_rows:
            raise BundleError(
                f"The bundle's {info.folder}/{BRANDS_FILE} must hold {info.num_rows} int32 brand codes, one per "
                f"product; it holds {codes.shape} {codes.dtype} values."
            )
        if len(codes) and (codes.min() < NO_BRAND or codes.max() >= len(contents.brands)):
            raise BundleError(f"The bundle's {info.folder}/{BRANDS_FILE} names brands outside its brand list.")
        labels: dict[str, dict[str, int]] = {field: values for field, values in contents.labels.items()}
        synonyms = {
            word: tuple((field, value) for field, value in targets) for word, targets in contents.synonyms.items()
        }
        return cls(contents.words, labels, contents.brands, codes, synonyms)


def text_words(text: str) -> list[str]:
    """A text's lower-case words as the keyword analysis reads them, plus each hyphenated pair joined ("t-shirt"
    → "t", "shirt", "tshirt")."""
    found = []
    for words in phrases(text):
        found += [word for word, _ in words]
        found += [first + second for (first, _), (second, tied) in itertools.pairwise(words) if tied]
    return found


def build_vocabulary(table: Any) -> Vocabulary:
    """The vocabulary of a catalog (a `datasets.Dataset` in the dataset's schema), row i = product i."""
    return Vocabulary.build(table.select_columns([NAME_COLUMN, *LABEL_COLUMNS]).to_list())
