"""Choosing examples (pure): similar to the problem, and diverse among themselves (maximal marginal relevance)."""

from __future__ import annotations

from nemo_lsp.memory.retrieve import problem_text, select, similarity, terms

from .support import EXAMPLES, read

SHIPPING = "Ship steel coils from the plants to the markets at least shipping cost; each plant has a supply."
SHIPPING_AGAIN = "Ship steel coils from the plants to the markets at least shipping cost; every plant has a limited supply."
MENU = "Plan the daily menu: servings of each food meeting the protein and calcium needs."
QUERY = ("Ship steel coils from plants to markets at the least shipping cost within each plant supply, and plan "
         "the daily menu of food servings.")


def test_the_most_similar_problem_is_picked_first() -> None:
    candidates = {name: terms(read(EXAMPLES / f"{name}.opt.md"))
                  for name in ("diet", "transportation", "knapsack", "shift-scheduling")}
    query = terms("Choose how many servings of each food to eat: enough energy, protein and calcium, "
                  "at the lowest price, with a limit of servings per food.")
    assert select(query, candidates, k=1)[0].id == "diet"


def test_a_near_duplicate_of_a_picked_example_loses_to_a_different_relevant_one() -> None:
    candidates = {"shipping": terms(SHIPPING), "shipping-again": terms(SHIPPING_AGAIN), "menu": terms(MENU)}
    query = terms(QUERY)
    assert similarity(query, candidates["shipping-again"]) > similarity(query, candidates["menu"])

    diverse = [p.id for p in select(query, candidates, k=2, diversity=0.5)]
    by_relevance = [p.id for p in select(query, candidates, k=2, diversity=0.0)]

    assert diverse[1] == "menu"
    assert set(by_relevance) == {"shipping", "shipping-again"}


def test_the_score_is_similarity_minus_lambda_times_similarity_to_those_already_picked() -> None:
    candidates = {"shipping": terms(SHIPPING), "shipping-again": terms(SHIPPING_AGAIN), "menu": terms(MENU)}
    first, second = select(terms(QUERY), candidates, k=2, diversity=0.5)
    assert first.score == first.relevance
    redundancy = similarity(candidates[second.id], candidates[first.id])
    assert abs(second.score - (second.relevance - 0.5 * redundancy)) < 1e-12


def test_a_problem_sharing_no_words_is_never_picked() -> None:
    candidates = {"menu": terms(MENU), "unrelated": terms("Quantum chromodynamics lattice gauge")}
    assert [p.id for p in select(terms(MENU), candidates, k=2)] == ["menu"]


def test_k_zero_picks_nothing() -> None:
    assert select(terms(MENU), {"menu": terms(MENU)}, k=0) == []


def test_the_problem_text_leaves_out_front_matter_and_fenced_blocks() -> None:
    text = problem_text(read(EXAMPLES / "diet.opt.md"))
    assert "expect:" not in text and "minimize:" not in text
    assert "Polly" in text
    assert terms("Foods and FOODS, the stories")["food"] == 2
    assert "the" not in terms("the stories")
