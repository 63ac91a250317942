import json
from io import StringIO

from django.test import override_settings

from config import sms


def test_send_sms_uses_the_configured_backend():
    sms.outbox.clear()
    with override_settings(SMS_BACKEND="config.sms.LocmemBackend"):
        assert sms.send_sms("+15550001", "Hej på dig ✓") == 1
    assert sms.outbox == [sms.SmsMessage(to="+15550001", body="Hej på dig ✓")]
    sms.outbox.clear()


def test_console_backend_writes_the_message():
    stream = StringIO()
    connection = sms.get_connection("config.sms.ConsoleBackend", stream=stream)

    sms.send_sms("+15550002", "Ваш код ABC", connection=connection)

    assert "SMS to +15550002:\nВаш код ABC\n" in stream.getvalue()  # noqa: RUF001


def test_file_backend_appends_json_lines(tmp_path):
    with override_settings(SMS_BACKEND="config.sms.FileBackend", SMS_FILE_PATH=str(tmp_path)):
        sms.send_sms("+15550003", "クーポン")
    [path] = tmp_path.iterdir()
    assert json.loads(path.read_text(encoding="utf-8")) == {"to": "+15550003", "body": "クーポン"}
