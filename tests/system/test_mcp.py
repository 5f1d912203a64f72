"""The MCP server over the wire with the official `mcp` client (streamable HTTP at /gradio_api/mcp): the tools an
agent lists, each tool called and checked against the engine, bad arguments answered with the client API's
messages, and the setting that turns the server off."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jsonschema
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.helpers import free_port, with_session
from ui import build_demo, launch
from ui.api_docs import RESPONSE_FIELDS, RESULT_FIELDS
from ui.mcp_tools import TOOLS

pytestmark = pytest.mark.system


def call(url: str, tool: str, arguments: dict) -> Any:
    return with_session(url, lambda session: session.call_tool(tool, arguments))


@pytest.fixture(scope="module")
def tools(app_url) -> dict:
    listed = with_session(app_url, lambda session: session.list_tools())
    return {tool.name: tool for tool in listed.tools}


@pytest.fixture(scope="module")
def client(app_url) -> Client:
    return Client(app_url, verbose=False, download_files=False)


def data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def answer_of(result) -> dict:
    """The structured answer of a successful call, checked to be the same as its JSON text."""
    assert not result.isError, result.content
    assert json.loads(result.content[0].text) == result.structuredContent
    return result.structuredContent


def assert_engines_answer(answer: dict, expected, engine) -> None:
    """The tool's answer is the engine's response; each photo URL serves the product's stored photo."""
    assert [result["id"] for result in answer["results"]] == expected.ids
    assert [result["name"] for result in answer["results"]] == [result.name for result in expected]
    assert [round(result["score"], 5) for result in answer["results"]] == [round(r.score, 5) for r in expected]
    for result in answer["results"][:3]:
        assert httpx.get(result["image"]).content == engine.product_photo_bytes(result["id"])
    assert answer["notices"] == list(expected.notices)
    assert [result["matched"] for result in answer["results"]] == [result.matched for result in expected]
    assert answer["match_count"] == expected.match_count and answer["semantic_weight"] == expected.semantic_weight


def test_the_tools_are_the_search_endpoints_under_their_own_names(tools):
    assert list(tools) == ["search_text", "search_image", "search_composed", "more_like_this", "filter_choices"]
    assert list(tools) == list(TOOLS)


def test_the_schema_the_hub_reads_has_the_same_tools_and_descriptions(app_url, tools):
    schema = httpx.get(app_url + "gradio_api/mcp/schema").json()
    assert [tool["name"] for tool in schema] == list(tools)
    assert [tool["description"] for tool in schema] == [tool.description for tool in tools.values()]


def test_every_argument_is_described(tools):
    for tool in tools.values():
        for name, schema in tool.inputSchema["properties"].items():
            assert len(schema.get("description", "")) > 20, (tool.name, name)
    assert tools["search_image"].inputSchema["properties"]["image"]["type"] == "string"
    assert tools["search_text"].inputSchema["required"] == ["text"]


def test_search_tools_name_the_catalogs_filter_values_and_every_field_that_comes_back(tools, engine):
    choices = engine.filter_choices()
    for name in ("search_text", "search_image", "search_composed", "more_like_this"):
        description = tools[name].description
        for field, values in choices.items():
            assert f"{field}: " in description
            assert values[0] in description
        for field in (*RESPONSE_FIELDS, *RESULT_FIELDS):
            assert f"{field}: " in description, (name, field)
        assert tools[name].outputSchema["required"] == list(RESPONSE_FIELDS)


def test_text_search(app_url, engine, tools):
    filters = {"gender": ["Men", "Boys"], "masterCategory": "Apparel"}
    answer = answer_of(call(app_url, "search_text", {"text": "red shirt", "k": 6, "filters": filters}))
    assert_engines_answer(answer, engine.search_text("red shirt", k=6, filters=filters, collapse_similar=True), engine)
    assert set(answer) == set(RESPONSE_FIELDS)
    assert all(set(result) == set(RESULT_FIELDS) for result in answer["results"])
    jsonschema.validate(answer, tools["search_text"].outputSchema)


def test_text_search_says_its_correction_and_takes_correct(app_url, client):
    """The shopper's fields come through the tool as through the client API: the correction, the attributes
    recognised, the facets; correct=false searches the words as typed."""
    for arguments in ({"text": "levis jeens", "k": 5}, {"text": "levis jeens", "k": 5, "correct": False}):
        answer = answer_of(call(app_url, "search_text", arguments))
        expected = client.predict(**arguments, api_name="/search_text")
        for field in ("correction", "recognised", "match_count", "facets", "semantic_weight"):
            assert answer[field] == expected[field], field
        assert [result["id"] for result in answer["results"]] == [result["id"] for result in expected["results"]]
    assert answer["correction"] is None
    corrected = answer_of(call(app_url, "search_text", {"text": "levis jeens", "k": 5}))
    assert corrected["correction"]["changes"] == [["jeens", "jeans"]] and corrected["match_count"] > 0


