"""Standard Import and Export of reward certificate codes (django-import-export, admin screen).

Import rows are matched by `code`. A new code comes in unused, for the named reward or (no reward)
for the bank; an existing code may be marked fulfilled (the usual batch import after shipping).
Every row is checked before anything is written, and a file with any bad row is refused whole.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import fields, resources, widgets

from config.actors import Actor
from config.errors import DomainError
from config.import_widgets import IsoDateTimeWidget
from members.models import Member

from . import rules, services
from .models import CertificateCode, Reward

Status = CertificateCode.Status


class RewardWidget(widgets.ForeignKeyWidget):
    """A reward by external id; an unknown one is a row error, not a crash."""

    def __init__(self):
        super().__init__(Reward, field="external_id")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value.strip() if isinstance(value, str) else value, row, **kwargs)
        except Reward.DoesNotExist as exc:
            raise ValueError(f"Unknown reward {value!r}.") from exc


class CertificateCodeResource(resources.ModelResource):
    reward = fields.Field(attribute="reward", column_name="reward", widget=RewardWidget())
    status = fields.Field(attribute="status", column_name="status", saves_null_values=False)
    member = fields.Field(
        attribute="member",
        column_name="member",
        widget=widgets.ForeignKeyWidget(Member, field="external_id"),
        readonly=True,
    )
    redemption_id = fields.Field(attribute="redemption_id", column_name="redemption_id", readonly=True)
    created_at = fields.Field(
        attribute="created_at", column_name="created_at", widget=IsoDateTimeWidget(), readonly=True
    )
    status_changed_at = fields.Field(
        attribute="status_changed_at", column_name="status_changed_at", widget=IsoDateTimeWidget(), readonly=True
    )
    fulfilled_at = fields.Field(
        attribute="fulfilled_at", column_name="fulfilled_at", widget=IsoDateTimeWidget(), readonly=True
    )

    class Meta:
        model = CertificateCode
        import_id_fields = ["code"]
        fields = [
            "code",
            "reward",
            "status",
            "member",
            "redemption_id",
            "created_at",
            "status_changed_at",
            "fulfilled_at",
        ]
        export_order = fields
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True
        report_skipped = False

    def before_import(self, dataset, **kwargs):
        self._codes_seen: set[str] = set()
        self._actor = Actor.from_admin_user(kwargs["user"]) if kwargs.get("user") else Actor.system("import")

    def before_import_row(self, row, **kwargs):
        code = str(row.get("code") or "").strip()
        row["code"] = code
        if not rules.code_is_well_formed(code):
            raise ValidationError({"code": f"{code!r} is not a valid code: 4-64 letters, digits or dashes."})
        if code in self._codes_seen:
            raise ValidationError({"code": f"Code {code} appears more than once in the file."})
        self._codes_seen.add(code)
        status = str(row.get("status") or "").strip().lower()
        if status and status not in Status.values:
            raise ValidationError({"status": f"Unknown status {status!r}; use one of {', '.join(Status.values)}."})
        self._stored = CertificateCode.objects.filter(code=code).first()
        # No status given: the code keeps the one it has (a new code comes in unused).
        row["status"] = status or (self._stored.status if self._stored else Status.UNUSED)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        stored = self._stored
        if stored is None:
            if instance.status != Status.UNUSED:
                raise ValidationError({"status": "A new code can only be imported unused."})
        else:
            if instance.reward_id != stored.reward_id:
                raise ValidationError({"reward": "The reward of an existing code cannot change."})
            if instance.status not in (stored.status, Status.FULFILLED):
                raise ValidationError(
                    {"status": f"An import can only mark codes fulfilled (this one is {stored.status})."}
                )
            if instance.status != stored.status and not rules.code_transition_allowed(stored.status, instance.status):
                raise ValidationError({"status": f"A {stored.status} code cannot be marked {instance.status}."})
            if instance.status != stored.status:
                instance.fulfilled_at = timezone.now()  # what the service will record; keeps full_clean honest

    def save_instance(self, instance, is_create, row, **kwargs):
        # Writes go through the services, like every other change to a code.
        try:
            if is_create:
                created = services.certificate_code_create(
                    code=instance.code, reward=instance.reward, actor=self._actor
                )
                instance.pk, instance.created_at = created.pk, created.created_at
            elif instance.status != self._stored.status:
                services.certificate_code_fulfill(code=self._stored, actor=self._actor, reason="import")
        except DomainError as exc:
            raise ValidationError({"code": exc.message}) from exc
