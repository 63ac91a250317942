"""django-celery-beat's screens in the back office's style. Marketers and operators see the periodic tasks as
"Schedules"; the schedule rows a task points at (crontabs, intervals) stay reachable from a task's form, and the
kinds we never use (clocked, solar) are not registered at all.

Admin imports' jobs have their own screens (jobs/admin_imports.py)."""

from django.contrib import admin
from django_celery_beat.admin import CrontabScheduleAdmin as BeatCrontabScheduleAdmin
from django_celery_beat.admin import IntervalScheduleAdmin as BeatIntervalScheduleAdmin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskForm, TaskSelectWidget
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from config.admin_base import ModelAdmin
from jobs import admin_imports  # noqa: F401 (registers the import jobs' screens)

for model in (PeriodicTask, ClockedSchedule, CrontabSchedule, IntervalSchedule, SolarSchedule):
    admin.site.unregister(model)


class UnfoldTaskSelectWidget(UnfoldAdminSelectWidget, TaskSelectWidget):
    pass


class ScheduleForm(PeriodicTaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = UnfoldTaskSelectWidget()


@admin.register(PeriodicTask)
class ScheduleAdmin(BeatPeriodicTaskAdmin, ModelAdmin):
    form = ScheduleForm


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(BeatCrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(BeatIntervalScheduleAdmin, ModelAdmin):
    pass
