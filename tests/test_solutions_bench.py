"""`make bench` must keep working: its runners compute the same gradients.

Only the grading-size cases run here (milliseconds); the timings themselves
are never asserted.
"""
import numpy as np
import pytest

from bench import conv_bench


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bench_runners_agree_on_the_grading_case(dtype):
    name, case, m_sub = conv_bench.CONV_CASES[0]
    assert name == "conv grading" and case == (2, 5, 7, 3, 4, 3, 2, 1)
    runners = conv_bench.conv_runners(case, dtype, m_sub)
    times, error = conv_bench.measure(runners, repeats=1, teaching_repeats=1)
    assert set(times) == set(runners) and all(t > 0 for t in times.values())
    assert error < (1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("mode", ["max", "average"])
def test_bench_pool_runners_agree_on_a_small_case(mode):
    runners = conv_bench.pool_runners((3, 6, 6, 2, 2, 2), mode, np.float64, 1)
    _, error = conv_bench.measure(runners, repeats=1, teaching_repeats=1)
    assert error < 1e-12
