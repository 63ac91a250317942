from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ExportsConfig(AppConfig):
    name = "exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Each app registers the datasets it owns in its export_datasets.py.
        autodiscover_modules("export_datasets")
        from django.core import checks

        from config.tasks import visibility_timeout_check

        checks.register(visibility_timeout_check)
