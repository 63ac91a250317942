"""The Celery app. Importing it chooses no settings: the process that runs it does.

A worker or beat started without `DJANGO_SETTINGS_MODULE` uses production settings, chosen when the app
first reads its configuration (at start-up), never as a side effect of importing this module: a web
process imports it (through the `config` package) before its entry point has chosen its settings.
"""

import os

from celery import Celery
from celery.fixups.django import DjangoFixup

PRODUCTION_SETTINGS = "config.settings.production"

# Celery installs its Django fix-up only when DJANGO_SETTINGS_MODULE is set at this point; it is installed
# here in every case (it reads no settings until the worker starts).
app = Celery("offerdesk", fixups=[])
django_fixup = DjangoFixup(app).install()


@app.on_configure.connect
def default_to_production_settings(sender, **kwargs):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", PRODUCTION_SETTINGS)


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(django_fixup.autodiscover_tasks)


def broker_transport_load() -> None:
    """Load the broker's transport (kombu's Redis client and what it imports) now, in a web process's start-up.

    Otherwise the first request that sends a task (a redemption waking the webhook dispatcher) imports it: about
    70 ms of CPU with the interpreter lock held, which stalls every other thread of that worker process. Only the
    connection object is made; nothing connects until a task is sent. Nothing to load when tasks run eagerly.
    """
    if not app.conf.task_always_eager:
        app.connection_for_write()
