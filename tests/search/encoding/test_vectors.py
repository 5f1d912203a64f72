"""One implementation of normalising and mixing vectors, shared by the build, the engine and the evaluation."""

import numpy as np
import pytest

from search.encoding.vectors import mix, mix_label, normalise


def test_normalise_gives_unit_rows_and_keeps_zero_rows_finite():
    vectors = normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0.0, 0.0]])
    assert vectors.dtype == np.float32


def test_mix_end_points_are_exactly_the_inputs_and_between_is_the_normalised_sum():
    rng = np.random.default_rng(0)
    image, text = normalise(rng.standard_normal((3, 8))), normalise(rng.standard_normal((3, 8)))
    assert np.array_equal(mix(image, text, 1.0), image) and np.array_equal(mix(image, text, 0.0), text)
    expected = 0.3 * image + 0.7 * text
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(mix(image, text, 0.3), expected, rtol=1e-6)


@pytest.mark.parametrize(("weight", "label"), [(1.0, "image"), (0.9, "0.9·image+0.1·text"), (0.0, "0·image+1·text")])
def test_mix_label(weight, label):
    assert mix_label(weight) == label
