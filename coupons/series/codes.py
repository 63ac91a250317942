"""Coupon codes as a keyed permutation of the code space.

The n-th code of a series is `encode(perm(n))`, where `perm` is a Feistel network over exactly the
integers [0, radix**length) with round keys derived from the series' secret key. A permutation never
repeats a value, so a series needs no retry loop and no look-up to make a fresh code; neighbouring
positions give unrelated codes, so codes are neither sequential nor guessable from one another.

The network works on two halves with radixes radix**u and radix**v (u + v = length): each round adds
a keyed hash of one half to the other, modulo that half's size, and swaps them (the numeral-string
Feistel of NIST FF1, with a fast keyed mixer as round function). It lands exactly inside the space, so
there is no cycle walking.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

NUMERIC = "0123456789"
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHARSETS = {"numeric": NUMERIC, "alphanumeric": ALPHANUMERIC}
ROUNDS = 6
_MASK = (1 << 64) - 1
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53

# The marketer is warned once a random guess would hit a live code more often than this.
GUESS_WARNING_ODDS = 1e-3


@dataclass(frozen=True)
class CodeSpace:
    alphabet: str
    length: int  # of the generated part
    prefix: str = ""

    @property
    def size(self) -> int:
        return len(self.alphabet) ** self.length


class Permutation:
    """perm(n) over [0, radix**length) for one secret key."""

    def __init__(self, *, key: str, radix: int, length: int):
        self.u = length // 2
        self.v = length - self.u
        self.mu = radix**self.u
        self.mv = radix**self.v
        self.size = self.mu * self.mv
        digest = hashlib.blake2b(f"{key}:{radix}:{length}".encode(), digest_size=8 * ROUNDS).digest()
        self.keys = [int.from_bytes(digest[8 * i : 8 * i + 8], "big") for i in range(ROUNDS)]

    def __call__(self, n: int) -> int:
        if not 0 <= n < self.size:
            raise ValueError(f"position {n} is outside the code space of {self.size}")
        mu, mv = self.mu, self.mv
        a, b = divmod(n, mv)
        for k in self.keys:
            x = (b ^ k) * _C1 & _MASK
            x ^= x >> 32
            x = x * _C2 & _MASK
            x ^= x >> 29
            a, b = b, (a + x) % mu
            mu, mv = mv, mu
        return a * mv + b

    def inverse(self, value: int) -> int:
        # Undo the rounds in reverse: after an even number of rounds the halves are back in order.
        sizes = []
        mu, mv = self.mu, self.mv
        for _ in self.keys:
            sizes.append(mu)
            mu, mv = mv, mu
        a, b = divmod(value, mv)
        for k, size in zip(reversed(self.keys), reversed(sizes), strict=True):
            x = (a ^ k) * _C1 & _MASK
            x ^= x >> 32
            x = x * _C2 & _MASK
            x ^= x >> 29
            a, b = (b - x) % size, a
        return a * self.mv + b


class Encoder:
    """Fixed-length strings over an alphabet, via a table of 3-character chunks (fast for millions)."""

    CHUNK = 3

    def __init__(self, *, alphabet: str, length: int, prefix: str = ""):
        self.alphabet = alphabet
        self.length = length
        self.prefix = prefix
        self.chunk = min(self.CHUNK, length)
        self.chunk_size = len(alphabet) ** self.chunk
        self.table = _chunk_table(alphabet, self.chunk)
        self.head = length - self.chunk * (length // self.chunk)
        self.head_table = _chunk_table(alphabet, self.head) if self.head else None

    def __call__(self, value: int) -> str:
        parts = []
        for _ in range(self.length // self.chunk):
            value, rest = divmod(value, self.chunk_size)
            parts.append(self.table[rest])
        if self.head_table is not None:
            parts.append(self.head_table[value])
        parts.append(self.prefix)
        return "".join(reversed(parts))

    def decode(self, code: str) -> int:
        body = code[len(self.prefix) :]
        value = 0
        radix = len(self.alphabet)
        for char in body:
            value = value * radix + self.alphabet.index(char)
        return value


@lru_cache(maxsize=8)
def _chunk_table(alphabet: str, width: int) -> tuple[str, ...]:
    radix = len(alphabet)
    table = []
    for value in range(radix**width):
        chars = []
        for _ in range(width):
            value, digit = divmod(value, radix)
            chars.append(alphabet[digit])
        table.append("".join(reversed(chars)))
    return tuple(table)


class CodeGenerator:
    """The codes of one series: `code(n)` is its n-th code; `codes(start, count)` streams a range."""

    def __init__(self, *, key: str, space: CodeSpace):
        self.space = space
        self.permutation = Permutation(key=key, radix=len(space.alphabet), length=space.length)
        self.encoder = Encoder(alphabet=space.alphabet, length=space.length, prefix=space.prefix)

    def code(self, n: int) -> str:
        return self.encoder(self.permutation(n))

    def codes(self, start: int, count: int) -> list[str]:
        """Codes start … start+count-1: vectorised when the space fits in 63 bits (bulk issuance makes
        millions, and the scalar loop costs about 6 µs a code), else one by one. Both give the same codes."""
        if count >= VECTOR_MIN and self.permutation.size < 1 << 63:
            return _vector_codes(self.permutation, self.space, start, count)
        perm, encode = self.permutation, self.encoder
        return [encode(perm(n)) for n in range(start, start + count)]


VECTOR_MIN = 256


def _vector_codes(permutation: Permutation, space: CodeSpace, start: int, count: int) -> list[str]:
    """The scalar Permutation and Encoder over a numpy range, in wrapping uint64 arithmetic."""
    one = np.uint64
    mu, mv = one(permutation.mu), one(permutation.mv)
    n = np.arange(start, start + count, dtype=np.uint64)
    a, b = n // mv, n % mv
    for key in permutation.keys:
        x = (b ^ one(key)) * one(_C1)
        x ^= x >> one(32)
        x = x * one(_C2)
        x ^= x >> one(29)
        a, b = b, (a + x % mu) % mu  # (a + x) mod mu without overflowing 64 bits
        mu, mv = mv, mu
    values = a * mv + b
    radix = one(len(space.alphabet))
    alphabet = np.frombuffer(space.alphabet.encode(), dtype=np.uint8)
    chars = np.empty((count, space.length), dtype=np.uint8)
    for column in range(space.length - 1, -1, -1):
        chars[:, column] = alphabet[values % radix]
        values //= radix
    body = chars.view(f"S{space.length}").ravel().astype(f"U{space.length}").tolist()
    return [space.prefix + code for code in body] if space.prefix else body


def randomized_common_space(sample_code: str) -> CodeSpace:
    """A randomized common series: the sample's first half is fixed, the rest comes from the permutation."""
    sample = sample_code.upper()
    alphabet = NUMERIC if sample.isdigit() else ALPHANUMERIC
    fixed = len(sample) // 2
    return CodeSpace(alphabet=alphabet, length=len(sample) - fixed, prefix=sample[:fixed])


def series_code_space(series) -> CodeSpace | None:
    """The generated code space of a series, or None when its codes are not generated (common, upload)."""
    if series.code_mode == "unique":
        return CodeSpace(alphabet=CHARSETS[series.code_charset or "alphanumeric"], length=series.code_length)
    if series.code_mode == "randomized_common":
        alphabet = NUMERIC if series.code_charset == "numeric" else ALPHANUMERIC
        return CodeSpace(alphabet=alphabet, length=series.code_length, prefix=series.code_prefix or "")
    return None


def series_generator(series) -> CodeGenerator:
    return CodeGenerator(key=series.code_key, space=series_code_space(series))


CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
