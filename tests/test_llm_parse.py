"""parse_json: one JSON object out of what a chat model actually says."""
import pytest

from memman.llm.parse import parse_json


def test_plain_object():
    assert parse_json('{"a": 1}') == {"a": 1}


def test_json_fence():
    assert parse_json('```json\n{"facts": [], "skip_reason": "ack"}\n```') == {
        "facts": [], "skip_reason": "ack"}


def test_bare_fence_with_prose_around():
    text = 'Here you go:\n```\n{"a": {"b": [1, 2]}}\n```\nLet me know if you need more.'
    assert parse_json(text) == {"a": {"b": [1, 2]}}


def test_fence_wins_over_example_object_in_preceding_prose():
    text = 'The format is {"x": 0}. Answer:\n```json\n{"x": 1}\n```'
    assert parse_json(text) == {"x": 1}


def test_prose_before_and_after():
    text = 'Sure! Based on the note, {"keywords": ["a"], "summary": ""} hope that helps.'
    assert parse_json(text) == {"keywords": ["a"], "summary": ""}


def test_braces_inside_strings():
    text = 'x {"text": "use {curly} and } braces \\" {", "n": 2} trailing }'
    assert parse_json(text) == {"text": 'use {curly} and } braces " {', "n": 2}


def test_invalid_brace_in_prose_is_skipped():
    text = 'I used {braces} in prose, then {"ok": true}'
    assert parse_json(text) == {"ok": True}


def test_first_of_two_objects():
    assert parse_json('{"a": 1} {"b": 2}') == {"a": 1}


def test_array_of_objects_is_wrapped_as_items():
    text = 'Facts:\n[{"text": "a"}, {"text": "b"}]'
    assert parse_json(text) == {"items": [{"text": "a"}, {"text": "b"}]}


def test_object_inside_array_is_not_picked_when_an_object_follows():
    text = '[{"text": "a"}] and finally {"facts": []}'
    assert parse_json(text) == {"facts": []}


def test_scalar_array_is_never_an_answer():
    with pytest.raises(ValueError):
        parse_json("I found [2] items and [1, 2, 3]")
    assert parse_json('see [2] {"a": 1}') == {"a": 1}


def test_trailing_commas_repaired():
    assert parse_json('{"a": [1, 2,], "b": "x,}",}') == {"a": [1, 2], "b": "x,}"}


def test_think_block_removed():
    text = '<think>maybe {"wrong": true}?</think>\n{"right": true}'
    assert parse_json(text) == {"right": True}


def test_bom_and_whitespace():
    assert parse_json('\ufeff  \n{"a": 1}\n ') == {"a": 1}


@pytest.mark.parametrize("text", ["", "   ", "no json here", '{"cut": [1, 2', '"just a string"',
                                  "42", "null"])
def test_no_object_raises(text):
    with pytest.raises(ValueError):
        parse_json(text)


def test_non_text_raises():
    with pytest.raises(ValueError):
        parse_json(None)


def test_many_braces_is_bounded():
    text = "{" * 5000 + ' {"a": 1}'
    with pytest.raises(ValueError):
        parse_json(text)  # gives up after a bounded number of starts, quickly
