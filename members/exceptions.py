from config.errors import DomainError


class MemberError(DomainError):
    code = "member_error"
    title = "Member rule violated"


class PointsError(DomainError):
    code = "points_error"
    title = "Points rule violated"
