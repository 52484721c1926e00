"""Every claim id the book checks has a registered mutation that makes it fail.

A mutation test is marked ``@pytest.mark.mutation("claim.id", ...)``: it breaks
the claim's prediction, constant, exponent, dependence or hypothesis the way a
wrong theorem or a wrong implementation would, and asserts that the claim then
fails. This test reads the marks from the test sources (so it sees them all,
whichever tests are selected) and the claim ids from the package source.
"""

from __future__ import annotations

import ast
import re

from quantheory.claims import SPEC_CLAIMS

CLAIM_ID_IN_SOURCE = re.compile(r'\bid="((?:ste|cg|lr)\.[A-Za-z0-9_]+)"')


def registered_mutations(tests_dir) -> dict[str, list[str]]:
    """Claim id -> names of the tests marked as its mutations."""
    found: dict[str, list[str]] = {}
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and ast.unparse(decorator.func) == "pytest.mark.mutation"
                ):
                    for arg in decorator.args:
                        found.setdefault(arg.value, []).append(f"{path.name}::{node.name}")
    return found


def claims_in_package(src_dir) -> set[str]:
    """Claim ids that the package's claim functions record."""
    ids: set[str] = set()
    for path in src_dir.rglob("*.py"):
        ids.update(CLAIM_ID_IN_SOURCE.findall(path.read_text()))
    return ids


def test_every_claim_in_the_book_has_a_mutation(repo_root):
    mutated = registered_mutations(repo_root / "tests")
    checked = claims_in_package(repo_root / "src" / "quantheory")
    without = sorted(checked - set(mutated))
    assert not without, f"claim ids with no registered mutation: {without}"


def test_every_spec_id_in_the_book_is_covered(repo_root):
    """The specification's ids that a chapter checks are all mutated (the rest are missing)."""
    mutated = registered_mutations(repo_root / "tests")
    checked = claims_in_package(repo_root / "src" / "quantheory")
    assert set(SPEC_CLAIMS) & checked <= set(mutated)


def test_mutation_marks_name_real_claims(repo_root):
    mutated = registered_mutations(repo_root / "tests")
    checked = claims_in_package(repo_root / "src" / "quantheory")
    unknown = sorted(set(mutated) - checked - set(SPEC_CLAIMS))
    assert not unknown, f"mutation marks name claim ids that do not exist: {unknown}"


def test_the_error_budget_covers_every_claim(repo_root):
    """The budget is split over at most STATISTICAL_CLAIMS_IN_BOOK claims; the book has fewer."""
    from quantheory.stats import STATISTICAL_CLAIMS_IN_BOOK

    checked = claims_in_package(repo_root / "src" / "quantheory")
    assert len(checked | set(SPEC_CLAIMS)) <= STATISTICAL_CLAIMS_IN_BOOK
