from django.urls import path

from . import views

urlpatterns = [
    path("segments", views.SegmentListCreateApi.as_view(), name="segment-list"),
    path("org-entities", views.OrgEntityListCreateApi.as_view(), name="org-entity-list"),
    path("members", views.MemberListCreateApi.as_view(), name="member-list"),
    path("members/<str:external_id>", views.MemberDetailApi.as_view(), name="member-detail"),
    path("members/<str:external_id>/points", views.MemberPointsApi.as_view(), name="member-points"),
]
