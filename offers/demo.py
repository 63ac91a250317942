"""Demo offers: one of each kind the program runs, plus some activations and purchases that earned."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from config.actors import Actor
from members.models import Member, OrgEntity, Segment
from offers import services
from offers.models import Offer, OfferResponse
from offers.responses import services as response_services


def _spend(min_amount, points=None, per_unit=None):
    award = {"award_type": "points", "points": points} if points else {"award_type": "points_per_unit"}
    if per_unit:
        award["points_per_unit"] = per_unit
    return {"behavior_type": "spend", "min_amount": Decimal(min_amount), **award}


def _product(sku, min_quantity=1, points=None, per_unit=None):
    mechanism = {"behavior_type": "purchase_product", "sku": sku, "min_quantity": min_quantity}
    if points:
        return {**mechanism, "award_type": "points", "points": points}
    return {**mechanism, "award_type": "points_per_unit", "points_per_unit": per_unit}


def _content(title, description=""):
    return [
        {"locale": "en-US", "title": title, "description": description, "image_url": ""},
        {"locale": "es-US", "title": f"{title} (ES)", "description": description, "image_url": ""},
    ]


def _offers(now, segments):
    day = timedelta(days=1)
    return [
        dict(
            external_id="DEMO-MILK-2X",
            name="Buy 2 milk, get 50 points",
            category="dairy",
            publish_at=now - 30 * day,
            expire_at=now + 60 * day,
            earning_mechanism=_product("MILK-1L", min_quantity=2, points=50),
            limits=[{"scope": "member", "kind": "fulfillment", "max_count": 4}],
            marketing_contents=_content("Milk deal", "Two bottles, fifty points."),
        ),
        dict(
            external_id="DEMO-SPEND-50",
            name="Spend $50, earn 2 points per dollar",
            category="basket",
            publish_at=now - 10 * day,
            expire_at=now + 20 * day,
            earning_mechanism=_spend("50.00", per_unit=2),
            limits=[{"scope": "global", "kind": "fulfillment", "max_count": 4000}],
            marketing_contents=_content("Double points on big baskets"),
        ),
        dict(
            external_id="DEMO-COFFEE-OPTIN",
            name="Activate: coffee beans, 10 points per bag",
            category="coffee",
            publish_at=now - 5 * day,
            expire_at=now + 25 * day,
            requires_activation=True,
            earning_mechanism=_product("COFFEE-BEANS", per_unit=10),
            limits=[{"scope": "global", "kind": "activation", "max_count": 500}],
            marketing_contents=_content("Clip it, brew it"),
        ),
        dict(
            external_id="DEMO-WINE-21",
            name="Wine club (21+)",
            category="wine",
            earning_mechanism=_product("WINE-RED", points=120),
            audiences=[{"type": "age", "min_age": 21, "max_age": None, "segment": None}],
            marketing_contents=_content("Wine club"),
        ),
        dict(
            external_id="DEMO-VIP-STUDENT",
            name="VIP students: 300 points on $20",
            category="basket",
            earning_mechanism=_spend("20.00", points=300),
            audiences=[
                {"type": "segment", "segment": segments["vip"], "min_age": None, "max_age": None},
                {"type": "segment", "segment": segments["students"], "min_age": None, "max_age": None},
                {"type": "age", "min_age": 18, "max_age": 30, "segment": None},
            ],
            marketing_contents=_content("For VIP students"),
        ),
        dict(
            external_id="DEMO-BLENDER-SHIP",
            name="Free blender shipped home",
            category="home",
            fulfillment_flow="shipping",
            requires_activation=True,
            usage_start=now - day,
            usage_end=now + 90 * day,
            limits=[
                {"scope": "global", "kind": "activation", "max_count": 100},
                {"scope": "member", "kind": "activation", "max_count": 1},
            ],
            marketing_contents=_content("A blender on us"),
        ),
        dict(
            external_id="DEMO-SPRING-EXPIRED",
            name="Spring sale (expired)",
            category="seasonal",
            publish_at=now - 120 * day,
            expire_at=now - 30 * day,
            earning_mechanism=_spend("10.00", points=25),
        ),
        dict(
            external_id="DEMO-HOLIDAY-UNPUBLISHED",
            name="Holiday bonus (not yet published)",
            category="seasonal",
            publish_at=now + 14 * day,
            expire_at=now + 45 * day,
            earning_mechanism=_spend("30.00", points=200),
            marketing_contents=_content("Holiday bonus"),
        ),
        dict(
            external_id="DEMO-BREAD-DISCONTINUED",
            name="Bakery points (discontinued)",
            category="bakery",
            earning_mechanism=_product("BREAD-SOUR", points=15),
        ),
    ]


def seed(*, stdout, actor: Actor) -> None:
    if Offer.objects.filter(external_id="DEMO-MILK-2X").exists():
        stdout.write("offers: demo data present, skipped")
    else:
        _seed_offers(stdout=stdout, actor=actor)
    _seed_responses(stdout=stdout, actor=actor)


def _seed_responses(*, stdout, actor: Actor) -> None:
    """Claims and assignments in every status: pending, completed, canceled, expired and the shipping flow."""
    claimed = (OfferResponse.Source.CLAIM, OfferResponse.Source.AUTOMATIC)
    if OfferResponse.objects.filter(offer__external_id__startswith="DEMO-", source__in=claimed).exists():
        stdout.write("offers: demo responses present, skipped")
        return
    offers = {offer.external_id: offer for offer in Offer.objects.filter(external_id__startswith="DEMO-")}
    members = list(Member.objects.order_by("external_id")[40:60])
    if len(members) < 20 or not {"DEMO-MILK-2X", "DEMO-BLENDER-SHIP", "DEMO-SPEND-50"} <= set(offers):
        stdout.write("offers: no demo members or offers for responses, skipped")
        return
    plans = [
        ("DEMO-MILK-2X", []),
        ("DEMO-MILK-2X", ["completed"]),
        ("DEMO-MILK-2X", ["completed"]),
        ("DEMO-MILK-2X", ["canceled"]),
        ("DEMO-MILK-2X", ["expired"]),
        ("DEMO-BLENDER-SHIP", []),
        ("DEMO-BLENDER-SHIP", ["processing"]),
        ("DEMO-BLENDER-SHIP", ["processing", "shipping"]),
        ("DEMO-BLENDER-SHIP", ["processing", "shipping", "completed"]),
    ]
    count = 0
    for member, (external_id, moves) in zip(members, plans, strict=False):
        response = response_services.offer_response_claim(member=member, offer=offers[external_id], actor=actor)
        for status in moves:
            response_services.offer_response_transition(response=response, to_status=status, actor=actor, reason="demo")
        count += 1
    for number, member in enumerate(members[len(plans) : len(plans) + 4]):
        response_services.offer_response_assign(
            member=member, offer=offers["DEMO-SPEND-50"], actor=actor, certificate_code=f"DEMO-CERT-{number:03d}"
        )
        count += 1
    stdout.write(f"offers: {count} demo offer responses")


def _seed_offers(*, stdout, actor: Actor) -> None:
    now = timezone.now()
    segments = {segment.code: segment for segment in Segment.objects.all()}
    for code in ("vip", "students"):
        segments.setdefault(code, Segment.objects.get_or_create(code=code, defaults={"name": code.title()})[0])
    offers = {data["external_id"]: services.offer_create(actor=actor, **data) for data in _offers(now, segments)}
    services.offer_discontinue(offer=offers["DEMO-BREAD-DISCONTINUED"], actor=actor)

    members = list(Member.objects.order_by("external_id")[:40])
    store = OrgEntity.objects.filter(code="S001").first()
    activations = purchases = 0
    for number, member in enumerate(members):
        if number % 2 == 0:
            services.offer_activate(member=member, offer=offers["DEMO-COFFEE-OPTIN"], actor=actor)
            activations += 1
        if store is None:
            continue
        items = [
            {"sku": "MILK-1L", "quantity": 2, "unit_price": Decimal("1.99")},
            {"sku": "COFFEE-BEANS", "quantity": 1 + number % 3, "unit_price": Decimal("8.50")},
        ]
        total = sum((item["unit_price"] * item["quantity"] for item in items), Decimal("0")) + Decimal(number * 2)
        services.transaction_record(
            transaction_id=f"DEMO-TX-{number:04d}",
            member=member,
            store=store,
            occurred_at=now - timedelta(hours=number),
            total_amount=total,
            items=items,
            actor=actor,
        )
        purchases += 1
    stdout.write(f"offers: {len(offers)} offers, {activations} activations, {purchases} demo purchases")
