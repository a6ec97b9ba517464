"""`make eval`: NLU 5-fold cross-validation, out-of-domain rejection, policy retrieval and answer quality."""

from __future__ import annotations

import sys

from scripts.steps import run_steps

STEPS = [
    ("NLU 5-fold cross-validation", "bench.nlu_cv", []),
    ("Out-of-domain utterances", "bench.nlu_ood", []),
    ("Policy retrieval (LawBench, LegalQA)", "bench.policy_eval", []),
    ("Policy answers (held-out questions)", "bench.policy_answers", []),
]

if __name__ == "__main__":
    sys.exit(run_steps("make eval", STEPS))
