"""Sending SMS through a pluggable backend, in the manner of Django's email backends.

`settings.SMS_BACKEND` names the class (dotted path). Backends:
- `config.sms.ConsoleBackend` (default): writes each message to stdout and to the log, sends nothing;
- `config.sms.LocmemBackend` (tests): keeps messages in `config.sms.outbox`;
- `config.sms.FileBackend`: appends each message as a JSON line to a file in `settings.SMS_FILE_PATH`;
- a provider's backend: subclass `BaseSmsBackend` and implement `send_messages`.

    from config.sms import send_sms
    send_sms("+15551234567", "Your coupon ABC123 expires on 2026-12-01.")
"""

import json
import logging
import os
import sys
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# What LocmemBackend has "sent" (tests empty it between runs).
outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages: list[SmsMessage]) -> int:
        """Send the messages; return how many were sent. Raise on failure unless fail_silently."""
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send_messages(self, messages):
        with self._lock:
            for message in messages:
                self.stream.write(f"SMS to {message.to}:\n{message.body}\n{'-' * 40}\n")
                self.stream.flush()
                logger.info("SMS to %s: %s", message.to, message.body)
        return len(messages)


class LocmemBackend(BaseSmsBackend):
    def send_messages(self, messages):
        outbox.extend(messages)
        return len(messages)


class FileBackend(BaseSmsBackend):
    """One JSON line per message in a file of this process's own under SMS_FILE_PATH."""

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_path = file_path or settings.SMS_FILE_PATH
        os.makedirs(self.file_path, exist_ok=True)

    def send_messages(self, messages):
        path = os.path.join(self.file_path, f"sms-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl")
        with open(path, "a", encoding="utf-8") as stream:
            for message in messages:
                stream.write(json.dumps({"to": message.to, "body": message.body}, ensure_ascii=False) + "\n")
        return len(messages)


def get_connection(backend: str | None = None, fail_silently: bool = False, **kwargs) -> BaseSmsBackend:
    return import_string(backend or settings.SMS_BACKEND)(fail_silently=fail_silently, **kwargs)


def send_sms(to: str, body: str, *, fail_silently: bool = False, connection: BaseSmsBackend | None = None) -> int:
    """Send one SMS through the configured backend; returns 1 when sent."""
    connection = connection or get_connection(fail_silently=fail_silently)
    return connection.send_messages([SmsMessage(to=to, body=body)])