def test_image_search_with_a_data_uri(app_url, engine, photo):
    answer = answer_of(call(app_url, "search_image", {"image": data_uri(photo), "k": 5}))
    assert_engines_answer(answer, engine.search_image(photo, k=5, collapse_similar=True), engine)
    assert int(engine.products.ids[17]) in [result["id"] for result in answer["results"]]
    assert set(answer["labels"]) == {"articleType", "baseColour"}


def test_composed_search_with_a_results_photo_url(app_url, engine):
    first = answer_of(call(app_url, "search_text", {"text": "shirt", "k": 1}))["results"][0]
    arguments = {"image": first["image"], "text": "same but in red", "image_weight": 0.3, "k": 7}
    answer = answer_of(call(app_url, "search_composed", arguments))
    photo = engine.product_image(first["id"])
    assert_engines_answer(
        answer, engine.search_composed(photo, "same but in red", 0.3, 7, collapse_similar=True), engine
    )


def test_more_like_this(app_url, engine):
    product_id = int(engine.products.ids[42])
    answer = answer_of(call(app_url, "more_like_this", {"product_id": product_id, "k": 4}))
    assert_engines_answer(answer, engine.more_like_this(product_id, k=4, collapse_similar=True), engine)
    assert product_id not in [result["id"] for result in answer["results"]]


def test_filter_choices(app_url, engine):
    assert answer_of(call(app_url, "filter_choices", {})) == engine.filter_choices()


BAD_ARGUMENTS = [
    ("search_text", {"text": "   "}),
    ("search_text", {"text": "shirt", "k": 0}),
    ("search_text", {"text": "shirt", "k": "abc"}),
    ("search_text", {"text": "shirt", "filters": {"baseColour": "Purpel"}}),
    ("search_text", {"text": "shirt", "filters": {"colour": "Red"}}),
    ("search_text", {"text": "shirt", "semantic_weight": 2}),
    ("search_text", {"text": "shirt", "translate": "maybe"}),
    ("search_text", {"text": "shirt", "correct": "maybe"}),
    ("search_composed", {"text": "red", "image_weight": -1}),
    ("more_like_this", {"product_id": 999}),
    ("more_like_this", {"product_id": 10005.5}),
]


@pytest.mark.parametrize(("tool", "arguments"), BAD_ARGUMENTS)
def test_bad_arguments_get_the_client_apis_messages(app_url, client, photo, tool, arguments):
    if tool == "search_composed":
        arguments = {**arguments, "image": data_uri(photo)}
        given = {**arguments, "image": handle_file(str(photo))}
    else:
        given = arguments
    with pytest.raises(AppError) as raised:
        client.predict(**given, api_name=TOOLS[tool])
    result = call(app_url, tool, arguments)
    assert result.isError
    assert result.content[0].text == str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"image": "/etc/passwd"}, "The image must be an http(s) URL of the photo or a data URI"),
        (
            {"image": 5},
            "The image must be an http(s) URL of the photo or a data URI (data:image/jpeg;base64,...), got int.",
        ),
        ({"image": "http://127.0.0.1:9/photo.jpg"}, "The image URL's host '127.0.0.1' cannot be used"),
        ({"image": "data:text/plain;base64,aGVsbG8="}, "This file is not an image that can be read"),
        ({"image": "data:image/png;base64,"}, "The image file is empty (0 bytes)"),
        ({"k": 5}, "search_image needs the argument 'image'"),
        ({"image": "data:,x", "kk": 5}, "search_image has no argument 'kk'; its arguments are image, k, filters"),
    ],
)
def test_bad_images_and_argument_names_are_explained(app_url, arguments, message):
    result = call(app_url, "search_image", arguments)
    assert result.isError
    assert message in result.content[0].text


def test_the_server_keeps_answering_after_bad_calls(app_url):
    assert answer_of(call(app_url, "search_text", {"text": "shirt", "k": 2}))["results"]


def test_the_mcp_server_can_be_turned_off(engine):
    demo = build_demo(engine)
    url = launch(demo, "127.0.0.1", free_port(), block=False, mcp_server=False)
    try:
        ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        answer = httpx.post(url + "gradio_api/mcp/", json=ping, headers={"Accept": "application/json"})
        assert answer.status_code == 404
        assert Client(url, verbose=False).predict("shirt", 2, api_name="/search_text")["results"]
    finally:
        demo.close()
