"""baselines: majority class, bag-of-words logistic regression, and how hard the bundled data is."""

from __future__ import annotations

import pytest

from llmscratch.finetune.baselines import bow_logistic_regression, majority_class_accuracy, words
from llmscratch.finetune.classify_data import balance_by_undersampling, split_dataset
from llmscratch.finetune.spam_data import load_sms


def test_majority_class_uses_the_training_labels():
    assert majority_class_accuracy([1, 1, 0], [0, 0, 1, 1]) == 0.5
    assert majority_class_accuracy([0, 0, 1], [0, 0, 0, 1]) == 0.75
    with pytest.raises(ValueError, match="must not be empty"):
        majority_class_accuracy([], [0])


def test_bow_learns_a_word_it_can_see():
    texts = ["win money now", "see you soon", "win a prize", "dinner at 7", "win win", "love you"] * 3
    labels = [1, 0, 1, 0, 1, 0] * 3
    result = bow_logistic_regression(texts, labels, {"new": (["win big", "see you"], [1, 0])}, steps=100)
    assert result.accuracies == {"train": 1.0, "new": 1.0}
    assert "win" in result.vocab and words("WIN £5!") == ["win", "£5"]
    with pytest.raises(ValueError, match="need as many train labels as texts"):
        bow_logistic_regression(["a"], [])


def test_bundled_data_leaves_room_above_the_bag_of_words_baseline():
    """The data must not be trivially separable (the notebook's point), nor unlearnable."""
    data = load_sms("bundled")
    split = split_dataset(*balance_by_undersampling(data.texts, data.labels))
    result = bow_logistic_regression(
        split.train.texts, split.train.labels, {"test": (split.test.texts, split.test.labels)}
    )
    majority = majority_class_accuracy(split.train.labels, split.test.labels)
    assert 0.4 < majority < 0.6  # balanced
    assert majority + 0.25 < result.accuracies["test"] < 0.95, result.accuracies
