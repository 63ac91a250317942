"""Redemption at the till: validate, redeem, reverse. The map of the till's routes.

A request goes through two decisions, each taken in one place:

1. How it arrives: `config.api.lean.takes_lean_path` (the HTTP layer's one switch). A POST with a JSON
   body, or none, takes the lean path (`LeanPostApiView.dispatch`: the view's own authentication, role
   and throttles, no DRF Request); anything else takes DRF's full path.
2. How a redemption is written: `coupons.redemption.routes.redeem_route`, from the database and the
   coupon's kind, after the till's one read. `routes.Route` names every route below.

Statements are counted for a cached API client (`API_CLIENT_CACHE_SECONDS`); without the cache the
authenticator adds the client and its stores (two reads).

Each route: when it is taken; by which functions; what statements it runs.

`DRF`: a POST with a form, multipart or other non-JSON body (other methods: 405, or OPTIONS).
    `APIView.dispatch` → `TillApi.post` → `request_data` → DRF's parsers, which refuse it: 415
    `unsupported_media_type`. The authenticator's address check, then the guard's (`handle_exception`).
`BLOCKED`: the client or the store tried too many unknown codes this minute, or the address failed too
    many token authentications. `TillApi.till_input` → `refuse_if_blocked` (before that read, e.g. for bad
    JSON, `TillApi.handle_exception`). The till's read (`till.till_context`) sees a limit reached, then the
    guard reads which one (`attempts.keys_at_limit`): 429 before any input error, nothing written.
`VALIDATE`: `POST /coupons/validate`. `CouponValidateApi.post` → `services.coupon_validate_read`. One
    statement, `till.CONTEXT_AND_COUPON_SQL`: the member, the store and its parent, the limits, the coupon
    with its series. `redemption_facts` adds a read of the series' stores and of the store's lineage when
    the series restricts stores, and a count of the member's redemptions for a multi-use series with
    per-member rules.
`UNKNOWN_CODE`: validate or redeem of a code no coupon has. `CouponValidateApi.post` (`coupon_not_found`)
    or `services.coupon_redeem_read` (409 `coupon_not_found`), then `UnknownCodeGuardMixin.note_unknown`.
    The till's read, then `attempts.attempt_count` (`INSERT … ON CONFLICT DO UPDATE … WHERE attempts <
    limit`) in a transaction; the minute's first attempt deletes old windows, a limit reached writes an
    `UnknownCodeBurst`; 429 instead when a limit was already reached.
`REDEEM_SWAP`: `POST /coupons/redeem` of a once-only coupon on PostgreSQL. `CouponRedeemApi.post` →
    `services.coupon_redeem_read` → `_redeem_by_swap` → `till.redemption_write`. Two statements: the
    till's read, then one data-modifying CTE (`moved` under `status = <the status the rules saw>`,
    `event`, `counted`, `redemption`), atomic on its own; in a transaction when the series has a
    redemption limit, rolled back when the counter refuses. A lost swap writes nothing and goes on as
    `REDEEM_LOCKED`.
`REDEEM_LOCKED`: a multi-use coupon or a lost swap on PostgreSQL, and `services.coupon_redeem` (which is
    given no read). `services._redeem_locked` → `till.redemption_write`. The till's read, then in a
    transaction `till.COUPON_SQL … FOR UPDATE OF c` (the coupon's row locked, not the series'), the facts
    under the lock, and the same CTE (`moved` keeps a multi-use coupon issued).
`REDEEM_ORM`: any redemption on SQLite, which has no data-modifying CTEs. `services._redeem_locked` →
    `till.redemption_write_orm`. The till's read, then in a transaction `till.COUPON_SQL` (no `FOR UPDATE`
    on SQLite: the coupon's conditional `UPDATE` refuses a coupon moved since) and one ORM statement per
    row: the coupon's conditional `UPDATE` (`coupon_transition`) and its event, the redemption, the series
    counter under its limit.

Input errors (400, after the till's read), a store outside the client's scope (403,
`ensure_store_permitted`) and a failing rule (409 with every reason, `_decide`) end a route after its read
and write nothing. Reversal (`RedemptionReverseApi`, `services.redemption_reverse`) always takes DRF's path.

The unknown-code guard (`unknown_code_guard.UnknownCodeGuardMixin`) checks a request once: the till's
read checks the limits alongside the member and store; only a request that ends before that read, or
whose read saw a limit reached, runs the guard's own read.

`make test` on SQLite runs `VALIDATE`, `UNKNOWN_CODE`, `BLOCKED`, `DRF` and `REDEEM_ORM`; the
compare-and-swap (`REDEEM_SWAP`) and the CTE (`REDEEM_LOCKED`) run only on PostgreSQL, which CI runs too
(`tests/coupons/redemption/test_routes.py` drives one request through every route there).
"""
