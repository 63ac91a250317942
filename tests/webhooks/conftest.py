import pytest

from config.actors import Actor
from tests.webhooks.receiver import Receiver
from webhooks import events
from webhooks.services import endpoint_create

ACTOR = Actor.system("tests")


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def make_endpoint(db, receiver):
    def make(types=(events.COUPON_ISSUED,), url=None, **kw):
        endpoint, secret = endpoint_create(url=url or receiver.url, events=list(types), actor=ACTOR, **kw)
        return endpoint, secret

    return make


@pytest.fixture
def fast_retries(settings):
    """Retries due at once, so a test runs the whole schedule in one send."""
    settings.WEBHOOK_RETRY_SCHEDULE = [0.0] * 9
    return settings
