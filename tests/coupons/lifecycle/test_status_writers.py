"""Only coupons/lifecycle/ writes a coupon's status: a scan of the coupons package keeps it so.

The scan reads every module of the package outside coupons/lifecycle/ and reports each statement that
could change `Coupon.status` or `last_status_change_on` on an existing row: a queryset `update` (or
`update_or_create`, `bulk_update`, `save(update_fields=…)`) naming either column or passing `**fields` it
cannot see into, an assignment to either attribute, and an SQL `UPDATE` of the coupon table whose SET
names either column. Writes on another model (an upload's or a bulk job's status) are not the coupon's;
creating a coupon in its first status is not a transition, so constructors and `create` stay allowed.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

import coupons

COUPONS = Path(coupons.__file__).parent
LIFECYCLE = COUPONS / "lifecycle"
MOVE_COLUMNS = frozenset({"status", "last_status_change_on"})
QUERYSET_WRITES = frozenset({"update", "update_or_create"})
# A call chain that starts at another model's name (`Upload.objects.filter(…).update(status=…)`) is
# about that model; any other start (`Coupon…`, a queryset in a variable) may be a coupon's.
OTHER_MODELS = frozenset(model.__name__ for model in apps.get_models()) - {"Coupon"}
SQL_UPDATE_OF_COUPONS = re.compile(
    r"UPDATE\s+(?:\"?coupons_coupon\"?(?!\w)|\{Coupon\._meta\.db_table\}|\{COUPON_TABLE\})\s+SET\s+(.*?)(?:\bWHERE\b|\)|$)",
    re.IGNORECASE | re.DOTALL,
)
SETS_A_MOVE_COLUMN = re.compile(r"\b(?:status|last_status_change_on)\s*=", re.IGNORECASE)


def _chain_root(node) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_a_move_column(node) -> bool:
    return any(isinstance(n, ast.Constant) and n.value in MOVE_COLUMNS for n in ast.walk(node))


def _call_writes(call: ast.Call) -> bool:
    if not isinstance(call.func, ast.Attribute):
        return call.func.id == "setattr" and _names_a_move_column(call) if isinstance(call.func, ast.Name) else False
    method = call.func.attr
    if _chain_root(call.func.value) in OTHER_MODELS:
        return False
    if method in QUERYSET_WRITES:
        return any(
            keyword.arg is None
            or keyword.arg in MOVE_COLUMNS
            or (keyword.arg == "defaults" and _names_a_move_column(keyword.value))
            for keyword in call.keywords
        )
    if method == "bulk_update":
        return any(_names_a_move_column(arg) for arg in call.args[1:]) or any(
            keyword.arg == "fields" and _names_a_move_column(keyword.value) for keyword in call.keywords
        )
    if method == "save":
        return any(keyword.arg == "update_fields" and _names_a_move_column(keyword.value) for keyword in call.keywords)
    return False


def _assigned_attributes(node) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    found = []
    for target in targets:
        for part in ast.walk(target):
            if isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store):
                found.append(part.attr)
    return found


def _writes(node) -> bool:
    if isinstance(node, ast.Call):
        return _call_writes(node)
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        return bool(MOVE_COLUMNS & set(_assigned_attributes(node)))
    return False


def status_writes(source: str) -> list[int]:
    """The lines of `source` that may write a coupon's status or its time."""
    lines = {node.lineno for node in ast.walk(ast.parse(source)) if _writes(node)}
    for match in SQL_UPDATE_OF_COUPONS.finditer(source):
        if SETS_A_MOVE_COLUMN.search(match.group(1)):
            lines.add(source.count("\n", 0, match.start()) + 1)
    return sorted(lines)


def test_only_the_lifecycle_package_writes_a_coupon_status():
    outside = [path for path in sorted(COUPONS.rglob("*.py")) if LIFECYCLE not in path.parents]
    assert len(outside) > 20  # the scan really reads the package
    found = {
        f"{path.relative_to(COUPONS.parent)}:{line}": path.read_text().splitlines()[line - 1].strip()
        for path in outside
        for line in status_writes(path.read_text())
    }
    assert found == {}


def test_the_lifecycle_package_is_where_the_writes_are():
    # The scan finds the writers themselves, so an empty answer above is not a blind scan.
    assert status_writes((LIFECYCLE / "status.py").read_text())
    assert status_writes((LIFECYCLE / "statements.py").read_text())


@pytest.mark.parametrize(
    "source",
    [
        'Coupon.objects.filter(pk=1).update(status="redeemed")',
        "rows.update(last_status_change_on=now)",
        "Coupon.objects.filter(pk=pk, status=old).update(**fields)",
        'Coupon.objects.update_or_create(code="X", defaults={"status": "issued"})',
        'Coupon.objects.bulk_update(coupons, ["status"])',
        'coupon.save(update_fields=["status", "member"])',
        'coupon.status = "expired"',
        "coupon.status, coupon.last_status_change_on = to, now",
        'setattr(coupon, "status", to)',
        'SQL = "UPDATE coupons_coupon SET status = %s WHERE id = %s"',
        'SQL = f"UPDATE {Coupon._meta.db_table} SET is_reversed = true, last_status_change_on = %s WHERE id = %s"',
        'SQL = """moved AS (UPDATE "coupons_coupon" SET\n    status = %s\n WHERE id = %s)"""',
    ],
)
def test_the_scan_finds_a_status_write(source):
    assert status_writes(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        'Upload.objects.filter(pk=1).update(status="failed")',
        'BulkIssueJob.objects.filter(pk=1).update(status="running", heartbeat_at=now)',
        "CouponSeries.objects.filter(pk=1).update(issued_count=F('issued_count') + 1)",
        "Coupon.objects.filter(pk=1).update(is_reversed=False)",
        'Coupon.objects.create(code="X", status="unissued")',
        'Coupon(code="X", status="issued", last_status_change_on=now)',
        'out.update(discount_type="fixed")',
        'SQL = f"UPDATE {Coupon._meta.db_table} SET is_reversed = false WHERE id = %s AND status = %s"',
        'SQL = "UPDATE coupons_couponseries SET status = %s"',
    ],
)
def test_the_scan_leaves_other_writes_alone(source):
    assert status_writes(source) == []
