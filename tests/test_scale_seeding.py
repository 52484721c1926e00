import numpy as np
import pytest

from quantheory import scale, seeding


def test_default_scale_is_full(monkeypatch):
    monkeypatch.delenv("QUANTHEORY_SCALE", raising=False)
    assert scale.current_scale() == "full"
    assert scale.by_scale(quick=1, full=2) == 2


def test_scale_from_environment(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SCALE", "quick")
    assert scale.by_scale(quick=1, full=2) == 1


def test_unknown_scale_name_is_a_readable_error(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SCALE", "medium")
    with pytest.raises(
        ValueError, match=r"QUANTHEORY_SCALE must be one of 'quick', 'full'; got 'medium'"
    ):
        scale.current_scale()
    with pytest.raises(ValueError, match=r"scale must be one of"):
        scale.by_scale(quick=1, full=2, scale="tiny")


def test_spawn_is_deterministic_and_independent_of_later_names():
    a = seeding.spawn(7, ["x", "y"])
    b = seeding.spawn(7, ["x", "y", "z"])
    draw = lambda s: seeding.generator(s).standard_normal(3)  # noqa: E731
    np.testing.assert_array_equal(draw(a["x"]), draw(b["x"]))
    assert not np.array_equal(draw(a["x"]), draw(a["y"]))
    assert seeding.describe(a["y"]) == "7/1"


def test_seed_errors():
    with pytest.raises(
        ValueError, match=r"seed must be a non-negative integer or a SeedSequence, got -1"
    ):
        seeding.seed_sequence(-1)
    with pytest.raises(ValueError, match=r"names must be distinct"):
        seeding.spawn(1, ["a", "a"])
