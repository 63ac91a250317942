"""The API's request parsers: DRF's, refusing what no view can take as a 400 (or 413) problem.

- JSON is read as UTF-8 (RFC 8259), nested at most `MAX_JSON_DEPTH` levels (deeper answers 400, never a
  RecursionError), and no string in it, key or value, may hold a NUL or a lone surrogate (`config.text`):
  the answer is 400 with `errors` naming where, as a character field would.
- Form and multipart bodies: the same rule for their field names, values and file names.

`parse_json` is the one JSON reader, used by these parsers and by the till's lean path.
"""

import json
import re

from rest_framework import exceptions, parsers, status
from rest_framework.utils.json import strict_constant

from config.text import forbidden_character_message

MAX_JSON_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than this API accepts."


class TooDeeplyNested(exceptions.ParseError):
    default_code = "too_deeply_nested"
    default_detail = f"JSON may be nested at most {MAX_JSON_DEPTH} levels deep."


def parse_json(body: bytes):
    """The JSON document in `body`, or a 400 problem (ParseError or ValidationError)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise exceptions.ParseError(f"JSON parse error - not UTF-8: {exc.reason} at byte {exc.start}.") from None
    try:
        data = json.loads(text, parse_constant=strict_constant)
    except RecursionError:
        raise TooDeeplyNested() from None
    except ValueError as exc:
        raise exceptions.ParseError(f"JSON parse error - {exc}") from None
    # A NUL or a lone surrogate can only come in as a \u escape of one (a raw NUL is not JSON, a raw surrogate
    # not UTF-8), and the depth cannot pass the count of brackets: most bodies need no walk of their strings,
    # and small ones no walk at all.
    if FORBIDDEN_ESCAPE.search(text) is not None:
        _check_texts(data)
    elif text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_depth(data)
    return data


# `\u0000` or a surrogate's escape (`\ud800` to `\udfff`, a pair's halves too): the only ways in for what
# `config.text` forbids. A match that turns out harmless (an escaped backslash before `u0000`, an emoji's pair)
# only costs the walk.
FORBIDDEN_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _check_depth(data) -> None:
    """Refuse a body nested deeper than MAX_JSON_DEPTH; only its arrays and objects are visited."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if depth == MAX_JSON_DEPTH:
            raise TooDeeplyNested()
        for item in value.values() if type(value) is dict else value:
            if type(item) is dict or type(item) is list:
                pending.append((item, depth + 1))


def _check_texts(data) -> None:
    """Walk the body for its depth and for forbidden characters in its strings, keys and values, naming where."""
    pending = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value, path or "non_field_errors")
        elif isinstance(value, dict | list):
            if depth == MAX_JSON_DEPTH:
                raise TooDeeplyNested()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, path or "non_field_errors")
                pending.append((item, f"{path}.{key}" if path else str(key), depth + 1))


def _check_text(value: str, where: str) -> None:
    message = forbidden_character_message(value)
    if message is not None:
        raise exceptions.ValidationError({where: [message]}, code="invalid")


def check_form(data, files=None) -> None:
    """Refuse a form or multipart body whose field names, values or file names hold forbidden characters."""
    for name, values in data.lists():
        _check_text(name, "non_field_errors")
        for value in values:
            if isinstance(value, str):
                _check_text(value, name)
    for name, uploaded in (files or {}).items():
        _check_text(name, "non_field_errors")
        _check_text(uploaded.name or "", name)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return parse_json(stream.read())


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        check_form(parsed.data, parsed.files)
        return parsed
