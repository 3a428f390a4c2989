"""Max-pool ties: what central differences give, in the code and in the book's text.

At a window whose maximum is shared by n_tie >= 2 entries, nudging one tied entry up
raises the maximum and nudging it down does not, so the central difference gives
each tied entry 1/2 (not 1/n_tie) and n_tie/2 in total. That is a subgradient of
max only for n_tie = 2: subgradients are weightings that sum to 1. The first
edition said "1/k" (chapter 6) and called central differences subgradients without
that restriction (chapter 5). These tests compute the shares and check that the
chapters state them right; the text checks are shown to reject the first edition.
"""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from solutions import numerical_gradient

ROOT = Path(__file__).resolve().parents[1]
CH5 = "chapters/05_pooling.md"
CH6 = "chapters/06_gradient_checking.md"
FIRST_EDITION = "2edb682"  # last commit with the first-edition wording of both chapters

# The first edition's sentences, verbatim (so the checkers are tested even without git history).
OLD_CH6 = """Three kinks out of twenty-four entries are enough to push the error into "bug"
territory. The same happens with **max-pool ties** (chapter 5): the central
difference gives each of $k$ tied entries $1/k$ of the gradient, while
`pool_backward` gives each of them all of it. Chapter 8 meets both at once, on
the blank background of handwritten digits."""
OLD_CH5 = """*subgradients* are exactly the weightings $(\\lambda, 1 - \\lambda)$ of the tied
entries with $0 \\le \\lambda \\le 1$: weights that sum to one, because moving all
tied entries up together by $\\delta$ moves the maximum by exactly $\\delta$.
First-max routing ($\\lambda = 1$) and central differences ($\\lambda = \\tfrac12$)
are subgradients. The package's choice (both get $1$) is the simplest mask to
write, but it is not one: with $k$ tied maxima it hands on $k\\,dA$."""

COUNT = r"(?:k|r|n|n_\{?\\text\{tie\}\}?)"  # symbols a text might use for the number of tied entries
HALF = re.compile(r"\\t?frac\s*\{?1\}?\s*\{?2\}?|(?<![\d.])1\s*/\s*2(?!\d)|\bhalf\b", re.I)
ONE_OVER_COUNT = re.compile(r"\\t?frac\s*\{1\}\s*\{" + COUNT + r"\}|(?<![\d.])1\s*/\s*" + COUNT + r"(?![\w{])")
NEGATED = re.compile(r"\bnot\W{0,3}$")
TWO_WAY = re.compile(r"two-way|n_\{\\text\{tie\}\}\s*=\s*2|\bk\s*=\s*2|exactly two", re.I)
TOTAL = re.compile(r"n_\{\\text\{tie\}\}\s*/\s*2")


def sentences(markdown):
    """The prose sentences of a chapter (code cells dropped, lines joined within paragraphs)."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    out = []
    for paragraph in re.split(r"\n\s*\n", prose):
        text = " ".join(paragraph.split())
        out += re.split(r"(?<=[.!?])\s+(?=[A-Z*($])", text)
    return out


def share_problems(markdown):
    """Sentences that state the central difference's share of a tied entry wrongly."""
    problems = []
    for s in sentences(markdown):
        low = s.lower()
        if "central difference" not in low or "tied" not in low or "each" not in low:
            continue
        unnegated = [m for m in ONE_OVER_COUNT.finditer(s) if not NEGATED.search(s[:m.start()])]
        if unnegated or not HALF.search(s):
            problems.append(s)
    return problems


def subgradient_problems(markdown):
    """Sentences calling central differences a subgradient at a tie without restricting to two tied entries."""
    return [s for s in sentences(markdown)
            if "central difference" in s.lower() and "subgradient" in s.lower() and not TWO_WAY.search(s)]


def read(path):
    return (ROOT / path).read_text()


@pytest.mark.parametrize("n_tie", [2, 3, 4, 5])
def test_central_differences_give_each_tied_entry_one_half(n_tie):
    rng = np.random.default_rng(n_tie)
    window = rng.uniform(-1.0, 1.0, size=6)
    window[rng.permutation(6)[:n_tie]] = 3.0            # n_tie tied maxima at random places
    window = window.reshape(2, 3)
    tied = window == window.max()
    grad = numerical_gradient(lambda t: np.max(t), window.copy())
    np.testing.assert_allclose(grad[tied], 0.5, rtol=1e-6)
    np.testing.assert_array_equal(grad[~tied], 0.0)
    np.testing.assert_allclose(grad.sum(), n_tie / 2, rtol=1e-6)
    # A subgradient's weights sum to the slope of max when all tied entries rise together.
    delta = 1e-3
    slope = (np.max(window + delta * tied) - np.max(window)) / delta
    assert slope == pytest.approx(1.0)
    assert np.isclose(grad.sum(), slope) == (n_tie == 2)


def test_chapter6_states_one_half_per_tied_entry():
    """Chapter 6 states the share a check sees and points to chapter 5, the one place that
    discusses ties (and gives the total n_tie/2, tested below)."""
    text = read(CH6)
    assert not share_problems(text), share_problems(text)
    stated = [s for s in sentences(text) if "central difference" in s.lower() and "tied" in s.lower()]
    assert any(HALF.search(s) for s in stated), "chapter 6 no longer states the tie share"
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    assert any("central difference" in p and "tied" in p and "sec-ties" in p for p in paragraphs), \
        "chapter 6 should point to chapter 5's discussion of ties where it states the share"


def test_chapter5_restricts_the_subgradient_claim_to_two_way_ties():
    text = read(CH5)
    assert not share_problems(text), share_problems(text)
    assert not subgradient_problems(text), subgradient_problems(text)
    assert any("subgradient" in s and "central difference" in s.lower() and TWO_WAY.search(s)
               for s in sentences(text)), "chapter 5 no longer says when central differences are a subgradient"
    assert TOTAL.search(text), "chapter 5 should give the total n_tie/2"


def test_checks_reject_the_first_edition_sentences():
    assert share_problems(OLD_CH6)
    assert subgradient_problems(OLD_CH5)


@pytest.mark.parametrize("path, check", [(CH6, share_problems), (CH5, subgradient_problems)])
def test_checks_reject_the_first_edition_chapters(path, check):
    """The same checks fail on the chapters as they were before the correction (from git history)."""
    try:
        old = subprocess.run(["git", "-C", str(ROOT), "show", f"{FIRST_EDITION}:{path}"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {FIRST_EDITION} is not in this clone's history")
    assert check(old)
