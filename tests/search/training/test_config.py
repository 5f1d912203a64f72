"""Fine-tuning settings: fields parsed and checked, bad values explained, the fingerprint of the result."""

import pytest

from search.errors import TrainingError
from search.training.config import FinetuneConfig, TextField, parse_fields


def config(**changes) -> FinetuneConfig:
    return FinetuneConfig(**{"dataset": "data", "model": "model", "out": "out", **changes})


def test_fields_with_and_without_weights():
    assert parse_fields("name, labels:2, articleType:0.5") == (
        TextField("name", 1.0),
        TextField("labels", 2.0),
        TextField("articleType", 0.5),
    )
    assert TextField("name", 1.0).column == "productDisplayName"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("title", "Unknown text field 'title'"),
        ("name:x", "must be a number"),
        ("name:0", "must be a finite number above 0"),
        ("name:inf", "The weight of field 'name' must be a finite number above 0, got inf"),
        ("name:nan", "must be a finite number above 0, got nan"),
        ("labels:1e400", "must be a finite number above 0, got 1e400"),
        ("name,name", "given twice"),
        (" , ", "names no field"),
    ],
)
def test_bad_fields_are_explained(spec, message):
    with pytest.raises(TrainingError, match=message):
        parse_fields(spec)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 1}, "--batch-size must be at least 2"),
        ({"epochs": 0}, "--epochs must be at least 1"),
        ({"heldout_share": 1.0}, "--heldout-share must be between 0 and 1"),
        ({"lr": 0}, "--lr must be a finite number above 0"),
        ({"lr": float("inf")}, "--lr must be a finite number above 0, got inf"),
        ({"weight_decay": float("nan")}, "--weight-decay must be a finite number"),
        ({"max_grad_norm": float("inf")}, "--max-grad-norm must be a finite number above 0"),
        ({"accumulation": 0}, "--accumulation must be at least 1"),
        ({"warmup": 1.0}, "--warmup is a share"),
        ({"precision": "fp8"}, "--precision must be one of"),
        ({"limit": 1}, "--limit must be at least 2"),
        ({"model": "same", "out": "same"}, "--out must differ from --model"),
    ],
)
def test_bad_settings_are_explained(changes, message):
    with pytest.raises(TrainingError, match=message):
        config(**changes)


def test_fingerprint_follows_the_result_not_the_logistics():
    base = config().fingerprint()
    assert config(num_workers=0, save_every=5, out="elsewhere", skip_eval=True, push_to="a/b").fingerprint() == base
    assert config(lr=2e-5).fingerprint() != base
    assert config(fields=parse_fields("name")).fingerprint() != base
    assert config(seed=1).fingerprint() != base


def test_unknown_evaluation_protocol_is_refused_before_any_work():
    with pytest.raises(TrainingError, match="--eval-protocol: Unknown protocol 'colours'"):
        config(eval_protocol="text,colours")
