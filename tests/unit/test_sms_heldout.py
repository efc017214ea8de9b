"""assets.make_sms_heldout and load_sms("heldout_kinds"): a test set of message kinds never seen in training.

The claim to prove is that nothing a bag of words could memorize carries over: the kinds, the
templates, the fact lists and every 5-word sequence of the held-out file are absent from the
training file, and most of its words are unknown to the training vocabulary (while the usual test
split, cut from the training file, is almost entirely known words).
"""

from __future__ import annotations

from collections import Counter

from llmscratch.assets import make_sms, make_sms_heldout
from llmscratch.finetune import spam_data as spamdata
from llmscratch.finetune.baselines import known_word_share, words
from llmscratch.finetune.classify_data import balance_by_undersampling, split_dataset
from llmscratch.finetune.spam_data import load_sms


def _ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def test_committed_file_is_the_generators_output():
    committed = spamdata.HELDOUT_FILE.read_bytes()
    expected = make_sms.to_tsv([(label, text) for label, _, text in make_sms_heldout.make_heldout_messages()])
    assert committed == expected.encode("utf-8"), (
        "assets/sms_heldout_kinds.tsv differs from the generator: run python -m llmscratch.assets.make_sms_heldout"
    )


def test_generator_is_deterministic_and_seeded():
    a = make_sms_heldout.make_heldout_messages(seed=3, n_per_class=20)
    assert a == make_sms_heldout.make_heldout_messages(seed=3, n_per_class=20)
    assert a != make_sms_heldout.make_heldout_messages(seed=4, n_per_class=20)


def test_loader_reads_a_balanced_test_set_of_every_kind():
    data = load_sms("heldout_kinds")
    assert data.source == "heldout_kinds" and "test only" in data.note
    assert Counter(data.labels) == {0: make_sms_heldout.N_PER_CLASS, 1: make_sms_heldout.N_PER_CLASS}
    assert len(set(data.texts)) == len(data.texts)
    kinds = Counter(kind for _, kind, _ in make_sms_heldout.make_heldout_messages())
    assert set(kinds) == set(make_sms_heldout.HAM) | set(make_sms_heldout.SPAM)
    assert min(kinds.values()) >= 8, kinds  # no kind is a token presence


def test_kinds_templates_and_facts_never_occur_in_training():
    training_kinds = set(make_sms.HAM) | set(make_sms.SPAM) | {"ambiguous"}
    assert not training_kinds & set(make_sms_heldout.templates())
    training_templates = {t for _, ts in (*make_sms.HAM.values(), *make_sms.SPAM.values()) for t in ts}
    training_templates |= set(make_sms.AMBIGUOUS) | set(make_sms.OPENERS) | set(make_sms.CLOSERS)
    heldout_templates = {t for ts in make_sms_heldout.templates().values() for t in ts}
    assert not training_templates & heldout_templates
    training_facts = {v.lower() for values in make_sms.FACTS.values() for v in values}
    heldout_facts = {v.lower() for values in make_sms_heldout.FACTS.values() for v in values}
    assert not training_facts & heldout_facts, training_facts & heldout_facts
    assert not set(make_sms_heldout.HOSTS) & set(make_sms.URL_WORDS)


def test_no_message_shares_a_five_word_sequence_with_training():
    training = set().union(*(_ngrams(t, 5) for t in load_sms("bundled").texts))
    shared = [t for t in load_sms("heldout_kinds").texts if _ngrams(t, 5) & training]
    assert not shared, shared[:3]


def test_a_bag_of_words_knows_most_of_the_test_split_but_little_of_the_heldout_kinds():
    """Measured with the chapter's split: about 92% of the test split's word occurrences are in the
    training vocabulary, about 56% of the held-out kinds' (mostly "the", "a", "your", ...)."""
    data = load_sms("bundled")
    split = split_dataset(*balance_by_undersampling(data.texts, data.labels))
    test_share = known_word_share(split.train.texts, split.test.texts)
    heldout_share = known_word_share(split.train.texts, load_sms("heldout_kinds").texts)
    assert test_share > 0.85 and heldout_share < 0.65, (test_share, heldout_share)


def test_heldout_file_is_listed_in_sources():
    sources = (spamdata.ASSET_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert "sms_heldout_kinds.tsv" in sources and "make_sms_heldout" in sources
