"""Which of a model's database constraints an IntegrityError reports, on PostgreSQL and SQLite alike."""

from django.db import IntegrityError, models


def violated_constraint(exc: IntegrityError, model: type[models.Model]) -> str | None:
    """The name of the constraint of `model` that `exc` reports; None for anything else (another model's
    constraint, a NOT NULL, a foreign key)."""
    names = {constraint.name for constraint in model._meta.constraints}
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:  # psycopg names the constraint (or the unique index of a partial one)
        return diag.constraint_name if diag.constraint_name in names else None
    # SQLite names a check constraint, and a unique one by its columns.
    message, table = str(exc), model._meta.db_table
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint) and message == f"CHECK constraint failed: {constraint.name}":
            return constraint.name
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            columns = ", ".join(f"{table}.{model._meta.get_field(name).column}" for name in constraint.fields)
            if message == f"UNIQUE constraint failed: {columns}":
                return constraint.name
    return None
