"""Who did something, and through which channel: written on every audit and event row."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    channel: str  # api:<role>, admin, task, cli, system

    @classmethod
    def system(cls, name="system"):
        return cls(name=name, channel="system")

    @classmethod
    def task(cls, name):
        return cls(name=name, channel="task")

    @classmethod
    def cli(cls, name="manage.py"):
        return cls(name=name, channel="cli")

    @classmethod
    def from_admin_user(cls, user):
        return cls(name=user.get_username(), channel="admin")

    @classmethod
    def from_request(cls, request):
        user = request.user
        as_actor = getattr(user, "as_actor", None)
        if as_actor is not None:
            return as_actor()
        if user is not None and getattr(user, "is_authenticated", False):
            return cls.from_admin_user(user)
        return cls(name="anonymous", channel="api")
