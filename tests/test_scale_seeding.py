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


def test_large_scale_falls_back_to_full_unless_named(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SCALE", "large")
    assert scale.by_scale(quick=1, full=2) == 2
    assert scale.by_scale(quick=1, full=2, large=3) == 3


def test_unknown_scale_name_is_a_readable_error(monkeypatch):
    monkeypatch.setenv("QUANTHEORY_SCALE", "medium")
    with pytest.raises(
        ValueError,
        match=r"QUANTHEORY_SCALE must be one of 'quick', 'full', 'large'; got 'medium'",
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


def test_chapter_seeds_follow_the_master_seed(monkeypatch):
    monkeypatch.delenv("QUANTHEORY_SEED", raising=False)
    assert seeding.master_seed() == 0
    default = seeding.chapter_seed(11)
    assert seeding.describe(default) == "0/11"
    draw = lambda s: seeding.generator(s).standard_normal(3)  # noqa: E731
    assert not np.array_equal(draw(default), draw(seeding.chapter_seed(12)))
    monkeypatch.setenv("QUANTHEORY_SEED", "7")
    other = seeding.chapter_seed(11)
    assert seeding.describe(other) == "7/11"
    assert not np.array_equal(draw(default), draw(other))
    np.testing.assert_array_equal(draw(other), draw(seeding.chapter_seed(11)))


@pytest.mark.parametrize("text", ["-1", "seven", "1.5"])
def test_master_seed_errors_are_readable(monkeypatch, text):
    monkeypatch.setenv("QUANTHEORY_SEED", text)
    with pytest.raises(ValueError, match=r"QUANTHEORY_SEED must be a non-negative integer"):
        seeding.master_seed()


def test_the_master_seed_is_part_of_the_cache_fingerprint(monkeypatch):
    from quantheory.memo import package_fingerprint

    monkeypatch.setenv("QUANTHEORY_SEED", "0")
    first = package_fingerprint()
    monkeypatch.setenv("QUANTHEORY_SEED", "1")
    assert package_fingerprint() != first
