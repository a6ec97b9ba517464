"""Rasa's logistic-regression intent classifier, safe for messages without text.

Rasa 3.6's ``LogisticRegressionClassifier`` raises on a message that has no features (an
empty or blank text: the tokenizer yields no tokens), and the whole parse fails with a
500. Such messages get no intent here, as DIET gives them, so the FallbackClassifier
turns them into ``nlu_fallback`` and the bot answers with its fallback sentence.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


def _has_features(message: Message) -> bool:
    sparse = message.get_sparse_features(TEXT)[1]
    dense = message.get_dense_features(TEXT)[1]
    return any(f is not None and f.features.shape[-1] > 0 for f in (sparse, dense))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SafeLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` that leaves featureless messages unclassified."""

    def process(self, messages: list[Message]) -> list[Message]:
        featured = [m for m in messages if _has_features(m)]
        if featured:
            super().process(featured)
        classified = {id(m) for m in featured}
        for message in messages:
            if id(message) not in classified:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
