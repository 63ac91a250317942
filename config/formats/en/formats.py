"""How the back office writes dates and times: day first, a 24-hour clock, and the zone named.

Django renders every aware datetime in the current time zone (settings.TIME_ZONE, the program's) and
formats it with DATETIME_FORMAT, in lists, read-only fields and templates alike, so naming the zone here
("3 Dec 2026, 09:14 CET") names it everywhere. `T` is the zone's abbreviation, or its offset where the zone
has none ("-03").
"""

DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
