"""The till's cross-app routes (baskets, checkouts, returns, offline redemptions)."""

urlpatterns = []
