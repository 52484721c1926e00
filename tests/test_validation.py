import numpy as np
import pytest

from quantheory import validation as v


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True, None])
def test_positive_int_rejects_with_name_value_and_rule(bad):
    with pytest.raises(ValueError, match=r"N must be an integer >= 1, got"):
        v.positive_int("N", bad)


def test_positive_int_accepts_numpy_integers():
    assert v.positive_int("n", np.int64(7)) == 7


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "x"])
def test_positive_float_rejects(bad):
    with pytest.raises(ValueError, match=r"eta must be a finite number > 0, got"):
        v.positive_float("eta", bad)


def test_nonnegative_float_allows_zero_rejects_negative():
    assert v.nonnegative_float("s", 0) == 0.0
    with pytest.raises(ValueError, match=r"s must be a finite number >= 0, got -0.5"):
        v.nonnegative_float("s", -0.5)


def test_one_of_lists_the_allowed_values():
    with pytest.raises(ValueError, match=r"scale must be one of 'quick', 'full'; got 'huge'"):
        v.one_of("scale", "huge", ("quick", "full"))


def test_real_vector_checks_shape_length_and_finiteness():
    with pytest.raises(ValueError, match=r"v must be a 1-D array, got shape \(2, 2\)"):
        v.real_vector("v", np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"v must have length 4, got length 3"):
        v.real_vector("v", np.ones(3), 4)
    with pytest.raises(ValueError, match=r"v must contain only finite numbers"):
        v.real_vector("v", [1.0, np.nan])


def test_binary_vector_names_the_first_bad_entry():
    with pytest.raises(
        ValueError, match=r"w_star must have entries in \{-1, \+1\}, got 0.5 at index 2"
    ):
        v.binary_vector("w_star", [1, -1, 0.5, 2])
    np.testing.assert_array_equal(v.binary_vector("u", [1, -1]), [1.0, -1.0])
