"""Screens that change a coupon's life: revoke (with a confirmation page), transfer, and the event log."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from audit.admin_mixins import AppendOnlyAdminMixin
from config.actors import Actor
from config.admin_base import ModelAdmin
from config.admin_progress import JobProgressAdminMixin
from config.errors import DomainError
from config.progress import job_progress
from coupons.lifecycle import revoke
from coupons.lifecycle.transfer import coupon_transfer
from coupons.models import Coupon, CouponEvent, CouponSeries, SeriesRevokeJob
from members.models import Member


@admin.register(CouponEvent)
class CouponEventAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ["at", "coupon", "old_status", "new_status", "actor", "channel", "reason"]
    list_select_related = ["coupon"]
    search_fields = ["=coupon__code"]
    raw_id_fields = ["coupon"]
    show_full_result_count = False


@admin.register(SeriesRevokeJob)
class SeriesRevokeJobAdmin(AppendOnlyAdminMixin, JobProgressAdminMixin, ModelAdmin):
    """Revokes queued from a series' "Revoke coupons…" page: their live progress and outcome. Only the revoke
    service writes them, so nobody adds, changes or deletes one here."""

    list_display = ["id", "series", "mode", "live_progress", "revoked", "total_coupons", "created_at", "actor",
                    "failure_reason"]  # fmt: skip
    list_filter = ["status", "mode"]
    list_select_related = ["series"]
    show_full_result_count = False
    fields = ["series", "mode", "live_progress", "total_coupons", "revoked", "error", "attempts", "heartbeat_at",
              "actor", "channel", "created_at", "finished_at"]  # fmt: skip
    readonly_fields = fields

    def progress_state(self, job):
        finished = job.status in {SeriesRevokeJob.Status.SUCCEEDED, SeriesRevokeJob.Status.FAILED}
        return job_progress(job, done=job.revoked, total=job.total_coupons or None, finished=finished)


class RevokeForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[
            ("all_unredeemed", "All unredeemed coupons (issued and unissued)"),
            ("unissued", "Only unissued coupons"),
            ("members", "For specific members"),
        ],
        widget=forms.RadioSelect,
    )
    members = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Members' external ids, one per line or comma-separated (for 'specific members').",
    )
    confirm = forms.BooleanField(
        required=False, label="I understand that revoking coupons will make them unredeemable."
    )

    def member_ids(self):
        raw = self.cleaned_data.get("members") or ""
        return [value.strip() for value in raw.replace(",", "\n").splitlines() if value.strip()]


def series_revoke_view(model_admin, request, pk):
    if not request.user.has_perm("coupons.change_couponseries"):
        raise PermissionDenied
    series = get_object_or_404(CouponSeries, pk=pk)
    form = RevokeForm(request.POST or None)
    count = None
    if request.method == "POST" and form.is_valid():
        mode = form.cleaned_data["mode"]
        try:
            members = revoke.members_by_external_id(form.member_ids()) if mode == "members" else []
            if mode == "members" and not members:
                form.add_error("members", "Name at least one member.")
            elif form.cleaned_data["confirm"] and request.POST.get("step") == "confirm":
                # A worker revokes, batch by batch: the request only queues the job, whatever the series' size.
                job = revoke.series_revoke_start(
                    series=series, mode=mode, members=members, confirm=True, actor=Actor.from_admin_user(request.user)
                )
                model_admin.message_user(request, f"{series}: revoking {job.total_coupons:,} coupons in the "
                                                  "background; this page shows its progress.")  # fmt: skip
                return redirect(reverse("admin:coupons_seriesrevokejob_change", args=[job.pk]))
            else:
                count = revoke.revoke_count(series=series, mode=mode, member_ids=[m.pk for m in members])
        except DomainError as exc:
            form.add_error(None, f"{exc.message} {' '.join(' '.join(v) for v in exc.errors.values())}")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": CouponSeries._meta,
        "series": series,
        "form": form,
        "count": count,
        "title": f"Revoke coupons of {series}",
    }
    return TemplateResponse(request, "admin/coupons/couponseries/revoke.html", context)


class TransferForm(forms.Form):
    member = forms.CharField(max_length=64, help_text="External id of the member who receives the code.")

    def clean_member(self):
        member = Member.objects.filter(external_id=self.cleaned_data["member"].strip()).first()
        if member is None:
            raise forms.ValidationError("No member has this external id.")
        return member


def coupon_transfer_view(model_admin, request, pk):
    if not request.user.has_perm("coupons.view_coupon"):
        raise PermissionDenied
    coupon = get_object_or_404(Coupon.objects.select_related("member", "series"), pk=pk)
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            coupon = coupon_transfer(
                coupon=coupon, to_member=form.cleaned_data["member"], actor=Actor.from_admin_user(request.user)
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(request, f"{coupon.code} now belongs to {coupon.member.external_id}.")
            return redirect(reverse("admin:coupons_coupon_change", args=[coupon.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Coupon._meta,
        "coupon": coupon,
        "form": form,
        "title": f"Transfer coupon {coupon.code}",
    }
    return TemplateResponse(request, "admin/coupons/coupon/transfer.html", context)
