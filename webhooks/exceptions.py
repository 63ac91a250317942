from config.errors import DomainError


class WebhookEndpointError(DomainError):
    """An endpoint that may not be set up as asked (its address, its event types)."""

    code = "webhook_endpoint_invalid"
    http_status = 400
    title = "The webhook endpoint is not acceptable"


class WebhookDeliveryError(DomainError):
    """A delivery that cannot be sent again now."""

    code = "webhook_delivery_not_retryable"
    title = "The delivery cannot be retried"
