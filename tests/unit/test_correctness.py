"""correctness: one rule per task kind, right / wrong / order-swapped / malformed answers for each.

The last tests run the rules over the whole bundled set: every reference is correct against itself,
and a reference of the same kind with a different answer is not.
"""

from __future__ import annotations

import pytest

from llmscratch.finetune.correctness import OPEN_ENDED, RULES, answer_phrase, correct, numbers
from llmscratch.finetune.instruct_data import load_instructions
from llmscratch.finetune.instruct_kinds import KINDS
from llmscratch.finetune.metrics import exact_match, rouge_l, token_f1

# (kind, reference, [answers that are right], [answers that are wrong])
CASES = [
    (
        "plural",
        'The plural of "mouse" is "mice".',
        [
            "mice",
            "Mice.",
            'The plural of "mouse" is "mice".',
            "The plural of mouse is mice.",
            "The plural of “mouse” is “mice”.",
        ],
        [
            "mouses",
            'The plural of "mouse" is "mouses".',
            'The plural of "mice" is "mouse".',
            "",
            "The plural of mouse.",
        ],
    ),
    (
        "past_tense",
        'The past tense of "go" is "went".',
        ["went", 'The simple past of "to go" is "went".'],
        ["goed", 'The past tense of "went" is "go".', "gone"],
    ),
    (
        "antonym",
        'The opposite of "hot" is "cold".',
        ["cold", 'An antonym for "hot" is "cold".'],
        ["warm", 'The opposite of "cold" is "hot".'],
    ),
    (
        "synonym",
        'A synonym for "road" is "street".',
        ["street", 'Another word for "road" is "street".'],
        ['The answer is "road"', 'A synonym for "road" is "lane".'],
    ),
    (
        "spelling",
        'The correct spelling is "necessary".',
        ["necessary", "The correct spelling is necessary."],
        ['The correct spelling is "neccessary".', "necesary"],
    ),
    (
        "capital",
        "The capital of France is Paris.",
        [
            "Paris",
            "The capital of France is Paris, a city on the Seine.",
            "Sure! The capital of France is Paris.",
            "Paris is the capital of France.",
        ],
        ["Lyon", "The capital of France is not known.", "Lyon is the capital of France.", ""],
    ),
    ("capital", "The capital of Mexico is Mexico City.", ["Mexico City."], ["Mexico"]),
    (
        "chemical_symbol",
        "The chemical symbol for cobalt is Co.",
        ["Co", "The symbol for cobalt is Co.", "Co is cobalt's symbol."],
        ["CO", "co", "The chemical symbol for cobalt is cobalt."],
    ),
    (
        "extract_field",
        "Lyon",
        ["Lyon", "The city is Lyon.", "lyon"],
        ["Graz", "Lyon, Graz and Cork are cities."],
    ),
    ("extract_field", "42", ["42", "The age is 42."], ["24", "42 or 43", "forty-two"]),
    ("extract_field", "Maya Park", ["Maya Park", "Her name is Maya Park."], ["Maya", "Park Maya"]),
    (
        "arithmetic",
        "3 + 4 = 7. Maya has 7 apples.",
        ["7", "Maya has 3 + 4 = 7 apples.", "3+4=7"],
        ["3 + 4 = 8. Maya has 8 apples.", "7 + 3 = 10", "Maya has some apples."],
    ),
    (
        "table_lookup",
        "There are 37 pears in stock.",
        ["37", "The table lists 37 pears."],
        ["73", "There are 37 pears and 12 figs."],
    ),
    (
        "unit_conversion",
        "5 kilometers is 5,000 meters.",
        ["5000 meters", "5 km = 5,000 meters.", "It is 5000.0 meters"],
        ["5,000", "5000 centimeters", "500 meters", "5 kilometers is 5 meters."],
    ),
    (
        "unit_conversion",
        "-40 degrees Celsius is -40 degrees Fahrenheit.",
        ["-40 degrees Fahrenheit", "-40 Fahrenheit"],
        ["40 degrees Fahrenheit", "-40 degrees Celsius"],
    ),
    (
        "compare_numbers",
        "431 is larger than 122.",
        ["431 is larger than 122.", "431", "The larger number is 431.", "431 is bigger than 122"],
        ["122 is larger than 431.", "431 is smaller than 122.", "122", "Both.", ""],
    ),
    (
        "compare_numbers",
        "122 is smaller than 431.",
        ["122", "122 is less than 431."],
        ["431 is smaller than 122.", "431"],
    ),
    (
        "sort_list",
        "apple, fig, pear.",
        ["apple, fig, pear", "Sorted: apple, fig and pear.", "- apple\n- fig\n- pear"],
        ["pear, fig, apple", "fig, apple, pear", "apple, fig", "apple, fig, pear, plum", "apple fig pear"],
    ),
    ("sort_list", "4, 10, 34.", ["4, 10, 34", "4.0, 10, 34."], ["4, 34, 10", "34, 10, 4", "4, 10, 34, 34"]),
    (
        "sentiment",
        "The sentiment is negative.",
        ["negative", "The sentiment of this sentence is negative."],
        ["positive", "It is positive, not negative.", "neutral", ""],
    ),
    (
        "definition",
        "A glacier is a slow-moving mass of ice on land.",
        [
            "a slow-moving mass of ice on land",
            "A glacier is a slow moving mass of ice on land. It melts slowly.",
        ],
        ["A glacier is a large body of ice.", "glacier"],
    ),
    (
        "grammar_fix",
        "There is an apple in the picture.",
        ["there is an apple in the picture", '"There is an apple in the picture."'],
        ["There is a apple in the picture.", "There is the apple in the picture."],
    ),
    (
        "formal_rewrite",
        "Hello, please review the slides today. Kind regards.",
        ["hello please review the slides today kind regards"],
        ["Hello, please check the slides today. Regards."],
    ),
    ("alpaca", "Paris is the capital.", ["paris is the capital"], ["Paris."]),
]


