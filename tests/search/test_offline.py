"""Working offline at once when the Hub's host cannot be resolved, instead of ≈ 30 s of download retries."""

import logging
import os

import datasets
import huggingface_hub
import pytest

from search.offline import OFFLINE_ENV, hub_host, hub_resolvable, offline_unless_hub_resolves

UNRESOLVABLE = "https://hub.invalid"  # the .invalid top-level domain never resolves (RFC 2606)


@pytest.fixture
def online(monkeypatch):
    """Hub offline mode off, restored after (the test session itself runs offline)."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv(OFFLINE_ENV, "0")
    return monkeypatch


def test_an_unresolvable_hub_turns_offline_mode_on(online, caplog):
    caplog.set_level(logging.INFO)
    online.setattr(huggingface_hub.constants, "ENDPOINT", UNRESOLVABLE)
    assert hub_host() == "hub.invalid" and not hub_resolvable()
    assert offline_unless_hub_resolves()
    assert huggingface_hub.constants.HF_HUB_OFFLINE and datasets.config.HF_HUB_OFFLINE
    assert os.environ[OFFLINE_ENV] == "1", "worker processes inherit it"
    assert "hub.invalid) cannot be resolved: working offline" in caplog.text


def test_a_hub_that_resolves_is_left_online(online):
    online.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    assert not offline_unless_hub_resolves()
    assert not huggingface_hub.constants.HF_HUB_OFFLINE


def test_an_unresolvable_hub_fails_a_download_at_once(online):
    online.setattr(huggingface_hub.constants, "ENDPOINT", UNRESOLVABLE)
    offline_unless_hub_resolves()
    with pytest.raises(huggingface_hub.errors.LocalEntryNotFoundError):
        huggingface_hub.snapshot_download("org/never-downloaded", repo_type="dataset")
