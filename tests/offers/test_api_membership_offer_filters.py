import pytest

from tests.members.factories import MemberFactory
from tests.offers.factories import OfferFactory


@pytest.mark.parametrize(
    "query",
    ["?eligible=0.2969", "?eligible=maybe", "?eligible=", "?visible_status=", "?visible_status=nope"],
)
def test_a_member_offer_filter_that_is_not_understood_is_a_400(member_care, query):
    member = MemberFactory()
    response = member_care.get(f"/api/v1/members/{member.external_id}/offers{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {query[1:].split("=")[0]}


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("FALSE", False), ("0", False)])
def test_eligible_reads_the_usual_spellings_of_a_boolean(member_care, value, expected):
    member = MemberFactory()
    eligible = OfferFactory()
    must_opt_in = OfferFactory(opt_in=True)
    response = member_care.get(f"/api/v1/members/{member.external_id}/offers?eligible={value}")
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == ({eligible.pk} if expected else {must_opt_in.pk})
