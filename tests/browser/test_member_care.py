"""Member care in Chromium on the demo data: find a member by mobile, ask why an offer is not theirs, resend a
coupon, award a reward, adjust points; each act answers with one message in words."""

import pytest
from playwright.sync_api import expect

from members.models import Member, PointsEntry
from rewards.models import RewardRedemption
from tests.browser import fixtures_member_care
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

demo_data = fixtures_member_care.demo_data
member_page = fixtures_member_care.member_page


def messages_text(page) -> str:
    return page.locator("#main").inner_text()


def test_member_found_by_mobile_opens_the_read_page(member_page):
    page = member_page
    assert page.locator("#member-360").get_attribute("data-member") == "M000001"
    assert page.locator(".member-mobile").inner_text() == "+15550000001"
    expect(page.locator("#edit-profile")).to_be_visible()
    assert page.locator("form input[name=external_id]").count() == 0  # reading, not editing


def test_why_not_explains_an_expired_offer_in_words_with_its_code(member_page):
    page = member_page
    page.select_option("#why-not-subject", label="Spring sale (expired) (DEMO-SPRING-EXPIRED)")
    page.click("#why-not-ask")
    page.wait_for_selector("#why-not-answer")

    reason = page.locator(".why-not-reasons li").first
    assert "The offer has expired." in reason.inner_text()
    assert reason.get_attribute("data-code") == "expired"
    # A viewport as tall as the page, so the sticky navigation is drawn where it stands.
    page.set_viewport_size({"width": 1440, "height": page.evaluate("document.body.scrollHeight")})
    screenshot(page, "member_360")


def test_resend_a_coupon_from_the_coupons_tab(member_page):
    page = member_page
    page.click("label[for=member-tab-coupons]")
    row = page.locator("#member-tab-panel-coupons tr.member-coupon").first
    code = row.get_attribute("data-coupon")
    row.locator("form[data-action=resend] button").click()
    page.wait_for_selector("#member-360")

    assert f"Sent coupon {code} again to +15550000001." in messages_text(page)
    assert page.locator("#member-tab-coupons").is_checked()


def test_award_a_reward_from_the_rewards_tab(member_page):
    page = member_page
    member = Member.objects.get(external_id="M000001")
    before = RewardRedemption.objects.filter(member=member, kind="award").count()
    page.click("label[for=member-tab-rewards]")
    page.select_option("#award-reward", index=0)
    page.click("form[data-action=award_reward] button")
    page.wait_for_selector("#member-360")

    assert "Awarded " in messages_text(page) and "certificate code" in messages_text(page)
    assert RewardRedemption.objects.filter(member=member, kind="award").count() == before + 1


def test_adjust_points_needs_a_reason_and_moves_the_balance(member_page):
    page = member_page
    member = Member.objects.get(external_id="M000001")
    page.click("label[for=member-tab-points]")
    page.fill("#adjust-points", "250")
    page.fill("#adjust-reason", "Goodwill for a late delivery")
    page.click("form[data-action=adjust_points] button")
    page.wait_for_selector("#member-360")

    member.refresh_from_db()
    assert f"Adjusted points by +250: the balance is {member.points_balance:,}." in messages_text(page)
    entry = PointsEntry.objects.filter(member=member).order_by("-id").first()
    assert (entry.points, entry.reason, entry.channel) == (250, "Goodwill for a late delivery", "admin")
    assert entry.actor == "browser-admin"
