"""The tools' descriptions: the catalog's filter values (short lists whole, long ones sampled), every argument and
every field of an answer."""

import inspect

from ui.api import SearchApi
from ui.api_docs import ARGUMENTS, PURPOSES, RESPONSE_FIELDS, SAMPLED_VALUES, describe_tool, filters_text, output_schema
from ui.mcp_tools import TOOLS


def test_short_value_lists_are_given_whole_and_long_ones_sampled():
    colours = [f"Colour{number:02d}" for number in range(40)]
    text = filters_text({"gender": ["Men", "Women"], "baseColour": colours})
    assert "gender: Men, Women;" in text
    assert f"baseColour: 40 values, e.g. {', '.join(colours[:SAMPLED_VALUES])}, … (all of them: filter_choices)" in text
    assert colours[SAMPLED_VALUES] not in text


def test_every_argument_of_every_tool_has_a_meaning():
    for tool in TOOLS:
        assert tool in PURPOSES
        for name in inspect.signature(getattr(SearchApi, tool)).parameters:
            assert name == "self" or ARGUMENTS.get(name), (tool, name)


def test_a_search_tool_describes_its_filters_and_every_field_of_its_answer():
    text = describe_tool("search_text", {"gender": ["Men", "Women"]})
    assert text.startswith(PURPOSES["search_text"]) and "gender: Men, Women" in text
    assert all(f"{field}: " in text for field in RESPONSE_FIELDS)
    assert output_schema("search_text")["required"] == list(RESPONSE_FIELDS)
    assert describe_tool("filter_choices", {"gender": ["Men"]}) == PURPOSES["filter_choices"]
