from django.apps import AppConfig


class TillConfig(AppConfig):
    name = "till"
    verbose_name = "Till operations"
