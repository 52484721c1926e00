"""The registry's claim ids are exactly those of the specification."""

import re

import pytest

from quantheory.claims import SPEC_CLAIMS


def test_registry_matches_spec_md(repo_root):
    spec = repo_root.parent / "shared" / "SPEC.md"
    if not spec.is_file():
        pytest.skip("shared/SPEC.md is not beside this checkout")
    ids = set()
    for line in spec.read_text().splitlines():
        if line.startswith("- `"):
            ids.update(re.findall(r"`((?:ste|cg|lr)\.[A-Za-z0-9_]+)`", line.split(":")[0]))
    assert ids == set(SPEC_CLAIMS)
