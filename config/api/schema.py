"""What the OpenAPI schema says of every operation beyond its own serializers: the problem answers."""

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details: `reasons` where business rules failed, `errors` for invalid fields.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable machine code."},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
PROBLEM_RESPONSE = {
    "description": "A problem: 400 malformed input, 401 no or a bad token, 403 outside the role's rights, 404 "
    "unknown object, 405 wrong method, 409 a rule or state forbids it, 413 body too large, 414 URL too long, "
    "415 unsupported body type, 422 an Idempotency-Key reused with another body, 429 too many requests.",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def document_problem_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation may answer a 4xx problem."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("4XX", PROBLEM_RESPONSE)
    return result
