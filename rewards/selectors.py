from django.db.models import Count, Q, QuerySet

from members.models import Member

from .models import CertificateCode, Reward, RewardRedemption


def reward_list() -> QuerySet[Reward]:
    return Reward.objects.order_by("name", "id")


def reward_with_stock_list() -> QuerySet[Reward]:
    """Rewards with how many of their own codes are still unused (bank codes not counted)."""
    return reward_list().annotate(codes_unused=Count("codes", filter=Q(codes__status=CertificateCode.Status.UNUSED)))


def certificate_code_list() -> QuerySet[CertificateCode]:
    return CertificateCode.objects.select_related("reward", "member").order_by("-id")


def certificate_code_by_code(*, code: str, held_only: bool = False) -> CertificateCode | None:
    """A certificate code by its exact text (imported codes may hold lower case); `held_only` leaves out the
    codes no member holds yet (the bank and a reward's unused stock)."""
    rows = CertificateCode.objects.filter(code=code)
    if held_only:
        rows = rows.filter(member__isnull=False)
    return rows.first()


def member_certificate_codes(*, member: Member, limit: int = 100) -> list[CertificateCode]:
    return list(certificate_code_list().filter(member=member)[:limit])


def member_reward_redemptions(*, member: Member, limit: int = 100) -> list[RewardRedemption]:
    return list(
        RewardRedemption.objects.filter(member=member)
        .select_related("reward", "certificate_code")
        .order_by("-created_at", "-id")[:limit]
    )
