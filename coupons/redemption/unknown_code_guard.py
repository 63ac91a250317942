"""The unknown-code guard as the API applies it (see `coupons.redemption.guessing`)."""

from django.utils import timezone
from rest_framework import exceptions

from config.api import attempts
from config.api.authentication import TooManyFailedAuthentications, address_key, client_address
from config.api.roles import Role
from coupons.redemption import guessing


class TooManyUnknownCodes(exceptions.Throttled):
    default_code = "too_many_unknown_codes"
    default_detail = "Too many unknown coupon codes from this client or store; wait before trying again."

    def __init__(self, wait):
        super().__init__(wait=wait, detail=self.default_detail, code=self.default_code)


class UnknownCodeGuardMixin:
    """Refuse a client, or a store, that has tried too many unknown codes this minute, before any other work.

    A request is checked once (a view lives for one request): by the first `refuse_if_blocked`, or by the
    view's own statement when it read the limits and found none reached (`block_checked_by_read`).
    """

    block_checked = False

    def block_checked_by_read(self):
        """The request's own statement read the limits (`attempts.at_limit_sql`) and none was reached."""
        self.block_checked = True

    def refuse_if_blocked(self, request, *, store_ids=()):
        """429 when the caller's address, the client or one of the stores is at its limit (one indexed read);
        nothing when this request was checked already."""
        if self.block_checked:
            return
        self.block_checked = True
        now = timezone.now()
        address = address_key(client_address(request))
        keys = [address, *guessing.guard_keys(client=request.user, store_ids=store_ids)]
        blocked = attempts.keys_at_limit(keys, now=now)
        if address in blocked:
            raise TooManyFailedAuthentications(attempts.retry_after_seconds(now))
        if blocked:
            raise TooManyUnknownCodes(attempts.retry_after_seconds(now))

    def note_unknown(self, request, code, *, store_ids):
        """Count an unknown code; 429 instead of the unknown-code answer when a limit was already reached."""
        wait = guessing.unknown_code_note(client=request.user, store_ids=store_ids, code=code)
        if wait is not None:
            raise TooManyUnknownCodes(wait)

    def find_by_code(self, request, code, find):
        """`find(code)` (an object or None), guarded when the caller is a POS client, as a till's lookup is:
        a blocked client or store gets 429 before the read, and an unknown code counts under the client and
        every store in its scope (a lookup by code names no store)."""
        if request.user.role != Role.POS:
            return find(code)
        store_ids = guessing.scope_store_ids(request.user)
        self.refuse_if_blocked(request, store_ids=store_ids)
        found = find(code)
        if found is None:
            self.note_unknown(request, code, store_ids=store_ids)
        return found
