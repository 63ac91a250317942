from rest_framework import generics

from audit import selectors
from config.api.roles import STAFF

from .filters import AuditEventFilterSet
from .serializers import AuditEventOutputSerializer


class AuditEventListApi(generics.ListAPIView):
    """The audit trail, newest first; `?object_type=&object_id=` gives one object's history."""

    roles = STAFF
    serializer_class = AuditEventOutputSerializer
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        return selectors.audit_event_list()
