from django.db import models


class Role(models.TextChoices):
    POS = "pos", "Point of sale"
    MEMBER_CARE = "member_care", "Member care"
    MARKETER = "marketer", "Marketer"


ANY_ROLE = frozenset(Role.values)
POS_ONLY = frozenset({Role.POS})
MARKETER_ONLY = frozenset({Role.MARKETER})
STAFF = frozenset({Role.MEMBER_CARE, Role.MARKETER})
TILL_AND_CARE = frozenset({Role.POS, Role.MEMBER_CARE})
