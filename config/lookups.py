"""`field__in_array=[...]`: membership in one array parameter instead of one parameter a value.

An `__in` of thousands of values makes a query with thousands of placeholders, which Django and psycopg build and
parse value by value (about a second for 20,000 values, more than the query itself). PostgreSQL takes the whole
list as one array: `field = ANY(%s::bigint[])`. Elsewhere the lookup is a plain IN of the values; callers keep
lists within the database's variable limit there (SQLite: 32,766).
"""

from django.db.models import Field, ForeignObject, Lookup


class InArray(Lookup):
    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            db_type = self.lhs.output_field.db_type(connection) or ""
            element = "bigint" if "int" in db_type or "serial" in db_type else "text"
            return f"{lhs} = ANY(%s::{element}[])", [*lhs_params, self.rhs]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


Field.register_lookup(InArray)


def int_array_literal(values) -> str:
    """A PostgreSQL array literal of integers, to go as one text parameter of a raw statement: psycopg adapts a
    list parameter value by value in Python, which costs more than the statement on long lists."""
    return "{" + ",".join(map(str, values)) + "}"


ForeignObject.register_lookup(InArray)  # a foreign key's own lookups are separate from its column's
