"""The training step's pieces: precision choice, weight decay groups, the logit scale, and batches without texts.
(Training itself, resuming and Ctrl-C are exercised end to end in tests/test_finetune.py.)"""

import os
import signal

import pytest
import torch

from search.catalog.schema import load_catalog
from search.encoding.encoder import Encoder
from search.errors import TrainingError
from search.training.config import parse_fields
from search.training.data import PairSource
from search.training.loop import StopRequest, batch_loss, logit_scale, parameter_groups, resolve_precision
from search.training.loss import MAX_LOGIT_SCALE


def test_precision_defaults_to_fp32_on_cpu_and_fp16_needs_cuda():
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(TrainingError, match="--precision fp16 needs a CUDA device"):
        resolve_precision("fp16", "cpu")


def test_weight_decay_only_on_matrices(tiny_model):
    model = Encoder.load(str(tiny_model), runtime="torch").model
    decayed, plain = parameter_groups(model, 0.1)
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and all(p.ndim < 2 for p in plain["params"])
    assert any(p is model.logit_scale for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


def test_logit_scale_is_the_models_and_capped(tiny_model):
    model = Encoder.load(str(tiny_model), runtime="torch").model
    torch.testing.assert_close(logit_scale(model), model.logit_scale.exp())
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert logit_scale(model).item() == pytest.approx(MAX_LOGIT_SCALE)


def test_batch_loss_learns_from_photos_and_texts(tiny_model, catalog_dir):
    encoder = Encoder.load(str(tiny_model), runtime="torch")
    table, _ = load_catalog(str(catalog_dir), limit=16)
    fields = parse_fields("name,labels,articleType")
    source = PairSource(table, fields, encoder.image_processor, flip=False, seed=0, epoch=0)
    batch = source.__getitems__(list(range(16)))
    loss = batch_loss(encoder, batch, fields, torch.autocast("cpu", enabled=False))
    loss.backward()
    assert loss.item() > 0
    assert encoder.model.vision_model.embeddings.patch_embedding.weight.grad.abs().sum() > 0
    assert encoder.model.text_model.embeddings.token_embedding.weight.grad.abs().sum() > 0


def test_a_batch_without_any_text_costs_nothing(tiny_model, catalog_dir):
    encoder = Encoder.load(str(tiny_model), runtime="torch")
    table, _ = load_catalog(str(catalog_dir), limit=4)
    fields = parse_fields("usage")
    batch = PairSource(table, fields, encoder.image_processor, flip=False, seed=0, epoch=0).__getitems__([0, 1, 2, 3])
    batch.texts["usage"] = ["", "", "", ""]
    loss = batch_loss(encoder, batch, fields, torch.autocast("cpu", enabled=False))
    assert loss.item() == 0.0


def test_first_ctrl_c_asks_to_stop_and_the_second_stops_at_once():
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
