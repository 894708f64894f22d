"""The JSON5 text editor host installers use: full JSON5 parsing, edits in the file's
own style, and removal that gives back the original bytes."""
import math

import pytest

from memman.integrations.json5edit import Document, EditError, JSON5Error, loads


def test_parses_json5():
    text = """// comment
    {
      unquoted: 1, 'single': 'it\\'s', "double": "x",
      hex: 0x1F, lead: .5, trail: 5., plus: +2, inf: -Infinity, nan: NaN,
      nested: { list: [1, 2, 3,], },   /* block */
      $id_1: null, cont: 'a\\
b', esc: "\\u00e9\\x41\\t",
    }
    """
    data = loads(text)
    assert data["unquoted"] == 1 and data["single"] == "it's" and data["hex"] == 31
    assert data["lead"] == 0.5 and data["trail"] == 5.0 and data["plus"] == 2
    assert data["inf"] == -math.inf and math.isnan(data["nan"])
    assert data["nested"] == {"list": [1, 2, 3]} and data["$id_1"] is None
    assert data["cont"] == "ab" and data["esc"] == "éA\t"


def test_duplicate_keys_last_wins():
    assert loads("{a: 1, a: 2}") == {"a": 2}


@pytest.mark.parametrize("bad", ["{a:1 b:2}", "{a:}", "{", "{a:01}", "{'a':'x}", "[1,,]",
                                 "{a:1}{", "{/* x}", "{a: 1abc}", "{,}", "{a:'\n'}", "",
                                 "{ a: ", "{ a", "[", "{ 'a': 'b\\"])
def test_rejects_invalid(bad):
    with pytest.raises(JSON5Error):
        loads(bad)


STYLES = [
    "{}",
    "{}\n",
    '{"a": 1}',
    '{\n  "a": 1\n}\n',
    "// c\n{\n  a: 1, // one\n  b: [1, 2,],\n}\n",
    "{\r\n\t\"a\": [\r\n\t\t1\r\n\t]\r\n}\r\n",
    "{ a: 1, /* x */ }",
    '{\n    "plugins": {\n        "entries": {}\n    }\n}\n',
    '{\n  "plugins": {\n    "entries": {\n      "x": {"enabled": true}\n    }\n  }\n}\n',
    '{\n  "hooks": {\n  }\n}\n',
]


@pytest.mark.parametrize("text", STYLES)
def test_insert_then_remove_gives_back_the_same_bytes(text):
    doc = Document(text)
    first = doc.set(["plugins", "entries", "memman"], {"enabled": True, "config": {"n": 1}})
    second = doc.set(["hooks", "internal", "enabled"], True)
    data = doc.data
    assert data["plugins"]["entries"]["memman"] == {"enabled": True, "config": {"n": 1}}
    assert data["hooks"]["internal"]["enabled"] is True
    for created in (first["created"], second["created"]):
        doc.delete(created)
    if text.strip() == "{}":
        assert doc.data == {}       # an empty one-line object comes back laid out: "{\n}"
    else:
        assert doc.text == text


def test_style_is_followed():
    doc = Document("{\n\tfoo: 1,\n}\n")
    doc.set(["bar"], {"baz": True})
    assert doc.text == "{\n\tfoo: 1,\n\tbar: {\n\t\tbaz: true,\n\t},\n}\n"
    doc = Document('{\n  "foo": 1\n}\n')
    doc.set(["my-key"], {"baz": True})
    assert doc.text == '{\n  "foo": 1,\n  "my-key": {\n    "baz": true\n  }\n}\n'


def test_comment_after_the_last_member_stays_with_it():
    doc = Document("{\n  a: 1 // about a\n}\n")
    doc.set(["b"], 2)
    assert doc.text == "{\n  a: 1, // about a\n  b: 2\n}\n"
    doc.delete(["b"])
    assert doc.text == "{\n  a: 1 // about a\n}\n"


def test_replace_and_restore_a_value():
    text = "{\n  hooks: { internal: { enabled: false } }, // off\n}\n"
    doc = Document(text)
    assert doc.set(["hooks", "internal", "enabled"], True)["previous"] is False
    assert "enabled: true } }, // off" in doc.text
    doc.set(["hooks", "internal", "enabled"], False)
    assert doc.text == text


def test_append_and_remove_list_items():
    text = '{ allow: ["a", "b"] }'
    doc = Document(text)
    doc.append(["allow"], "memman")
    assert doc.text == '{ allow: ["a", "b", "memman"] }'
    assert doc.remove_item(["allow"], "memman")
    assert doc.text == text
    multi = '{\n  "allow": [\n    "a"\n  ]\n}\n'
    doc = Document(multi)
    doc.append(["allow"], "memman")
    assert doc.data == {"allow": ["a", "memman"]}
    doc.remove_item(["allow"], "memman")
    assert doc.text == multi


def test_delete_removes_duplicates():
    doc = Document("{a: 1, a: 2, b: 3}")
    assert doc.delete(["a"])
    assert doc.data == {"b": 3}
    assert not doc.delete(["a"])


def test_path_through_a_non_object_is_an_error():
    doc = Document("{hooks: true}")
    with pytest.raises(EditError):
        doc.set(["hooks", "internal", "enabled"], True)
    assert doc.text == "{hooks: true}"
    with pytest.raises(EditError):
        Document("[1]")
