from config.errors import DomainError


class ImportJobError(DomainError):
    code = "import_job_error"
    title = "The import cannot go on"
