import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from config.actors import Actor
from exports.models import ExportRun
from rewards import services
from rewards.models import CertificateCode, CertificateCodeEvent
from tests.admin_imports import import_confirm, import_review, job_page
from tests.members.factories import MemberFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
CHANGELIST = "admin:rewards_certificatecode_changelist"


def import_preview(admin_client, capture, content: str):
    return import_review(admin_client, capture, "admin:rewards_certificatecode_import", content, name="codes.csv")


def confirm(admin_client, capture, review):
    return import_confirm(admin_client, capture, review)


@pytest.fixture
def reward():
    return RewardFactory(external_id="R-GIFT", name="Gift card")


def test_changelist_searches_by_code_and_member_and_filters_by_status_and_reward(admin_client, reward):
    other = RewardFactory(external_id="R-OTHER")
    CertificateCodeFactory(code="OWN00001", reward=reward)
    CertificateCodeFactory(code="OWN00002", reward=reward)
    CertificateCodeFactory(code="OTH00001", reward=other)
    services.reward_award(member=MemberFactory(external_id="M-77"), reward=reward, actor=ACTOR)
    url = reverse(CHANGELIST)

    def shown(params):
        result = admin_client.get(url, params).context["cl"].result_list
        return sorted(code.code for code in result)

    assert shown({"q": "OWN00002"}) == ["OWN00002"]
    assert shown({"q": "M-77"}) == ["OWN00001"]
    assert shown({"status__exact": "unused"}) == ["OTH00001", "OWN00002"]
    assert shown({"reward__id__exact": other.pk}) == ["OTH00001"]


def test_changelist_query_count_does_not_grow_with_rows(admin_client, reward, django_assert_max_num_queries):
    for n in range(40):
        CertificateCodeFactory(code=f"C{n:07d}", reward=reward)
    admin_client.get(reverse(CHANGELIST))  # warm the session
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse(CHANGELIST))
    assert page.status_code == 200 and "Generate codes" in page.content.decode()


def test_generate_page_creates_codes_through_the_service(admin_client, reward):
    url = reverse("admin:rewards_certificatecode_generate")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"count": 30, "reward": reward.pk, "length": 9, "charset": "numeric"})
    assert response.status_code == 302
    assert CertificateCode.objects.filter(reward=reward, status="unused").count() == 30
    bank = admin_client.post(url, {"count": 5, "reward": "", "length": 10, "charset": "unambiguous"})
    assert bank.status_code == 302
    assert CertificateCode.objects.filter(reward__isnull=True).count() == 5


def test_generate_page_shows_the_code_space_refusal(admin_client):
    response = admin_client.post(
        reverse("admin:rewards_certificatecode_generate"),
        {"count": 500_000, "reward": "", "length": 8, "charset": "numeric"},
    )
    assert response.status_code == 200
    assert "use a longer code or a larger charset" in response.content.decode()
    assert not CertificateCode.objects.exists()


def test_mark_fulfilled_action_fulfils_redeemed_and_awarded_codes_only(admin_client, reward):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    CertificateCodeFactory(code="OWN00002", reward=reward)
    services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)
    ids = list(CertificateCode.objects.values_list("pk", flat=True))

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "mark_fulfilled", "_selected_action": ids}, follow=True
    )

    page = response.content.decode()
    assert "1 code(s) marked fulfilled" in page and "OWN00002 (unused)" in page
    assert CertificateCode.objects.get(code="OWN00001").status == "fulfilled"
    assert CertificateCode.objects.get(code="OWN00002").status == "unused"
    assert CertificateCodeEvent.objects.get(new_status="fulfilled").channel == "admin"


