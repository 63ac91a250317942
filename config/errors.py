"""Domain errors: what a business rule or state forbids, with a stable machine code.

Every app subclasses `DomainError` once per rule family. The API renders them as RFC 9457 problem
details; the admin shows their message; tasks treat them as final (never retried).
"""


class DomainError(Exception):
    code = "domain_error"
    http_status = 409
    title = "The request conflicts with a business rule"

    def __init__(self, message="", *, code=None, reasons=(), http_status=None, errors=None, extra=None):
        self.message = message or self.title
        self.code = code or self.code
        self.reasons = list(reasons)
        self.http_status = http_status or self.http_status
        self.errors = errors or {}
        self.extra = extra or {}
        super().__init__(self.message)

    def __str__(self):
        if self.reasons:
            return f"{self.message} ({', '.join(self.reasons)})"
        return self.message


class InvalidInputError(DomainError):
    """Input that is well-formed JSON but breaks a rule about its own shape (400)."""

    code = "invalid"
    http_status = 400
    title = "Invalid input"
