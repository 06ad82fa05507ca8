"""Deeply nested JSON: decoding with the depth error's location, encoding, and quoting."""

from __future__ import annotations

import math

import httpx
import pytest

from pipelines.client.errors import jira_messages
from pipelines.client.transport import JsonBody
from pipelines.errors import PayloadError
from pipelines.json_text import JsonDepthError, json_text, loads, quote_value
from tests.deep_json import nested_lists, nested_lists_json, quoted_doc_json

SEARCH_URL = "https://example.atlassian.net/rest/api/3/search/jql"


def search_page(description: str, *, key_first: bool = True) -> bytes:
    """Return a search page of two issues; the second has `description` (JSON text)."""
    second = f'"fields":{{"summary":"deep","description":{description}}}'
    second = (
        f'"id":"10002","key":"ABC-2",{second}'
        if key_first
        else f'"id":"10002",{second},"key":"ABC-2"'
    )
    first = '{"id":"10001","key":"ABC-1","fields":{"summary":"flat","description":null}}'
    return f'{{"isLast":true,"issues":[{first},{{{second}}}]}}'.encode()


def depth_of(value: list[object]) -> int:
    """Count the levels of `nested_lists`, without recursion."""
    levels = 1
    while value:
        value = value[0]  # type: ignore[assignment]
        levels += 1
    return levels


def test_loads_reads_the_max_depth() -> None:
    assert depth_of(loads(nested_lists_json(1024).encode())) == 1024


@pytest.mark.parametrize("key_first", [True, False], ids=["key_before_fields", "key_after"])
def test_depth_error_names_issue_and_field(key_first: bool) -> None:
    # The page, its issue list, the issue and its fields add 4 levels to the description's 1,021.
    with pytest.raises(JsonDepthError) as caught:
        loads(search_page(quoted_doc_json(1021), key_first=key_first))
    error = caught.value
    assert error.depth == 1025
    assert error.issue_key == "ABC-2"
    assert error.field == "description"
    assert str(error) == (
        "JSON nested 1025 levels deep at `issues[1].fields.description.content[0]...`"
    )


def test_depth_error_of_a_bare_list() -> None:
    with pytest.raises(JsonDepthError) as caught:
        loads(nested_lists_json(3000))
    assert caught.value.depth == 3000
    assert caught.value.issue_key is None
    assert caught.value.field is None
    assert str(caught.value) == "JSON nested 3000 levels deep at `[0][0][0][0][0][0]...`"


def test_loads_reads_nan_in_nested_text() -> None:
    value = loads('{"estimate": NaN, "data": ' + nested_lists_json(100) + "}")
    assert math.isnan(value["estimate"])
    assert depth_of(value["data"]) == 100


def test_loads_rejects_text_that_is_not_json() -> None:
    with pytest.raises(ValueError) as caught:
        loads(b"<html>login</html>")
    assert not isinstance(caught.value, JsonDepthError)


def test_json_text_beyond_recursion_limit() -> None:
    value = {"deep": nested_lists(1500), "s": 'é"\n', "n": 1.5, "b": True, "z": None, "e": {}}
    scalars = '"s":"é\\"\\n","n":1.5,"b":true,"z":null,"e":{}'
    assert json_text(value) == '{"deep":' + nested_lists_json(1500) + "," + scalars + "}"
    spaced = scalars.replace(",", ", ").replace(":", ": ")
    assert json_text(value, separators=(", ", ": ")) == (
        '{"deep": ' + nested_lists_json(1500) + ", " + spaced + "}"
    )


def test_quote_value_cuts_deep_values() -> None:
    assert quote_value(nested_lists(2000)) == "[" * 77 + "..."
    assert quote_value({"a": [1, "x"]}) == '{"a": [1, "x"]}'
    assert quote_value("as written") == "as written"


def test_body_beyond_max_depth_fails() -> None:
    # The page adds 4 levels above the description: 1,020 reaches 1,024 and still decodes.
    at_limit = JsonBody(search_page(quoted_doc_json(1020)), 200, "application/json", SEARCH_URL)
    assert [issue["key"] for issue in at_limit.decode()["issues"]] == ["ABC-1", "ABC-2"]
    beyond = JsonBody(search_page(quoted_doc_json(1100)), 200, "application/json", SEARCH_URL)
    with pytest.raises(PayloadError) as caught:
        beyond.decode()
    assert caught.value.issue_key == "ABC-2"
    assert str(caught.value) == (
        "Issue `ABC-2`: field `description` nests too deep to decode: the response of "
        f"{SEARCH_URL} reaches 1,104 levels at `issues[1].fields.description.content[0]...`, "
        "more than the 1,024 levels jira-etl decodes. Reduce the nesting of that value in "
        "Jira. To load the other issues meanwhile, add `key != ABC-2` to --jql (joined to your "
        "filter with AND) and run once with --full-refresh, because a run with a changed --jql "
        "stops until a full refresh. Keep that --jql on later runs. Once the value is fixed, "
        "remove `key != ABC-2` and run once more with --full-refresh."
    )


def test_error_body_with_deep_value() -> None:
    content = b'{"errorMessages":[],"errors":{"jql":' + nested_lists_json(1000).encode() + b"}}"
    response = httpx.Response(400, content=content)
    assert jira_messages(response) == ["jql: " + nested_lists_json(1000)]
