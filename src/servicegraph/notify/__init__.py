"""Webhook subscriptions: promise events derived into a durable outbox in the store and
delivered, signed, at least once and in order per subscription.

- :mod:`~servicegraph.notify.subscriptions`: making, listing and removing them;
- :mod:`~servicegraph.notify.events`: what an event says;
- :mod:`~servicegraph.notify.dispatcher`: the one process that derives and delivers;
- :mod:`~servicegraph.notify.signing`: the signature, and how a receiver checks it;
- :mod:`~servicegraph.notify.networks`: which hosts receivers may be on.
"""

from servicegraph.notify.dispatcher import DeliveryPolicy, Dispatcher
from servicegraph.notify.signing import HEADER, sign, verify
from servicegraph.notify.subscriptions import NewSubscription, Subscriptions, UnknownSubscription

__all__ = ["HEADER", "DeliveryPolicy", "Dispatcher", "NewSubscription", "Subscriptions",
           "UnknownSubscription", "sign", "verify"]
