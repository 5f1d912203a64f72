"""Zero-shot article type and colour of a photo, from the text embeddings of the catalog's own label names.

CLIP was trained to match photos with captions, so "a photo of a tshirts" embedded by the bundle's text encoder
is a classifier for that label with no training: the photo's cosine with each label prompt, times the model's
learned temperature (`logit_scale`), gives a softmax over the catalog's labels. A guess is offered as a filter
only when its probability is clearly ahead of the runner-up (`MIN_MARGIN`); a random-weight model, whose
cosines are all alike, never is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Fields predicted for a photo, with the caption each label is put in.
PROMPTS = {"articleType": "a photo of a {label}", "baseColour": "a photo of a {label} product"}
# Probability lead of the top label over the runner-up needed before the page offers it (docs/EVALUATION.md).
MIN_MARGIN = 0.2


@dataclass(frozen=True)
class LabelGuess:
    """The most likely label of one field, its probability, and its lead over the runner-up."""

    field: str
    label: str
    score: float
    margin: float
    confident: bool

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "score": self.score, "margin": self.margin, "confident": self.confident}


class LabelGuesser:
    """Label prompts embedded once per bundle; each photo's guess is a matrix product and a softmax."""

    def __init__(
        self, labels: Mapping[str, Sequence[str]], vectors: Mapping[str, np.ndarray], scale: float, margin: float
    ) -> None:
        self.labels = {field: list(names) for field, names in labels.items()}
        self.vectors = dict(vectors)
        self.scale = float(scale)
        self.margin = float(margin)

    @classmethod
    def build(
        cls,
        encode_text: Callable[[list[str]], np.ndarray],
        choices: Mapping[str, Sequence[str]],
        scale: float,
        margin: float = MIN_MARGIN,
    ) -> LabelGuesser:
        """Embed every label of the predicted fields present in the catalog (fields with under two labels are
        skipped: there is nothing to choose)."""
        labels = {field: list(choices.get(field, [])) for field in PROMPTS if len(choices.get(field, [])) > 1}
        vectors = {
            field: np.asarray(encode_text([PROMPTS[field].format(label=label.lower()) for label in names]))
            for field, names in labels.items()
        }
        return cls(labels, vectors, scale, margin)

    def guess(self, vector: np.ndarray) -> list[LabelGuess]:
        """The top label of each field for a normalised photo vector, confident or not."""
        guesses = []
        for field, names in self.labels.items():
            logits = self.scale * (self.vectors[field] @ np.asarray(vector, dtype=np.float32))
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            second, first = np.argsort(probabilities)[-2:]
            margin = float(probabilities[first] - probabilities[second])
            guesses.append(LabelGuess(field, names[first], float(probabilities[first]), margin, margin >= self.margin))
        return guesses
