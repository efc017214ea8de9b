"""instruct_data, instruct_gen, instruct_tables: the bundled instruction set is generated, complete, checkable and leak-free.

The committed ``assets/instructions.json`` must be exactly what the generator writes, so nobody
edits the data by hand; every answer is re-derived here from the tables by a second route.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from llmscratch import downloads
from llmscratch.assets import ASSET_DIR
from llmscratch.finetune import instruct_data, instruct_tables
from llmscratch.finetune.instruct_data import (
    ALPACA_SIZE,
    INSTRUCTIONS_PATH,
    load_instructions,
    split_instructions,
    validate_entries,
)
from llmscratch.finetune.instruct_gen import generate_instructions, instructions_json, write_instructions
from llmscratch.finetune.instruct_kinds import KINDS
from llmscratch.finetune.prompts import format_prompt

ENTRIES = load_instructions("bundled")


def test_committed_file_equals_generator_output():
    assert INSTRUCTIONS_PATH.read_text(encoding="utf-8") == instructions_json(generate_instructions()), (
        "assets/instructions.json is stale or edited by hand: run python -m llmscratch.finetune.instruct_gen"
    )


def test_generator_is_deterministic_and_seeded(tmp_path):
    assert generate_instructions() == generate_instructions()
    assert generate_instructions(seed=1) != generate_instructions()
    path = write_instructions(tmp_path / "copy.json")
    assert path.read_text(encoding="utf-8") == INSTRUCTIONS_PATH.read_text(encoding="utf-8")


def test_size_kinds_and_schema():
    counts = Counter(e["kind"] for e in ENTRIES)
    assert len(ENTRIES) >= 1000 and len(counts) >= 12 and set(counts) == set(KINDS)
    assert min(counts.values()) >= 30, counts
    for e in ENTRIES:
        assert list(e) == ["instruction", "input", "output", "kind"]
        assert (
            all(isinstance(v, str) for v in e.values()) and e["instruction"].strip() and e["output"].strip()
        )
    assert validate_entries(ENTRIES) == ENTRIES
    with_input = sum(bool(e["input"]) for e in ENTRIES)
    assert 0.2 * len(ENTRIES) < with_input < 0.9 * len(ENTRIES)  # both layouts of the prompt occur


def test_no_duplicate_prompts_and_varied_phrasings():
    prompts = [format_prompt(e) for e in ENTRIES]
    assert len(set(prompts)) == len(prompts)
    for kind in KINDS:
        templates = {re.sub(r'"[^"]*"|\d+', "#", e["instruction"]) for e in ENTRIES if e["kind"] == kind}
        assert len(templates) >= 2, f"{kind} has one phrasing only: {templates}"


def test_split_has_no_leakage_and_covers_every_kind():
    splits = split_instructions(ENTRIES, seed=123)
    keys = [{format_prompt(e) for e in part} for part in (splits.train, splits.val, splits.test)]
    assert sum(map(len, keys)) == len(ENTRIES)  # nothing lost, nothing duplicated
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    n_train, n_val, n_test = splits.sizes()
    assert abs(n_train / len(ENTRIES) - 0.85) < 0.01 and abs(n_test / len(ENTRIES) - 0.10) < 0.01
    assert {e["kind"] for e in splits.test} == set(KINDS) == {e["kind"] for e in splits.val}
    assert split_instructions(ENTRIES, seed=123).test == splits.test  # seeded
    assert split_instructions(ENTRIES, seed=7).test != splits.test


# ---- every answer, re-derived from the tables --------------------------------------------------------


def _quoted(text):
    return re.findall(r'"([^"]*)"', text)


def _of(kind):
    return [e for e in ENTRIES if e["kind"] == kind]


def _word_asked(e):
    return e["input"] or _quoted(e["instruction"])[0].removeprefix("to ")


def test_plural_and_past_tense_answers():
    for e in _of("plural"):
        word = _word_asked(e)
        assert e["output"] == f'The plural of "{word}" is "{instruct_tables.pluralize(word)}".'
    for e in _of("past_tense"):
        match = re.search(r'"(?:to )?([a-z]+)"|\(to ([a-z]+)\)', e["instruction"])
        word = e["input"] or match.group(1) or match.group(2)
        assert e["output"] == f'The past tense of "{word}" is "{instruct_tables.past_tense(word)}".'


def test_table_answers():
    antonyms, synonyms = dict(instruct_tables.ANTONYMS), dict(instruct_tables.SYNONYMS)
    for e in _of("antonym"):
        assert _quoted(e["output"]) == [_word_asked(e), antonyms[_word_asked(e)]]
    for e in _of("synonym"):
        assert _quoted(e["output"]) == [_word_asked(e), synonyms[_word_asked(e)]]
    capitals = {c.lower(): city for c, city in instruct_tables.CAPITALS}
    for e in _of("capital"):
        country = e["input"] or re.search(r"of (.+?)[?.]$", e["instruction"]).group(1)
        assert e["output"].endswith(f" is {capitals[country.lower()]}.")
    symbols = dict(instruct_tables.ELEMENTS)
    for e in _of("chemical_symbol"):
        element = e["input"] or re.search(r"for ([a-z]+)", e["instruction"]).group(1)
        assert e["output"] == f"The chemical symbol for {element} is {symbols[element]}."


def test_computed_answers():
    for e in _of("arithmetic"):
        a, op, b, result = re.match(r"(\d+) ([-+x/]) (\d+) = (\d+)\.", e["output"]).groups()
        assert (
            int(result)
            == {"+": int(a) + int(b), "-": int(a) - int(b), "x": int(a) * int(b), "/": int(a) // int(b)}[op]
        )
        assert a in (e["input"] or e["instruction"]) and b in (e["input"] or e["instruction"])
    for e in _of("unit_conversion"):
        if "Celsius" in e["output"]:
            c, f = map(int, re.findall(r"-?\d+", e["output"]))
            assert f == c * 9 / 5 + 32
        else:
            v, a, w, b = re.match(r"(\d+) (\w+) is ([\d,]+) (\w+)\.", e["output"]).groups()
            factor = {(x, y): k for x, y, k in instruct_tables.UNITS}[(a, b)]
            assert int(w.replace(",", "")) == int(v) * factor
    for e in _of("sort_list"):
        items = e["input"].split(", ")
        got = e["output"].rstrip(".").split(", ")
        if items[0].isdigit():
            assert got == [
                str(n) for n in sorted(map(int, items), reverse="largest to smallest" in e["instruction"])
            ]
        else:
            assert got == sorted(items)
    for e in _of("compare_numbers"):
        a, b = map(int, re.findall(r"\d+", e["instruction"]))
        pick = max if "larger" in e["instruction"] or "bigger" in e["instruction"] else min
        assert e["output"].startswith(f"{pick(a, b)} is ")
    for e in _of("extract_field"):
        field = next(f for f in ("name", "age", "city", "job") if f in e["instruction"])
        assert f"{field.capitalize()}: {e['output']}." in e["input"]
    for e in _of("table_lookup"):
        rows = {line.split(" | ")[0]: line.split(" | ")[1:] for line in e["input"].splitlines()[1:]}
        fruit = next(f for f in rows if f in e["instruction"])
        price, stock = rows[fruit]
        assert e["output"] in (
            f"{fruit.capitalize()} cost {price} cents.",
            f"There are {stock} {fruit} in stock.",
        )


def test_text_answers():
    for e in _of("spelling"):
        wrong, right = _word_asked(e), _quoted(e["output"])[0]
        assert right in instruct_tables.SPELLING_WORDS and wrong != right and sorted(wrong) == sorted(right)
    for e in _of("sentiment"):
        label = "positive" if any(p in e["input"] for p in instruct_tables.POSITIVE) else "negative"
        assert e["output"] == f"The sentiment is {label}."
    definitions = dict(instruct_tables.DEFINITIONS)
    for e in _of("definition"):
        word = e["input"] or (_quoted(e["instruction"]) or [e["instruction"].split()[-1].rstrip("?")])[0]
        assert e["output"].endswith(f" {word} is {definitions[word]}.")
    for e in _of("grammar_fix"):
        wrong, right = e["input"].split(), e["output"].split()
        assert len(wrong) == len(right) and sum(a != b for a, b in zip(wrong, right)) == 1
    for e in _of("formal_rewrite"):
        assert e["output"] != e["input"] and e["output"][0].isupper()


# ---- loading ----------------------------------------------------------------------------------------


def test_sources_md_describes_the_file():
    assert "instructions.json" in (ASSET_DIR / "SOURCES.md").read_text(encoding="utf-8")


def test_unknown_source():
    with pytest.raises(ValueError, match='source must be "bundled" or "alpaca", got \'dolly\''):
        load_instructions("dolly")


def test_alpaca_is_registered_with_a_structure_check():
    res = downloads.REGISTRY["alpaca"]
    assert res.sha256 is None and res.check is not None and "bundled" in res.offline
    assert "non-commercial" in instruct_data.ALPACA_NOTICE and "CC BY-NC 4.0" in instruct_data.ALPACA_NOTICE


def test_alpaca_offline_names_the_bundled_alternative(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSCRATCH_OFFLINE", "1")
    monkeypatch.setenv("LLMSCRATCH_HOME", str(tmp_path))
    with pytest.raises(downloads.DownloadError, match=r'offline mode is on.*load_instructions\("bundled"\)'):
        load_instructions("alpaca")


def _alpaca_like(n, bad=None):
    data = [{"instruction": f"Task {i}", "input": "", "output": str(i)} for i in range(n)]
    if bad is not None:
        del data[bad]["output"]
    return json.dumps(data)


def test_alpaca_structure_check(tmp_path):
    path = tmp_path / "alpaca_data.json"
    path.write_text(_alpaca_like(ALPACA_SIZE), encoding="utf-8")
    instruct_data.check_alpaca(path)  # a well-formed file passes
    path.write_text(_alpaca_like(10), encoding="utf-8")
    with pytest.raises(ValueError, match="expected a JSON list of 52,002 entries, got list of 10"):
        instruct_data.check_alpaca(path)
    path.write_text(_alpaca_like(ALPACA_SIZE, bad=17), encoding="utf-8")
    with pytest.raises(ValueError, match="entry 17 is not a dict with string fields"):
        instruct_data.check_alpaca(path)
    path.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(ValueError, match="not a UTF-8 JSON file"):
        instruct_data.check_alpaca(path)


def test_alpaca_loads_from_a_cached_copy(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMSCRATCH_HOME", str(tmp_path))
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "alpaca_data.json").write_text(_alpaca_like(ALPACA_SIZE), encoding="utf-8")
    data = load_instructions("alpaca")
    assert len(data) == ALPACA_SIZE and data[5] == {
        "instruction": "Task 5",
        "input": "",
        "output": "5",
        "kind": "alpaca",
    }


def test_prompt_and_response_tokenize_apart_as_together():
    """InstructionDataset encodes prompt and response separately: with GPT-2's BPE that must give the
    same ids as encoding the whole text (the prompt ends in a newline, a token boundary)."""
    from llmscratch.text.gpt2 import gpt2_encoding

    enc = gpt2_encoding()
    for e in ENTRIES:
        prompt = format_prompt(e)
        assert enc.encode(prompt + e["output"]) == enc.encode(prompt) + enc.encode(e["output"]), e
