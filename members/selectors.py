from django.db.models import QuerySet

from .models import Member, OrgEntity, PointsEntry, TillRefusal


def member_get(*, external_id: str) -> Member:
    """The member with this external id, or Member.DoesNotExist (a 404 over the API)."""
    return Member.objects.get(external_id=external_id)


def member_list() -> QuerySet[Member]:
    return Member.objects.prefetch_related("segments").order_by("external_id")


def points_history(*, member: Member, limit: int = 50) -> list[PointsEntry]:
    return list(member.points_entries.order_by("-created_at", "-id")[:limit])


def member_till_refusals(*, member: Member, limit: int = 10) -> list[TillRefusal]:
    """The member's latest refused validates and redeems at the till, newest first."""
    return list(member.till_refusals.select_related("store").order_by("-at", "-id")[:limit])


def org_entity_lineage_ids(entity: OrgEntity) -> set[int]:
    """The entity's id and those of everything containing it: parents up the tree and concepts.

    Org trees are a few levels deep (till → store → zone; concept), so this walks them by id.
    """
    seen: set[int] = set()
    pending = [entity.pk]
    while pending:
        rows = OrgEntity.objects.filter(pk__in=pending).values_list("pk", "parent_id", "concept_id")
        pending = []
        for pk, parent_id, concept_id in rows:
            seen.add(pk)
            pending += [i for i in (parent_id, concept_id) if i and i not in seen]
    return seen
