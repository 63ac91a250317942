"""Demo data: segments, an organisation of concepts, zones, stores and tills, and 1,000 members."""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from config.actors import Actor

from .models import Member, OrgEntity, PointsEntry, Segment

SEGMENTS = [("vip", "VIP"), ("newsletter", "Newsletter subscribers"), ("students", "Students"), ("staff", "Staff")]
CONCEPTS = [("C-FRESH", "FreshMart", "USD"), ("C-HOME", "HomeStyle", "USD")]
ZONES = [
    ("Z-NORTH", "North", "America/New_York"),
    ("Z-SOUTH", "South", "America/Chicago"),
    ("Z-WEST", "West", "America/Los_Angeles"),
]
MEMBER_COUNT = 1000


@transaction.atomic
def seed(*, stdout, actor: Actor) -> None:
    if Member.objects.filter(external_id="M000001").exists():
        stdout.write("members: demo data present, skipped")
        return
    rng = random.Random(2026)
    segments = [Segment.objects.create(code=code, name=name) for code, name in SEGMENTS]
    concepts = [OrgEntity.objects.create(code=c, name=n, type="concept", currency=cur) for c, n, cur in CONCEPTS]
    zones = [OrgEntity.objects.create(code=c, name=n, type="zone", time_zone=tz) for c, n, tz in ZONES]
    for number in range(1, 7):
        zone = zones[(number - 1) % len(zones)]
        store = OrgEntity.objects.create(
            code=f"S{number:03d}",
            name=f"Store {number}",
            type="store",
            parent=zone,
            concept=concepts[(number - 1) % len(concepts)],
            time_zone=zone.time_zone,
        )
        for till in (1, 2):
            OrgEntity.objects.create(
                code=f"{store.code}-T{till}",
                name=f"{store.name} till {till}",
                type="till",
                parent=store,
                time_zone=zone.time_zone,
            )

    now = timezone.now()
    first_names = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Femi", "Grace", "Hiro", "Ines", "Jon", "Zoë", "Łukasz"]
    last_names = ["Ng", "Smith", "García", "Okafor", "Rossi", "Kim", "Müller", "Dubois", "Silva", "Khan"]
    members = Member.objects.bulk_create(
        Member(
            external_id=f"M{n:06d}",
            email=f"member{n}@example.com",
            mobile=f"+1555{n:07d}",
            user_id=f"user{n}",
            first_name=rng.choice(first_names),
            last_name=rng.choice(last_names),
            birth_date=date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55)),
            registered_at=now - timedelta(days=rng.randrange(0, 1500)),
            status=Member.Status.ACTIVE if n % 25 else Member.Status.INACTIVE,
            transaction_count=rng.randrange(0, 60),
            points_balance=rng.choice([0, 100, 250, 500, 1200, 5000]),
        )
        for n in range(1, MEMBER_COUNT + 1)
    )
    through = Member.segments.through
    through.objects.bulk_create(
        through(member_id=member.pk, segment_id=segment.pk)
        for member in members
        for segment in segments
        if rng.random() < 0.25
    )
    PointsEntry.objects.bulk_create(
        PointsEntry(
            member=member,
            points=member.points_balance,
            balance_after=member.points_balance,
            kind=PointsEntry.Kind.ADJUSTMENT,
            reason="Opening balance",
            actor=actor.name,
            channel=actor.channel,
        )
        for member in members
        if member.points_balance
    )
    stdout.write(f"members: {len(segments)} segments, {OrgEntity.objects.count()} org entities, {len(members)} members")
