"""Hypothesis strategies for the fields of a till's body, well-formed or not, shared by the tests that check a plain
reading of a body (a purchase's items, a basket's lines) against its DRF serializer."""

from hypothesis import strategies as st

texts = st.one_of(
    st.text(alphabet=st.characters(codec="ascii"), min_size=0, max_size=70),
    st.text(min_size=1, max_size=5),
    st.integers(-5, 5),
    st.none(),
)
prices = st.one_of(
    st.from_regex(r"[0-9]{1,12}(\.[0-9]{0,3})?", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.just(" 1.50"),
)
quantities = st.one_of(st.integers(-2, 100_002), st.booleans(), st.just("3"), st.just(2.0))