@pytest.mark.parametrize(
    "kind, reference, right, wrong", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_right_and_wrong_answers(kind, reference, right, wrong):
    for answer in right:
        assert correct(answer, reference, kind) == 1.0, (
            f"{kind}: {answer!r} should be right for {reference!r}"
        )
    for answer in wrong:
        assert correct(answer, reference, kind) == 0.0, (
            f"{kind}: {answer!r} should be wrong for {reference!r}"
        )


def test_every_kind_of_the_bundled_set_has_a_rule_and_a_case():
    assert set(KINDS) == set(RULES)
    assert set(KINDS) <= {case[0] for case in CASES}
    assert set(OPEN_ENDED) <= set(KINDS)


def test_token_f1_blind_spot_order_swapped_comparison():
    """Token F1 counts words, not their order: the swapped comparison shares every word with the
    reference, so F1 is 1.0; ROUGE-L, which keeps order, still gives 0.6 (LCS "is larger than" = 3 of 5
    words). The statement is false."""
    reference, swapped = "431 is larger than 122.", "122 is larger than 431."
    assert token_f1(swapped, reference) == 1.0
    assert rouge_l(swapped, reference) == pytest.approx(0.6)
    assert exact_match(swapped, reference) == 0.0 and correct(swapped, reference, "compare_numbers") == 0.0


def test_exact_match_blind_spot_right_answer_in_other_words():
    """Exact match rewards the reference's wording: a right answer in other words scores 0."""
    reference, answer = 'The plural of "mouse" is "mice".', "The plural of mouse is mice, not mouses."
    assert exact_match(answer, reference) == 0.0 and correct(answer, reference, "plural") == 1.0


def test_helpers():
    assert numbers("1,234 and -5 and 2.5 and x3") == [1234.0, -5.0, 2.5]
    assert answer_phrase("The capital is the city of Rome.") == "city of rome"
    assert answer_phrase("") == ""


def test_bad_input_is_a_type_error():
    with pytest.raises(TypeError, match="prediction and reference must be str, got NoneType and str"):
        correct(None, "x", "plural")


ENTRIES = load_instructions()


def test_every_bundled_reference_is_correct_against_itself():
    wrong = [(e["kind"], e["output"]) for e in ENTRIES if correct(e["output"], e["output"], e["kind"]) != 1.0]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_another_reference_of_the_same_kind_is_wrong(kind):
    """Each reference against the next one of its kind: right only when they give the same answer."""
    outputs = [e["output"] for e in ENTRIES if e["kind"] == kind]
    pairs = list(zip(outputs, outputs[1:] + outputs[:1]))
    hits = [(p, r) for p, r in pairs if correct(p, r, kind)]
    if kind == "sentiment":  # two labels: right exactly when the labels agree
        assert len(hits) == sum(("positive" in p) == ("positive" in r) for p, r in pairs)
    else:
        assert len(hits) <= 0.05 * len(pairs), hits[:5]
