"""Multi-field InfoNCE: CLIP's own loss on distinct texts, shared labels as multi-positives, weighting."""

import pytest
import torch
from torch.nn.functional import normalize
from transformers import CLIPModel, CLIPProcessor

from search.fixtures.synthetic import generate_rows, product_photo
from search.training.loss import FieldTerm, info_nce, multi_field_loss


def unit(rows: int, dim: int = 8, seed: int = 0) -> torch.Tensor:
    return normalize(torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_distinct_texts_give_clips_own_loss(tiny_model):
    model, processor = CLIPModel.from_pretrained(tiny_model), CLIPProcessor.from_pretrained(tiny_model)
    rows = generate_rows(6, seed=3)
    texts = [row["productDisplayName"] or "product" for row in rows]
    photos = [product_photo("tshirt", (30 * i, 200 - 30 * i, 90)) for i in range(6)]
    inputs = processor(text=texts, images=photos, return_tensors="pt", padding=True)
    with torch.no_grad():
        expected = model(**inputs, return_loss=True).loss
        image = normalize(model.get_image_features(pixel_values=inputs["pixel_values"]).pooler_output, dim=-1)
        text = normalize(
            model.get_text_features(
                input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]
            ).pooler_output,
            dim=-1,
        )
    ours = info_nce(image, text, torch.arange(6), model.logit_scale.exp())
    torch.testing.assert_close(ours, expected)


def test_photos_sharing_a_label_are_not_pushed_apart():
    labels = unit(2)
    image = labels[[0, 0, 1, 1]]  # two photos per label, each exactly on its label's text
    shared = info_nce(image, labels, torch.tensor([0, 0, 1, 1]), torch.tensor(100.0))
    one_to_one = info_nce(image, labels[[0, 0, 1, 1]], torch.arange(4), torch.tensor(100.0))
    assert shared < 1e-3
    assert one_to_one > 0.3  # the same photos judged one-to-one: each twin counts as a wrong answer


def test_products_without_the_field_take_no_part():
    image, text = unit(5), unit(3, seed=1)
    index = torch.tensor([0, -1, 1, 2, -1])
    keep = index >= 0
    subset = info_nce(image[keep], text, index[keep], torch.tensor(10.0))
    torch.testing.assert_close(info_nce(image, text, index, torch.tensor(10.0)), subset)


def test_fields_are_weighted_and_absent_ones_drop_out():
    image = unit(4)
    name = FieldTerm(unit(4, seed=1), torch.arange(4), 1.0)
    colour = FieldTerm(unit(2, seed=2), torch.tensor([0, 1, 1, 0]), 3.0)
    missing = FieldTerm(unit(1, seed=3), torch.tensor([0, -1, -1, -1]), 5.0)
    scale = torch.tensor(10.0)
    expected = (
        info_nce(image, name.text, name.index, scale) + 3 * info_nce(image, colour.text, colour.index, scale)
    ) / 4
    torch.testing.assert_close(multi_field_loss(image, [name, colour, missing], scale), expected)


def test_loss_has_gradients_even_when_nothing_can_be_contrasted():
    image = unit(3).requires_grad_()
    loss = multi_field_loss(image, [FieldTerm(unit(1), torch.tensor([0, 0, 0]), 1.0)], torch.tensor(10.0))
    loss.backward()
    assert loss.item() == 0.0 and image.grad is not None


@pytest.mark.parametrize("scale", [1.0, 100.0])
def test_better_aligned_photos_lower_the_loss(scale):
    text = unit(4)
    noisy = normalize(text + 0.8 * unit(4, seed=9), dim=-1)
    aligned = normalize(text + 0.1 * unit(4, seed=9), dim=-1)
    index = torch.arange(4)
    assert info_nce(aligned, text, index, torch.tensor(scale)) < info_nce(noisy, text, index, torch.tensor(scale))
