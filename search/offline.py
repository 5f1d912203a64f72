"""Working offline at once when the Hugging Face Hub cannot be resolved at all (no network, no DNS): cached Hub files
still load and everything else fails in a second with one message, instead of each download retrying for ≈ 30 s and
printing every retry. A Hub that resolves but fails is left to the callers' own messages."""

from __future__ import annotations

import logging
import os
import socket
import threading
from urllib.parse import urlparse

import datasets
import huggingface_hub

logger = logging.getLogger(__name__)

# DNS answers in milliseconds or fails at once when there is no network; a resolver that hangs is given this long.
RESOLVE_TIMEOUT_S = 3.0
OFFLINE_ENV = "HF_HUB_OFFLINE"


def hub_host() -> str:
    """The host name of the Hub endpoint in use (HF_ENDPOINT or huggingface.co)."""
    return urlparse(huggingface_hub.constants.ENDPOINT).hostname or ""


def hub_resolvable(timeout: float = RESOLVE_TIMEOUT_S) -> bool:
    """Whether the Hub's host name resolves within `timeout` (the lookup runs in a thread: getaddrinfo itself has
    no timeout)."""
    answer: list[bool] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(hub_host(), 443)
        except OSError:
            answer.append(False)
        else:
            answer.append(True)

    thread = threading.Thread(target=lookup, name="hub-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


def is_offline() -> bool:
    """Whether this process works with the Hub's cache only."""
    return bool(huggingface_hub.constants.HF_HUB_OFFLINE)


def go_offline() -> None:
    """Hub offline mode for this process and its children (huggingface_hub, transformers and datasets alike)."""
    os.environ[OFFLINE_ENV] = "1"
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    datasets.config.HF_HUB_OFFLINE = True


def offline_unless_hub_resolves() -> bool:
    """Go offline when the Hub's host cannot be resolved; returns whether this process now works offline."""
    if is_offline():
        return True
    if hub_resolvable():
        return False
    go_offline()
    logger.info(
        "The Hugging Face Hub (%s) cannot be resolved: working offline (local folders and already-downloaded Hub "
        "files only).",
        hub_host(),
    )
    return True
