"""A delivery's status changes only in webhooks/lifecycle.py, under its transition table."""

import pytest

from tests.status_writes import python_files, status_writes
from webhooks.exceptions import WebhookDeliveryError
from webhooks.lifecycle import DELIVERY_TRANSITIONS, delivery_transition_check
from webhooks.models import Delivery


def test_delivery_statuses_change_only_in_the_lifecycle_module():
    assert status_writes(python_files("webhooks"), writers={"webhooks/lifecycle.py"}) == []


def test_delivery_transition_table_names_every_status():
    assert set(DELIVERY_TRANSITIONS) == set(Delivery.Status.values)


@pytest.mark.parametrize("old", Delivery.Status.values)
@pytest.mark.parametrize("to", Delivery.Status.values)
def test_delivery_transition_check_follows_the_table(old, to):
    if to in DELIVERY_TRANSITIONS[old]:
        delivery_transition_check(old, to)
    else:
        with pytest.raises(WebhookDeliveryError):
            delivery_transition_check(old, to)
