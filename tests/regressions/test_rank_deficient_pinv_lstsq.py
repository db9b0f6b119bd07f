"""`np.linalg.pinv` and `np.linalg.lstsq` of a rank-deficient matrix gave a finite gradient from the
full-rank formula: for A = [[1, 2], [2, 4], [0.5, 1]] (rank 1), d sum(pinv(A)^2)/dA[0, 0] came out
-0.0029 where central differences give about 1e11 (pinv jumps when a perturbation raises the rank),
and lstsq's solution the same. Both are refused now, naming the rank; a full-rank matrix, and a
rank cut-off (`rcond`/`rtol`) that keeps every singular value, still differentiate."""
import numpy as np
import pytest

import dpnb
from dpnb import DifferentiationError
from dpnb.testing import gradcheck

RANK_ONE = np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])
FULL = np.array([[1.0, 2.0], [2.0, -4.0], [0.5, 1.0]])
B = np.array([1.0, 0.3, -0.2])


def pinv_loss(A):
    return np.sum(np.linalg.pinv(A) ** 2)


def lstsq_loss(A):
    return np.sum(np.linalg.lstsq(A, B)[0])


def pinv_cut(A):  # rcond cuts the second singular value of FULL (0.39 of the first)
    return np.sum(np.linalg.pinv(A, rcond=0.9) ** 2)


def pinv_rtol(A):
    return np.sum(np.linalg.pinv(A, rtol=1e-8) ** 2)


def lstsq_cut(A):
    return np.sum(np.linalg.lstsq(A, B, rcond=0.9)[0])


@pytest.mark.parametrize("f", [pinv_loss, lstsq_loss])
def test_rank_deficient_is_refused(f):
    with pytest.raises(DifferentiationError, match=r"rank-deficient matrix \(rank 1 of 2\)"):
        dpnb.gradient(f, RANK_ONE)


@pytest.mark.parametrize("f", [pinv_cut, lstsq_cut])
def test_a_cut_off_singular_value_is_refused(f):
    with pytest.raises(DifferentiationError, match="rank-deficient"):
        dpnb.gradient(f, FULL)


@pytest.mark.parametrize("f", [pinv_loss, lstsq_loss, pinv_rtol])
def test_full_rank_still_differentiates(f):
    assert gradcheck(f, FULL, rtol=1e-5, atol=1e-7)
