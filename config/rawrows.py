"""Model instances from hand-written SQL, converted exactly as the ORM converts them.

A hot path that joins several tables in one statement selects `ModelColumns(Model, "alias").sql` for
each model and turns its slice of the row back into an instance with `build`. Values pass through the
same database and field converters the ORM's compiler applies (JSON text, SQLite dates and decimals),
so the instances equal what a queryset would have returned, on every backend.
"""

from django.db import connections


class ModelColumns:
    """Every concrete column of `model` under a table alias, and the instance back from a row slice."""

    def __init__(self, model, alias: str):
        self.model = model
        self.alias = alias
        self.fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in self.fields]
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in self.fields)
        self.width = len(self.fields)
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self._converters: dict[str, list] = {}

    def converters(self, connection) -> list:
        """(index, converter functions, expression) for each column that needs converting on this backend."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if functions:
                    found.append((index, functions, column))
            self._converters[connection.vendor] = found
        return found

    def build(self, row, start: int = 0, using: str = "default"):
        """The instance in row[start:start + width], or None when its primary key is NULL (an outer join)."""
        values = list(row[start : start + self.width])
        if values[self.pk_index] is None:
            return None
        connection = connections[using]
        for index, functions, column in self.converters(connection):
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        return self.model.from_db(using, self.attnames, values)
