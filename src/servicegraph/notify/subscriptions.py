"""Webhook subscriptions: made, listed, removed; their dead letters shown and queued
again. What the API's routes call."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.times import utc_now
from servicegraph.notify.events import KINDS
from servicegraph.notify.networks import refusal
from servicegraph.store.base import OutboxStore

FORMATS = ("native", "cloudevents")
FILTER_KEYS = ("promises", "business_services", "owners", "providers", "kinds")


class UnknownSubscription(LookupError):
    """No subscription (or dead letter) of that id."""


@dataclass(frozen=True)
class NewSubscription:
    """What a caller asks for (see the API's description of each field)."""

    url: str
    filter: dict[str, list[str]] = field(default_factory=dict)
    secret: str | None = None
    format: str = "native"


def _problem(field_name: str, message: str, item: str = "") -> Problem:
    return Problem("subscription", None, item, field_name, message)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A subscription as the API shows it: never its secret."""
    return {"id": record["id"], "url": record["url"], "format": record["format"],
            "filter": json.loads(record["filter"]), "created_at": record["created_at"],
            "sequence": int(record.get("next_seq") or 0)}


class Subscriptions:
    """The subscriptions kept in one store.

    Parameters
    ----------
    store : OutboxStore
    allowed_networks : sequence of str
        Hosts and CIDR networks receivers may be in.
    """

    def __init__(self, store: OutboxStore, allowed_networks: Sequence[str]) -> None:
        self.store = store
        self.allowed_networks = list(allowed_networks)

    def create(self, asked: NewSubscription) -> dict[str, Any]:
        """Keep a subscription; answers it with its secret (shown only here). Raises
        :class:`ValidationError` naming what is wrong (nothing is kept then)."""
        problems = []
        why = refusal(asked.url, self.allowed_networks)
        if why is not None:
            problems.append(_problem("url", why, asked.url))
        if asked.format not in FORMATS:
            problems.append(_problem("format", f"unknown format {asked.format!r}: use "
                                     f"{' or '.join(FORMATS)}", asked.format))
        for key in asked.filter:
            if key not in FILTER_KEYS:
                problems.append(_problem(f"filter.{key}", f"unknown filter {key!r}: use "
                                         f"{', '.join(FILTER_KEYS)}", key))
        for kind in asked.filter.get("kinds", []):
            if kind not in KINDS:
                problems.append(_problem("filter.kinds", f"unknown kind of event {kind!r}: "
                                         f"use {', '.join(KINDS)}", kind))
        if asked.secret is not None and len(asked.secret) < 16:
            problems.append(_problem("secret", "a secret must be at least 16 characters"))
        if problems:
            raise ValidationError(problems)
        record = {"id": uuid.uuid4().hex, "url": asked.url,
                  "secret": asked.secret or secrets.token_urlsafe(32),
                  "format": asked.format,
                  "filter": json.dumps({k: sorted(set(v)) for k, v in asked.filter.items()},
                                       sort_keys=True),
                  "created_at": utc_now()}
        self.store.add_subscription(record)
        return {**public(record), "secret": record["secret"]}

    def all(self) -> list[dict[str, Any]]:
        """Every subscription, oldest first."""
        return [public(r) for r in self.store.subscriptions()]

    def get(self, subscription: str) -> dict[str, Any]:
        """One subscription; raises :class:`UnknownSubscription`."""
        found = self.store.subscription(subscription)
        if found is None:
            raise UnknownSubscription(f"no subscription {subscription!r}")
        return public(found)

    def remove(self, subscription: str) -> None:
        """Forget a subscription and its undelivered events."""
        if not self.store.remove_subscription(subscription):
            raise UnknownSubscription(f"no subscription {subscription!r}")

    def dead(self, subscription: str) -> list[dict[str, Any]]:
        """A subscription's dead letters, in order, each with its data."""
        self.get(subscription)
        return [{**d.to_dict(), "data": json.loads(d.payload)}
                for d in self.store.outbox_dead(subscription)]

    def redeliver(self, subscription: str, event: str) -> None:
        """Queue a dead letter again: it is sent before the subscription's later events."""
        self.get(subscription)
        if not self.store.outbox_redeliver(subscription, event, utc_now()):
            raise UnknownSubscription(f"subscription {subscription!r} has no dead letter "
                                      f"{event!r}")
