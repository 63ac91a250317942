from django.db.backends.postgresql import operations
from django.db.backends.postgresql.psycopg_any import is_psycopg3


class DatabaseOperations(operations.DatabaseOperations):
    if is_psycopg3:
        from psycopg.types.numeric import Int2, Int4, Int8

        # The values each of psycopg's sized integer wrappers can carry.
        WRAPPER_BITS = {Int2: 16, Int4: 32, Int8: 64}

        def adapt_integerfield_value(self, value, internal_type):
            """The value typed as its column is, when it fits that type; otherwise a plain int.

            Django types an integer parameter by the model field it belongs to, and for a `Value()` in an
            expression (`F("balance") + points`) by the Python type alone: `integer`. psycopg's binary
            dumpers, which server-side binding uses, then send only the low 32 (or 16) bits, so 2**32 + 5
            arrives as 5 and is stored without an error. A plain int is sent as the smallest type that
            holds it (bigint, else numeric): the server then computes with the whole value, or refuses
            one its column cannot hold ("integer out of range"). Nothing is ever stored other than as sent.
            """
            if value is None or hasattr(value, "resolve_expression"):
                return value
            wrapper = self.integerfield_type_map[internal_type]
            limit = 1 << (self.WRAPPER_BITS[wrapper] - 1)
            if -limit <= value < limit:
                return wrapper(value)
            return int(value)
