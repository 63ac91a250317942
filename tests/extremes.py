"""The integers every bounded input is tried with: past 32 and 64 bits, negative, and each side of its range."""

from config.ranges import IntegerRange

PROBES = (2**31, 2**32 + 5, 2**63, 2**64 + 5, -1, -(2**31) - 1, -(2**63) - 1)


def outside(allowed: IntegerRange) -> list[int]:
    """The probes that fall outside `allowed`, and the first value past each of its bounds."""
    values = {*PROBES, allowed.min - 1, allowed.max + 1}
    return sorted(value for value in values if value not in allowed)


def inside(allowed: IntegerRange) -> list[int]:
    """Just inside: the bounds themselves."""
    return [allowed.min, allowed.max]
