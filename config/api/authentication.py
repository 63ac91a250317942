from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiClient, hash_token


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against ApiClient; `request.user` is the client."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        client = ApiClient.objects.filter(key_hash=hash_token(key), is_active=True).prefetch_related("stores").first()
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        return client, None
