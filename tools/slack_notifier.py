"""Slack threads per incident through `slack_sdk` (`agent.ports.Notifier`).

The first message posted for an incident starts its thread; every later one replies in it. Each
message is posted once per key: what was posted (its `ts` and the thread's) is recorded in the
records store, so a resumed run that repeats a step does not post twice.
"""

from __future__ import annotations

import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select

from agent.errors import NotifyError
from tools.store.database import Database
from tools.store.tables import slack_messages


class SlackNotifier:
    def __init__(self, client: WebClient, channel: str, db: Database) -> None:
        self.client = client
        self.channel = channel
        self.db = db

    def post(self, incident_id: str, key: str, text: str) -> str:
        posted = self.thread(incident_id)
        for message in posted:
            if message["key"] == key:
                return str(message["ts"])
        root = posted[0]["ts"] if posted else None
        # A reply goes to the channel id Slack answered the first message with (a `#name`
        # setting is not one).
        channel = posted[0]["channel"] if posted else self.channel
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                thread_ts=root,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            raise NotifyError(f"Slack refused the message: {error.response.get('error')}") from None
        except (SlackClientError, OSError) as error:
            raise NotifyError(f"Slack is unreachable: {error}") from None
        ts = str(response.get("ts") or "")
        if not ts:
            raise NotifyError("Slack answered without the message's ts")
        row = {
            "incident_id": incident_id,
            "message_key": key,
            "channel": str(response.get("channel") or channel),
            "ts": ts,
            "thread_ts": root or ts,
            "posted_at": time.time(),
        }
        with self.db.transaction() as db:
            db.execute(self.db.insert(slack_messages).values(row).on_conflict_do_nothing())
        return ts

    def thread(self, incident_id: str) -> list[dict[str, Any]]:
        query = (
            select(
                slack_messages.c.message_key,
                slack_messages.c.channel,
                slack_messages.c.ts,
                slack_messages.c.thread_ts,
            )
            .where(slack_messages.c.incident_id == incident_id)
            .order_by(slack_messages.c.id)
        )
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [
            {"key": key, "channel": channel, "ts": ts, "thread_ts": thread_ts}
            for key, channel, ts, thread_ts in rows
        ]
