"""The entry point's settings (options and environment variables) and the README front matter that makes the
repository a Gradio Space running app.py."""

import re

import gradio
import pytest
import yaml

import app
from search import DEFAULT_TRANSLATION_MODEL
from search.catalog.schema import DEFAULT_DATASET
from search.encoding.encoder import DEFAULT_MODEL, RUNTIME_ENV
from tests.helpers import REPO
from ui.fair_use import FairUse
from ui.settings import FAIR_USE_BURST, FAIR_USE_PER_MINUTE

INDEX_REPO = "fashion-product-index"  # the index a maintainer pushes, after the Space first starts
SETTINGS_ENV = ("SEARCH_INDEX", "SEARCH_INDEX_REVISION", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT")
TRANSLATION_ENV = "SEARCH_TRANSLATION_MODEL"


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*SETTINGS_ENV, TRANSLATION_ENV, RUNTIME_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_serve_the_default_index_on_localhost(clean_env):
    args = app.parse_args([])
    assert (args.index, args.revision, args.host, args.port) == (None, None, "127.0.0.1", 7860)


def test_environment_sets_what_the_options_leave_unset(clean_env):
    for name, value in zip(SETTINGS_ENV, ("org/index", "abc123", "0.0.0.0", "7861"), strict=True):
        clean_env.setenv(name, value)
    args = app.parse_args([])
    assert (args.index, args.revision, args.host, args.port) == ("org/index", "abc123", "0.0.0.0", 7861)
    args = app.parse_args(["--index", "bundle", "--revision", "v2", "--host", "::", "--port", "9000"])
    assert (args.index, args.revision, args.host, args.port) == ("bundle", "v2", "::", 9000)


def test_queries_are_translated_by_the_default_model_unless_set_otherwise(clean_env):
    assert app.parse_args([]).translation_model == DEFAULT_TRANSLATION_MODEL
    clean_env.setenv(TRANSLATION_ENV, "Helsinki-NLP/opus-mt-vi-en")
    assert app.parse_args([]).translation_model == "Helsinki-NLP/opus-mt-vi-en"
    assert app.parse_args(["--translation-model", "none"]).translation_model == "none"


@pytest.mark.parametrize("off", ["none", "None", "off", "", "  "])
def test_the_language_step_can_be_turned_off(off):
    assert app.query_language(off) is None


def test_the_language_step_translates_with_a_model_folder(tiny_marian):
    language = app.query_language(str(tiny_marian))
    assert language is not None and language.model_id == str(tiny_marian)
    language.wait_seconds = 120  # this test is about the folder, not the search's wait: a loaded machine is slow
    assert language.read("áo sơ mi nam màu đỏ").translated


def test_a_translation_model_that_cannot_be_had_leaves_the_app_searching(hub_cache, caplog):
    language = app.query_language(DEFAULT_TRANSLATION_MODEL)  # offline, not cached
    assert language is not None and language.model_id is None
    read = language.read("áo sơ mi nam màu đỏ")
    assert not read.translated and "could not be loaded" in read.notices[0]
    assert DEFAULT_TRANSLATION_MODEL in caplog.text


def test_runtime_and_threads_come_from_options_or_the_environment(clean_env):
    assert (app.parse_args([]).runtime, app.parse_args([]).threads) == (None, None)
    clean_env.setenv(RUNTIME_ENV, "torch")
    assert app.parse_args([]).runtime == "torch"
    args = app.parse_args(["--runtime", "onnx", "--threads", "1"])
    assert (args.runtime, args.threads) == ("onnx", 1)


def test_a_bad_thread_count_stops_the_app_with_a_message(clean_env, bundle_dir, caplog):
    assert app.main(["--index", str(bundle_dir), "--threads", "0"]) == 1
    assert "threads must be a positive whole number of threads, got 0" in caplog.text


def test_a_port_that_is_not_a_number_is_refused(clean_env, capsys):
    with pytest.raises(SystemExit) as exited:
        app.parse_args(["--port", "http"])
    assert exited.value.code == 2 and "invalid int value: 'http'" in capsys.readouterr().err


FAIR_USE_ENV = ("SEARCH_MCP_SERVER", "SEARCH_RATE_LIMIT", "SEARCH_RATE_BURST", "SEARCH_TRUSTED_PROXIES", "SPACE_ID")


def test_mcp_and_fair_use_are_on_by_default_and_set_by_options_or_the_environment(clean_env):
    for name in FAIR_USE_ENV:
        clean_env.delenv(name, raising=False)
    args = app.parse_args([])
    assert args.mcp_server == "on"
    assert app.fair_use(args) == FairUse(FAIR_USE_PER_MINUTE, FAIR_USE_BURST, trusted_proxies=0)
    clean_env.setenv("SPACE_ID", "user/fashion-product-search")
    assert app.parse_args([]).trusted_proxies == 1  # a Space's proxy reports the client's address
    for name, value in zip(FAIR_USE_ENV, ("off", "30", "10", "2"), strict=False):
        clean_env.setenv(name, value)
    args = app.parse_args([])
    assert (args.mcp_server, args.rate_limit, args.rate_burst, args.trusted_proxies) == ("off", 30, 10, 2)
    args = app.parse_args(["--mcp-server", "on", "--rate-limit", "0"])
    assert args.mcp_server == "on" and app.fair_use(args) is None


def test_a_rate_that_makes_no_budget_stops_the_app_with_a_message(clean_env, bundle_dir, caplog):
    assert app.main(["--index", str(bundle_dir), "--rate-burst", "0"]) == 2
    assert "The burst must be at least 1 call, got 0." in caplog.text


def test_readme_front_matter_makes_a_valid_gradio_space():
    front_matter = (REPO / "README.md").read_text(encoding="utf-8").split("---\n")[1]
    space = yaml.safe_load(front_matter)
    pinned = re.search(r"^gradio(?:\[\w+\])?==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert space["sdk"] == "gradio" and space["sdk_version"] == pinned == gradio.__version__
    assert (REPO / space["app_file"]).is_file() and space["python_version"].startswith("3.")
    assert {space["colorFrom"], space["colorTo"]} <= {
        "red",
        "yellow",
        "green",
        "blue",
        "indigo",
        "purple",
        "pink",
        "gray",
    }
    assert space["title"] and space["emoji"] and len(space["short_description"]) <= 60 and space["license"]
    assert {DEFAULT_MODEL, DEFAULT_TRANSLATION_MODEL} <= set(space["models"]) and DEFAULT_DATASET in space["datasets"]
    preloaded = set(space["preload_from_hub"])
    assert {f"datasets/{DEFAULT_DATASET}", DEFAULT_MODEL, DEFAULT_TRANSLATION_MODEL} <= preloaded
    assert not any(INDEX_REPO in repo for repo in preloaded), "a repo that does not exist yet would fail the build"