def test_import_of_new_codes_for_a_reward_and_the_bank(admin_client, reward, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    preview = import_preview(admin_client, capture, "code,reward,status\nNEW00001,R-GIFT,\nNEW00002,,unused\n")
    assert (preview.status, preview.errors, preview.new) == ("succeeded", 0, 2)
    assert not CertificateCode.objects.exists()  # the review writes nothing

    assert confirm(admin_client, capture, preview).status == "succeeded"

    assert CertificateCode.objects.get(code="NEW00001").reward == reward
    assert CertificateCode.objects.get(code="NEW00002").reward is None
    assert set(CertificateCode.objects.values_list("status", flat=True)) == {"unused"}


def test_import_marks_a_batch_fulfilled(admin_client, reward, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    for n in range(3):
        CertificateCodeFactory(code=f"OWN0000{n}", reward=reward)
    for _ in range(2):
        services.reward_award(member=MemberFactory(), reward=reward, actor=ACTOR)

    preview = import_preview(admin_client, capture, "code,status\nOWN00000,fulfilled\nOWN00001,fulfilled\n")
    assert confirm(admin_client, capture, preview).status == "succeeded"

    assert dict(CertificateCode.objects.values_list("code", "status")) == {
        "OWN00000": "fulfilled",
        "OWN00001": "fulfilled",
        "OWN00002": "unused",
    }
    assert CertificateCodeEvent.objects.filter(new_status="fulfilled", reason="import").count() == 2


def test_import_with_bad_rows_reports_every_one_and_writes_nothing(
    admin_client, reward, django_capture_on_commit_callbacks
):
    CertificateCodeFactory(code="UNUSED01", reward=reward)
    content = (
        "code,reward,status\n"
        "GOOD0001,R-GIFT,\n"
        "GOOD0001,R-GIFT,\n"  # duplicate in the file
        "bad code!,R-GIFT,\n"  # malformed
        "AB,,\n"  # too short
        "GOOD0002,R-NOPE,\n"  # unknown reward
        "GOOD0003,,lost\n"  # unknown status
        "GOOD0004,,redeemed\n"  # a new code cannot arrive redeemed
        "UNUSED01,R-GIFT,fulfilled\n"  # an unused code cannot be fulfilled
    )
    preview = import_preview(admin_client, django_capture_on_commit_callbacks, content)

    assert (preview.status, preview.errors) == ("succeeded", 7)
    invalid_rows = sorted({issue.row for issue in preview.issues.all()})
    assert invalid_rows == [2, 3, 4, 5, 6, 7, 8]
    page = job_page(admin_client, preview)
    assert "Confirm import" not in page
    assert "appears more than once" in page and "is not a valid code" in page
    assert "A new code can only be imported unused" in page and "cannot be marked fulfilled" in page
    assert list(CertificateCode.objects.values_list("code", "status")) == [("UNUSED01", "unused")]
    assert not CertificateCodeEvent.objects.exists()


def test_export_writes_every_code_with_reward_and_member(admin_client, reward, django_capture_on_commit_callbacks):
    CertificateCodeFactory(code="OWN00001", reward=reward)
    CertificateCodeFactory(code="BANK0001", reward=None)
    services.reward_award(member=MemberFactory(external_id="M-5"), reward=reward, actor=ACTOR)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:rewards_certificatecode_export"))

    assert response.status_code == 302  # to the export run's page; a worker wrote the file
    run = ExportRun.objects.get()
    with default_storage.open(run.file.name, "rb") as handle:
        rows = {row["code"]: row for row in csv.DictReader(io.StringIO(handle.read().decode()))}
    own, bank = rows["OWN00001"], rows["BANK0001"]
    assert (own["reward_external_id"], own["status"], own["member_external_id"]) == ("R-GIFT", "awarded", "M-5")
    assert (bank["reward_external_id"], bank["status"], bank["member_external_id"]) == ("", "unused", "")


def test_member_page_shows_rewards_tab(admin_client, reward):
    member = MemberFactory(external_id="M-1", points=500)
    CertificateCodeFactory(code="OWN00001", reward=reward)
    services.reward_redeem(member=member, reward=reward, actor=ACTOR)

    page = admin_client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    assert 'id="member-tab-panel-rewards"' in page
    assert "OWN00001" in page and "Redeemed" in page and "Gift card" in page


def test_reward_admin_lists_unused_stock(admin_client, reward):
    CertificateCodeFactory.create_batch(3, reward=reward)
    page = admin_client.get(reverse("admin:rewards_reward_changelist"))
    assert page.context["cl"].result_list[0].codes_unused == 3


def test_generate_page_needs_the_add_permission(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_certificatecode"))
    client.force_login(user)
    url = reverse("admin:rewards_certificatecode_generate")

    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.post(url, {"count": 5, "reward": "", "length": 10, "charset": "numeric"}).status_code == 403
    assert not CertificateCode.objects.exists()
