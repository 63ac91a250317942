from config.errors import DomainError


class ExportDefinitionError(DomainError):
    """A definition that does not fit its dataset (400: unknown column, filter, dataset, bad cron)."""

    code = "invalid_export_definition"
    http_status = 400
    title = "Invalid export definition"


class ExportRunError(DomainError):
    """A run that its state, or its definition's, does not allow (409)."""

    code = "export_run_not_allowed"
    title = "The export run is not allowed"
