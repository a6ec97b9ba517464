"""The fine-tune cross-validation's folds and pooling (bench/policy_finetune_cv.py)."""

from __future__ import annotations

from dataclasses import replace

from bench.policy_finetune_cv import folds_of, pooled, recipe_suffix, scored_variants
from knowledge.embeddings.finetune import RECIPE
from knowledge.policy_index import DEFAULT_FUSION


def test_folds_partition_the_entries_stably() -> None:
    ids = [f"e{i:02d}" for i in range(10)]
    folds = folds_of(list(reversed(ids)), 3)
    assert folds == folds_of(ids, 3)  # order of the corpus does not matter
    assert set().union(*folds) == set(ids)
    assert sum(len(f) for f in folds) == len(ids)  # disjoint
    assert sorted(len(f) for f in folds) == [3, 3, 4]


def test_pooled_recall_weights_each_fold_by_its_questions() -> None:
    def table(r: float, n: int) -> dict[str, object]:
        rates = {"R@1": r, "R@5": r, "R@10": r}
        return {"article": rates, "law": rates, "n": n}

    result = pooled([table(1.0, 3), table(0.0, 1)])
    assert result["n"] == 4
    assert result["law"]["R@5"] == 0.75 and result["article"]["R@1"] == 0.75


def test_a_recipe_other_than_the_default_gets_folders_and_a_report_of_its_own() -> None:
    assert recipe_suffix(RECIPE) == ""  # the default keeps the plain names
    assert recipe_suffix(replace(RECIPE, epochs=RECIPE.epochs + 1)) == f"-epochs{RECIPE.epochs + 1}"
    epochs, rate = RECIPE.epochs + 1, RECIPE.learning_rate * 2
    both = replace(RECIPE, epochs=epochs, learning_rate=rate)
    assert recipe_suffix(both) == f"-epochs{epochs}-learning_rate{rate}"  # in field order


def test_a_diversification_row_is_scored_beside_the_default_fusion() -> None:
    plain = scored_variants()
    assert [(label, method) for label, method, _ in plain] == [
        ("dense", "dense"),
        ("hybrid", "hybrid"),
    ]
    assert all(fusion == DEFAULT_FUSION for _, _, fusion in plain)
    label, method, fusion = scored_variants(DEFAULT_FUSION.diversify_laws + 1)[-1]
    assert method == "hybrid" and str(DEFAULT_FUSION.diversify_laws + 1) in label
    assert fusion == replace(DEFAULT_FUSION, diversify_laws=DEFAULT_FUSION.diversify_laws + 1)
