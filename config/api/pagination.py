from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from config.ranges import PAGE, PAGE_SIZE


class PageParametersSerializer(serializers.Serializer):
    page = serializers.IntegerField(**PAGE.bounds, required=False)
    page_size = serializers.IntegerField(**PAGE_SIZE.bounds, required=False)


class StandardPagination(PageNumberPagination):
    """`?page=` and `?page_size=` checked like any other input: outside their range, 400 naming the parameter.

    DRF's own pagination would quietly serve 500 rows for `page_size=100000` and the default page size for
    `page_size=-1`; a client asking for something else than it gets should hear so.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE.max

    def paginate_queryset(self, queryset, request, view=None):
        sent = {name: request.query_params[name] for name in ("page", "page_size") if name in request.query_params}
        checked = PageParametersSerializer(data=sent)
        checked.is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        bounds = {"page": PAGE, "page_size": PAGE_SIZE}
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            allowed = bounds.get(parameter["name"])
            if allowed is not None:
                parameter["schema"] = {**parameter["schema"], "minimum": allowed.min, "maximum": allowed.max}
        return parameters
