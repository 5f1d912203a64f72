"""Fixtures of the system tests: the real app served on localhost."""

import pytest

from tests.helpers import free_port
from ui import build_demo, launch


@pytest.fixture(scope="module")
def app_url(engine):
    """The real app (ui.build_demo + ui.launch, as app.py serves it) on a free localhost port for one test module."""
    demo = build_demo(engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def swept_app(engine):
    """The real app with a one-second upload sweep, so that deletion can be observed."""
    demo = build_demo(engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False, upload_sweep=(1, 1))
    yield url
    demo.close()
