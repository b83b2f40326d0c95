"""Conversations, messages and threads as the CLI's --json prints them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from frontdesk.core.clock import as_utc
from frontdesk.core.models import Conversation, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.triage_reasons import reason_json

if TYPE_CHECKING:
    from frontdesk.core.conversations import Thread


def thread_json(thread: Thread) -> dict[str, Any]:
    """A thread as `frontdesk show --json` prints it."""
    return {
        "conversation": conversation_json(thread.conversation),
        "customer": {
            "id": thread.customer.id,
            "channel": thread.customer.channel,
            "handle": thread.customer.handle,
            "name": thread.customer.display_name,
            "platform_user_id": thread.customer.platform_user_id,
            "followers": thread.customer.followers,
            "tags": thread.customer.tags,
            "earlier_conversations": thread.earlier_conversations,
            "first_contact_at": iso(thread.first_contact_at),
        },
        "messages": [
            {**message_json(m), **delivery_json(thread.deliveries.get(m.id or 0))}
            for m in thread.messages
        ],
    }


def conversation_json(conv: Conversation) -> dict[str, Any]:
    """A conversation as the CLI's --json prints it."""
    return {
        "id": conv.id,
        "channel": conv.channel,
        "account": conv.account,
        "visibility": conv.visibility,
        "thread_key": conv.thread_key,
        "customer_id": conv.customer_id,
        "status": conv.status,
        "priority": conv.priority,
        "category": conv.category,
        "tags": conv.tags,
        "team": conv.team,
        "triage": [reason_json(r) for r in conv.triage],
        "awaiting_signoff": conv.awaiting_signoff,
        "follow_up": conv.follow_up,
        "linked_id": conv.linked_id,
        "claimed_by": conv.claimed_by,
        "claim_expires_at": iso(conv.claim_expires_at),
        "first_inbound_at": iso(conv.first_inbound_at),
        "last_inbound_at": iso(conv.last_inbound_at),
        "sla_due_at": iso(conv.sla_due_at),
        "first_response_at": iso(conv.first_response_at),
        "resolved_at": iso(conv.resolved_at),
        "version": conv.version,
        "message_count": conv.message_count,
        "preview": conv.preview,
    }


def message_json(msg: Message) -> dict[str, Any]:
    """A message as the CLI's --json prints it; the body exactly as stored."""
    return {
        "id": msg.id,
        "direction": msg.direction,
        "author": msg.author,
        "body": msg.body,
        "external_id": msg.external_id,
        "in_reply_to": msg.in_reply_to,
        "url": msg.url,
        "subject": msg.subject,
        "created_at": iso(msg.created_at),
    }


def delivery_json(item: OutboxItem | None) -> dict[str, Any]:
    if item is None:
        return {}
    return {"delivery": {"outbox_id": item.id, "state": item.state, "error": item.last_error}}


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
