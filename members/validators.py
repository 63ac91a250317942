"""Identifier formats shared by the members API, imports and coupon uploads."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MOBILE_RE = re.compile(r"^\+?[1-9][0-9]{6,14}$")
USER_ID_RE = re.compile(r"^[A-Za-z0-9._@:-]{1,64}$")


def validate_external_id(value):
    if not EXTERNAL_ID_RE.match(value or ""):
        raise ValidationError(
            "External id: 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
            code="invalid_external_id",
        )


def validate_mobile(value):
    if not MOBILE_RE.match(value or ""):
        raise ValidationError(
            "Mobile: 7-15 digits in international form, optionally with a leading +.", code="invalid_mobile"
        )


def validate_user_id(value):
    if not USER_ID_RE.match(value or ""):
        raise ValidationError("User id: 1-64 letters, digits, '.', '_', '@', ':' or '-'.", code="invalid_user_id")


validate_email = EmailValidator(message="Enter a valid email address.", code="invalid_email")


def normalize_mobile(value: str) -> str:
    return re.sub(r"[\s()-]", "", value or "")
