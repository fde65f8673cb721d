"""The integer Winograd F(2x2, 3x3) identity the Winograd layout relies on (harness/codegen/winograd.py,
firmware/engine/conv_winograd.c): with 2G, A^T [(2G g 2G^T) . (B^T d B)] A is exactly 4x the 2x2
correlation of any int8 filter with any offset input patch, and U, V fit int16 lanes."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.codegen.winograd import WINO_AT, WINO_BT, WINO_V_BOUND, winograd_filters

filters = arrays(np.int64, (3, 3), elements=st.integers(-128, 127))
patches = arrays(np.int64, (4, 4), elements=st.integers(-255, 255))


@settings(max_examples=300, deadline=None)
@given(g=filters, d=patches)
def test_four_times_the_correlation_exactly(g, d):
    u = winograd_filters(g.reshape(1, 3, 3, 1)).reshape(4, 4)
    v = WINO_BT @ d @ WINO_BT.T
    y4 = WINO_AT @ (u * v) @ WINO_AT.T
    direct = np.array([[np.sum(d[i:i + 3, j:j + 3] * g) for j in range(2)] for i in range(2)])
    assert np.array_equal(y4, 4 * direct)
    assert np.abs(u).max() <= 9 * 128 and np.abs(v).max() <= WINO_V_BOUND <= 32767


def test_filter_transform_per_channel_and_position():
    rng = np.random.default_rng(3)
    filt = rng.integers(-128, 128, size=(4, 3, 3, 5))
    u = winograd_filters(filt)
    assert u.shape == (4, 16, 5)
    one = winograd_filters(filt[2:3, :, :, 4:5]).reshape(16)
    assert np.array_equal(u[2, :, 4], one)
