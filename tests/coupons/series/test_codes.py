import itertools

import pytest

from coupons.series.codes import (
    ALPHANUMERIC,
    NUMERIC,
    CodeGenerator,
    CodeSpace,
    Encoder,
    Permutation,
    randomized_common_space,
)


@pytest.mark.parametrize(("radix", "length"), [(10, 3), (10, 4), (10, 5), (36, 3)])
def test_permutation_is_a_bijection_of_the_whole_space(radix, length):
    perm = Permutation(key="k1", radix=radix, length=length)
    values = [perm(n) for n in range(perm.size)]
    assert sorted(values) == list(range(perm.size))
    assert all(perm.inverse(v) == n for n, v in enumerate(values[:2000]))


def test_permutation_depends_on_the_key_and_is_not_sequential():
    a = Permutation(key="series-a", radix=36, length=8)
    b = Permutation(key="series-b", radix=36, length=8)
    first = [a(n) for n in range(50)]
    assert first != [b(n) for n in range(50)]
    gaps = [abs(y - x) for x, y in itertools.pairwise(first)]
    assert min(gaps) > 1  # neighbouring positions are far apart
    assert a(7) == Permutation(key="series-a", radix=36, length=8)(7)  # deterministic


def test_permutation_refuses_positions_outside_the_space():
    perm = Permutation(key="k", radix=10, length=4)
    with pytest.raises(ValueError):
        perm(10_000)


def test_encoder_round_trips_with_prefix():
    encode = Encoder(alphabet=ALPHANUMERIC, length=5, prefix="TEST")
    assert encode(0) == "TEST00000"
    assert encode(36**5 - 1) == "TESTZZZZZ"
    assert encode.decode(encode(123_456)) == 123_456
    assert Encoder(alphabet=NUMERIC, length=7)(42) == "0000042"


def test_generator_codes_are_unique_and_fixed_length():
    generator = CodeGenerator(key="x", space=CodeSpace(alphabet=NUMERIC, length=6))
    codes = list(generator.codes(0, 20_000))
    assert len(set(codes)) == 20_000
    assert {len(c) for c in codes} == {6}
    assert generator.code(123) == codes[123]


def test_randomized_common_space_keeps_the_first_half_of_the_sample():
    space = randomized_common_space("TEST12345")
    assert (space.prefix, space.length, space.alphabet) == ("TEST", 5, ALPHANUMERIC)
    ten = randomized_common_space("ab34567890")
    assert ten.prefix == "AB345" and ten.size == 36**5
    numeric = randomized_common_space("12345")
    assert (numeric.prefix, numeric.length, numeric.alphabet) == ("12", 3, NUMERIC)


@pytest.mark.parametrize(
    ("alphabet", "length", "prefix"),
    [(ALPHANUMERIC, 10, ""), (NUMERIC, 6, ""), (ALPHANUMERIC, 5, "SUMR2"), (NUMERIC, 1, ""), (ALPHANUMERIC, 12, "")],
)
def test_codes_vectorised_batch_equals_the_scalar_codes(alphabet, length, prefix):
    generator = CodeGenerator(key="k-vector", space=CodeSpace(alphabet=alphabet, length=length, prefix=prefix))
    size = generator.space.size
    start = max(0, min(size - 600, 123_456))
    batch = generator.codes(start, min(600, size))
    assert batch == [generator.code(n) for n in range(start, start + min(600, size))]
    assert len(set(batch)) == len(batch)
