from config.errors import DomainError


class RewardError(DomainError):
    code = "reward_error"
    title = "Reward rule violated"


class CertificateCodeError(DomainError):
    code = "certificate_code_error"
    title = "Certificate code rule violated"


class CodeGenerationError(DomainError):
    code = "invalid_code_generation"
    title = "Codes cannot be generated as asked"
    http_status = 400
