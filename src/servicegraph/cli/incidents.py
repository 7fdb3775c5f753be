"""The incident loop from the command line: alerts (sent as Alertmanager's webhook, and
listed), maintenance windows (registered, listed, cancelled), acknowledgements and
webhook subscriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from servicegraph.cli.backend import connect, fail
from servicegraph.cli.files import read_text
from servicegraph.cli.options import ApiKeyOpt, Format, FormatOpt, ServerOpt, StoreOpt, emit

alerts_app = typer.Typer(help="Alerts from monitoring: deliver them, list them, and say "
                              "how a source's labels name nodes.", no_args_is_help=True)
mapping_app = typer.Typer(help="A source's alert mapping: which labels name the node, and "
                               "what severities mean.", no_args_is_help=True)
alerts_app.add_typer(mapping_app, name="mapping")
maintenance_app = typer.Typer(help="Maintenance windows: planned work, marked planned in "
                                   "the current impact while it lasts.", no_args_is_help=True)

SourceArg = Annotated[str, typer.Argument(help="the alerting source's name, e.g. alertmanager")]


def _json_file(file: Path) -> Any:
    try:
        return json.loads(read_text(file))
    except ValueError as exc:
        raise fail(f"{file}: not valid JSON: {exc}") from None


def detect(payload: Any) -> str:
    """Which format a payload is in: ``generic`` when its alerts have a ``key`` (or it
    has nothing but alerts, none with Alertmanager's fields), else ``alertmanager``.

    >>> detect({"alerts": [{"key": "k1", "node": "db-1"}]})
    'generic'
    >>> detect({"version": "4", "alerts": [{"labels": {}, "startsAt": "…"}]})
    'alertmanager'
    """
    if not isinstance(payload, dict) or "version" in payload or set(payload) - {"alerts"}:
        return "alertmanager"
    alerts = payload.get("alerts")
    items = [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []
    if any("key" in a for a in items):
        return "generic"
    if any({"startsAt", "fingerprint"} & set(a) for a in items):
        return "alertmanager"
    return "generic"


@alerts_app.command("send")
def send(source: SourceArg,
         file: Annotated[Path, typer.Argument(help="alerts: an Alertmanager webhook payload "
                                                   "or the generic format (JSON)")],
         kind: Annotated[str | None, typer.Option(
             "--as", help="alertmanager or generic (default: told by the file)")] = None,
         fmt: FormatOpt = Format.TEXT,
         store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Deliver FILE's alerts from SOURCE, as Alertmanager's webhook, or a sender of the
    generic format, would."""
    if kind not in (None, "alertmanager", "generic"):
        raise fail(f"--as {kind!r}: use alertmanager or generic")
    payload = _json_file(file)
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.send_alerts(source, payload, kind or detect(payload))
        except ValueError as exc:  # the problems, named for this file
            raise fail(f"{file}: {exc}") from None
        emit(fmt, answer,
             f"{answer['received']} alert(s): {answer['firing']} firing, "
             f"{answer['resolved']} resolved, {answer['unchanged']} unchanged, "
             f"{answer['stale']} stale, {answer.get('unmatched', 0)} matching no node\n"
             f"broken promises now: {', '.join(answer['broken_promises']) or 'none'}")


@alerts_app.command("list")
def list_alerts(source: SourceArg,
                unmatched: Annotated[bool, typer.Option(
                    "--unmatched", help="only the alerts that match no node")] = False,
                fmt: FormatOpt = Format.TEXT,
                store: StoreOpt = None, server: ServerOpt = None,
                api_key: ApiKeyOpt = None) -> None:
    """The alerts SOURCE sent (firing and ended), or those that match no node."""
    with connect(store, server, api_key) as backend:
        answer = backend.alerts(source, unmatched)
    lines = [f"{a['status']:8} {a['state']:8} {a['node'] or '(no node)':24} "
             f"{a['labels'].get('alertname', a['fingerprint'])}" for a in answer["alerts"]]
    emit(fmt, answer, "\n".join(lines) or "no alerts")


def _mapping_text(m: dict[str, Any]) -> str:
    head = (f"{m['source']}: the default mapping (none set)" if m["version"] == 0 else
            f"{m['source']}: version {m['version']}, set {m['updated_at']} by "
            f"{m['updated_by']}")
    rules = []
    for i, rule in enumerate(m["rules"], 1):
        how = [f"{rule['label']} -> {rule['to']}"]
        if rule.get("table"):
            how.append(f"({len(rule['table'])} entries)")
        how += [f"{k}={rule[k]}" for k in ("source", "regex") if rule.get(k)]
        if rule.get("strip_port"):
            how.append("without port")
        rules.append(f"  {i:2}. {' '.join(how)}")
    sev = m["severity"]
    states = ", ".join(f"{k}={v}" for k, v in sev["states"].items()) or "built-in"
    return "\n".join([head, "rules, tried in order:", *rules,
                      f"severity from label {sev['label']!r}: {states}; "
                      f"otherwise {sev['default']}"])


@mapping_app.command("show")
def show_mapping(source: SourceArg, fmt: FormatOpt = Format.TEXT,
                 store: StoreOpt = None, server: ServerOpt = None,
                 api_key: ApiKeyOpt = None) -> None:
    """SOURCE's alert mapping, with its version and who set it when."""
    with connect(store, server, api_key) as backend:
        answer = backend.alert_mapping(source)
    emit(fmt, answer, _mapping_text(answer))


@mapping_app.command("set")
def set_mapping(source: SourceArg,
                file: Annotated[Path, typer.Argument(help="the mapping (JSON): rules and "
                                                          "severity")],
                fmt: FormatOpt = Format.TEXT,
                store: StoreOpt = None, server: ServerOpt = None,
                api_key: ApiKeyOpt = None) -> None:
    """Set SOURCE's alert mapping from FILE (validated whole); SOURCE's firing alerts are
    matched again under it."""
    doc = _json_file(file)
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.set_alert_mapping(source, doc)
        except ValueError as exc:
            raise fail(f"{file}: {exc}") from None
    emit(fmt, answer,
         f"{_mapping_text(answer)}\n"
         f"firing alerts: {answer['rematched']} matched now, {answer['remapped']} "
         f"mapped otherwise, {answer['unmatched']} matching no node\n"
         f"broken promises now: {', '.join(answer['broken_promises']) or 'none'}")


def _window_line(w: dict[str, Any]) -> str:
    return (f"{w['id']:16} {w['phase']:9} {w['starts_at']} .. {w['ends_at']}  {w['title']}"
            f"  ({', '.join(w['components'])})")


@maintenance_app.command("add")
def add(window_id: Annotated[str, typer.Argument(help="the window's (or change's) id")],
        title: Annotated[str, typer.Option(help="what the work is")],
        component: Annotated[list[str], typer.Option(help="a node the work touches "
                                                          "(repeat for several)")],
        start: Annotated[str, typer.Option(help="ISO 8601 with a UTC offset")],
        end: Annotated[str, typer.Option(help="ISO 8601 with a UTC offset, after start")],
        owner: Annotated[str | None, typer.Option(help="who does the work")] = None,
        fmt: FormatOpt = Format.TEXT,
        store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Register (or replace) a maintenance window; prints what the work would break."""
    window = {"id": window_id, "title": title, "components": component, "starts_at": start,
              "ends_at": end, "owner": owner}
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.register_window(window)
        except ValueError as exc:
            raise fail(str(exc)) from None
    change = answer["assessment"]["changes"].get(window_id, {})
    emit(fmt, answer,
         f"{_window_line(answer['window'])}\n"
         f"would break: {', '.join(change.get('broken_promises', [])) or 'nothing'}; "
         f"at risk: {', '.join(change.get('at_risk_promises', [])) or 'nothing'}")


@maintenance_app.command("list")
def list_windows(phase: Annotated[str | None, typer.Option(
                     help="upcoming, active, ended or cancelled")] = None,
                 fmt: FormatOpt = Format.TEXT,
                 store: StoreOpt = None, server: ServerOpt = None,
                 api_key: ApiKeyOpt = None) -> None:
    """The maintenance windows, by start, with their phase now."""
    if phase not in (None, "upcoming", "active", "ended", "cancelled"):
        raise fail(f"--phase {phase!r}: use upcoming, active, ended or cancelled")
    with connect(store, server, api_key) as backend:
        answer = backend.windows(phase)
    emit(fmt, answer, "\n".join(_window_line(w) for w in answer["windows"]) or "no windows")


@maintenance_app.command("cancel")
def cancel(window_id: Annotated[str, typer.Argument(help="the window's id")],
           fmt: FormatOpt = Format.TEXT,
           store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Cancel a maintenance window: its components' failures are unplanned from now."""
    with connect(store, server, api_key) as backend:
        answer = backend.cancel_window(window_id)
    if answer is None:
        raise fail(f"no maintenance window {window_id!r}", 1)
    emit(fmt, answer, _window_line(answer))


# --- acknowledgements -------------------------------------------------------------------


def _ack_line(a: dict[str, Any]) -> str:
    comment = f"  \u2014 {a['comment']}" if a.get("comment") else ""
    ended = f"  (ended: {a['ended']} {a['ended_at']})" if a.get("ended") else ""
    return f"{a['node']:24} {a['now']:8} {a['by']} since {a['at']}{comment}{ended}"


def ack(words: Annotated[list[str], typer.Argument(
            metavar="NODE | list | clear NODE",
            help="the node to acknowledge; `list` for those that hold; `clear NODE` to "
                 "withdraw one")],
        by: Annotated[str | None, typer.Option(help="who is on it")] = None,
        comment: Annotated[str | None, typer.Option(help="what is being done")] = None,
        fmt: FormatOpt = Format.TEXT,
        store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Acknowledge a failing node ("on it"): `ack NODE --by WHO [--comment TEXT]`.

    It shows in the current impact and in webhook events, and ends when the node recovers.

    `ack list` shows those that hold; `ack clear NODE` withdraws one.
    """
    verb, rest = words[0], words[1:]
    if verb == "list" and not rest:
        with connect(store, server, api_key) as backend:
            answer = backend.acknowledgements()
        emit(fmt, answer, "\n".join(_ack_line(a) for a in answer["acknowledgements"])
             or "no acknowledgements")
        return
    if verb == "clear" and len(rest) == 1:
        with connect(store, server, api_key) as backend:
            ended = backend.clear_ack(rest[0])
        if ended is None:
            raise fail(f"node {rest[0]!r} holds no acknowledgement", 1)
        emit(fmt, ended, _ack_line(ended))
        return
    if rest:
        raise fail("use: servicegraph ack NODE --by WHO | ack list | ack clear NODE")
    if not by:
        raise fail(f"who is on {verb!r}? give --by WHO")
    with connect(store, server, api_key) as backend:
        given = backend.acknowledge(verb, by, comment)
    emit(fmt, given, _ack_line(given))


# --- webhook subscriptions --------------------------------------------------------------

subscriptions_app = typer.Typer(help="Webhook subscriptions: promise events POSTed to a "
                                     "receiver, signed, at least once, in order.",
                                no_args_is_help=True)

SubscriptionArg = Annotated[str, typer.Argument(help="the subscription's id")]


def _subscription_line(s: dict[str, Any]) -> str:
    flt = "; ".join(f"{k}={','.join(v)}" for k, v in sorted(s.get("filter", {}).items()) if v)
    return (f"{s['id']}  {s['url']}  {s['format']}  {flt or 'every event'}"
            + (f"  sequence {s['sequence']}" if "sequence" in s else ""))


@subscriptions_app.command("add")
def subscribe(url: Annotated[str, typer.Argument(help="the receiver's http(s) URL")],
              kind: Annotated[list[str] | None, typer.Option(
                  help="only events of this kind (repeat): broken, at_risk, recovered, "
                       "planned, acknowledged, new_cause")] = None,
              promise: Annotated[list[str] | None, typer.Option(
                  help="only events of this promise (repeat)")] = None,
              business_service: Annotated[list[str] | None, typer.Option(
                  help="only promises of this business service (repeat)")] = None,
              owner: Annotated[list[str] | None, typer.Option(
                  help="only promises this owner owns (repeat)")] = None,
              provider: Annotated[list[str] | None, typer.Option(
                  help="only when this provider must act (repeat)")] = None,
              secret: Annotated[str | None, typer.Option(
                  help="the signing secret (16+ characters; one is made if not given)")
              ] = None,
              event_format: Annotated[str, typer.Option(
                  "--event-format", help="native or cloudevents")] = "native",
              fmt: FormatOpt = Format.TEXT,
              store: StoreOpt = None, server: ServerOpt = None,
              api_key: ApiKeyOpt = None) -> None:
    """Subscribe URL to promise events; prints it with its secret (shown only now)."""
    flt = {k: v for k, v in (("kinds", kind), ("promises", promise),
                             ("business_services", business_service), ("owners", owner),
                             ("providers", provider)) if v}
    with connect(store, server, api_key) as backend:
        made = backend.subscribe(url, flt, secret, event_format)
    emit(fmt, made, f"{_subscription_line(made)}\nsecret: {made['secret']}")


@subscriptions_app.command("list")
def list_subscriptions(fmt: FormatOpt = Format.TEXT,
                       store: StoreOpt = None, server: ServerOpt = None,
                       api_key: ApiKeyOpt = None) -> None:
    """Every subscription, oldest first (without secrets)."""
    with connect(store, server, api_key) as backend:
        found = backend.subscriptions()
    emit(fmt, found, "\n".join(_subscription_line(s) for s in found) or "no subscriptions")


@subscriptions_app.command("remove")
def unsubscribe(subscription: SubscriptionArg, fmt: FormatOpt = Format.TEXT,
                store: StoreOpt = None, server: ServerOpt = None,
                api_key: ApiKeyOpt = None) -> None:
    """Remove a subscription (its undelivered events go with it)."""
    with connect(store, server, api_key) as backend:
        backend.unsubscribe(subscription)
    emit(fmt, {"removed": subscription}, f"removed {subscription}")


@subscriptions_app.command("dead")
def dead_letters(subscription: SubscriptionArg, fmt: FormatOpt = Format.TEXT,
                 store: StoreOpt = None, server: ServerOpt = None,
                 api_key: ApiKeyOpt = None) -> None:
    """A subscription's dead letters (every attempt failed), in order."""
    with connect(store, server, api_key) as backend:
        found = backend.dead_letters(subscription)
    emit(fmt, found, "\n".join(
        f"{d['sequence']:>5} {d['event_id']} {d['kind']:12} {d['data'].get('promise')}  "
        f"{d['error']}" for d in found) or "no dead letters")


@subscriptions_app.command("redeliver")
def redeliver(subscription: SubscriptionArg,
              event: Annotated[str, typer.Argument(help="the dead letter's event id")],
              fmt: FormatOpt = Format.TEXT,
              store: StoreOpt = None, server: ServerOpt = None,
              api_key: ApiKeyOpt = None) -> None:
    """Queue a dead letter again: it is sent before the subscription's later events."""
    with connect(store, server, api_key) as backend:
        backend.redeliver(subscription, event)
    emit(fmt, {"queued": event}, f"queued {event} again")
