"""Multi-field contrastive loss: one CLIP InfoNCE term per text field, weighted (Marqo's GCL, multi-field).

Texts are deduplicated within a batch, so a label shared by several products is one text with several
positive photos: photo → text is a softmax over the batch's distinct texts with one right answer, text → photo
a softmax over the photos whose target spreads evenly over every photo carrying that text. Plain one-to-one
InfoNCE would instead push apart two "Tshirts" photos as if one of them were wrong. With distinct texts this is
exactly CLIP's loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch.nn.functional import cross_entropy, log_softmax, one_hot

# CLIP clamps its learnt temperature so logits stay at most 100× the cosine (Radford et al., 2021).
MAX_LOGIT_SCALE = 100.0


@dataclass
class FieldTerm:
    """One field's distinct texts (embedded), each photo's text position (-1: none) and the term's weight."""

    text: torch.Tensor
    index: torch.Tensor
    weight: float


def info_nce(image: torch.Tensor, text: torch.Tensor, index: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE of L2-normalised photos (B×D) against distinct L2-normalised texts (U×D);
    photo i's text is `text[index[i]]`, photos with index -1 take no part."""
    keep = index >= 0
    image, index = image[keep], index[keep]
    if len(image) < 2 or len(text) < 2:
        return image.sum() * 0.0 + text.sum() * 0.0  # nothing to contrast; keeps the graph for backward
    logits = logit_scale * image @ text.T
    photo_to_text = cross_entropy(logits, index)
    targets = one_hot(index, num_classes=len(text)).T.float()
    targets = targets / targets.sum(dim=1, keepdim=True)
    # KL divergence from the even spread: CLIP's cross-entropy when every text is distinct, 0 when perfect.
    text_to_photo = (torch.xlogy(targets, targets) - targets * log_softmax(logits.T, dim=1)).sum(dim=1).mean()
    return (photo_to_text + text_to_photo) / 2


def multi_field_loss(image: torch.Tensor, terms: Sequence[FieldTerm], logit_scale: torch.Tensor) -> torch.Tensor:
    """The weighted mean of the fields' InfoNCE terms (weights of fields absent from the batch drop out)."""
    present = [term for term in terms if int((term.index >= 0).sum()) >= 2 and len(term.text) >= 2]
    if not present:
        return image.sum() * 0.0
    total = sum(term.weight for term in present)
    terms_sum = sum(
        (term.weight * info_nce(image, term.text, term.index, logit_scale) for term in present), image.new_zeros(())
    )
    return terms_sum / total
