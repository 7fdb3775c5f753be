"""The subscription routes: what is refused (and why), what is kept, who may."""

from __future__ import annotations

from pathlib import Path

from servicegraph.store import GraphStore
from servicegraph.store.base import OutboxStore
from servicegraph_api.auth import Scope

from apikit import add_key, api_client

LOOPBACK = ["127.0.0.0/8"]


def fresh(store: GraphStore) -> GraphStore:
    assert isinstance(store, OutboxStore)
    store.outbox_reset()
    return store


def test_without_allowed_networks_every_subscription_is_refused(store: GraphStore,
                                                                tmp_path: Path) -> None:
    with api_client(fresh(store), tmp_path) as client:
        r = client.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/hook"})
        assert r.status_code == 422, r.text
        (problem,) = r.json()["problems"]
        assert problem["item"] == "http://127.0.0.1:9/hook"
        assert "SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS" in problem["message"]
        assert client.get("/v1/subscriptions").json() == []


def test_a_url_outside_the_allowed_networks_or_not_http_is_refused(store: GraphStore,
                                                                  tmp_path: Path) -> None:
    with api_client(fresh(store), tmp_path, subscription_allowed_networks=LOOPBACK) as client:
        for url, words in [("http://10.1.2.3/hook", "outside the networks"),
                           ("http://[::1]:9/hook", "outside the networks"),
                           ("ftp://127.0.0.1/hook", "not http or https"),
                           ("file:///etc/passwd", "not http or https"),
                           ("http://user:pw@127.0.0.1/hook", "credentials"),
                           ("http:///hook", "names no host")]:
            r = client.post("/v1/subscriptions", json={"url": url})
            assert r.status_code == 422, (url, r.text)
            (problem,) = r.json()["problems"]
            assert problem["item"] == url and words in problem["message"], problem
        assert client.get("/v1/subscriptions").json() == []


def test_bad_filters_formats_and_secrets_are_refused(store: GraphStore,
                                                     tmp_path: Path) -> None:
    with api_client(fresh(store), tmp_path, subscription_allowed_networks=LOOPBACK) as client:
        url = "http://127.0.0.1:9/hook"
        for body in ({"url": url, "format": "xml"}, {"url": url, "filter": {"colour": []}},
                     {"url": url, "filter": {"kinds": ["exploded"]}},
                     {"url": url, "secret": "short"}):
            r = client.post("/v1/subscriptions", json=body)
            assert r.status_code == 422, (body, r.text)
        assert client.get("/v1/subscriptions").json() == []


def test_a_subscription_is_kept_its_secret_shown_once(store: GraphStore,
                                                      tmp_path: Path) -> None:
    with api_client(fresh(store), tmp_path, subscription_allowed_networks=LOOPBACK) as client:
        r = client.post("/v1/subscriptions", json={
            "url": "http://127.0.0.1:9/hook", "format": "cloudevents",
            "filter": {"promises": ["onboarding"], "kinds": ["broken", "recovered"]}})
        assert r.status_code == 201, r.text
        made = r.json()
        assert len(made["secret"]) >= 32
        assert made["filter"] == {"promises": ["onboarding"], "kinds": ["broken", "recovered"]}
        shown = client.get(f"/v1/subscriptions/{made['id']}").json()
        assert "secret" not in shown and shown["format"] == "cloudevents"
        assert shown["sequence"] == 0
        assert [s["id"] for s in client.get("/v1/subscriptions").json()] == [made["id"]]
        given = client.post("/v1/subscriptions", json={"url": "http://127.0.0.1:9/other",
                                                        "secret": "x" * 20})
        assert given.json()["secret"] == "x" * 20
        assert client.delete(f"/v1/subscriptions/{made['id']}").status_code == 204
        r = client.get(f"/v1/subscriptions/{made['id']}")
        assert r.status_code == 404 and made["id"] in r.json()["detail"]
        assert client.delete(f"/v1/subscriptions/{made['id']}").status_code == 404
        assert client.get(f"/v1/subscriptions/{made['id']}/dead").status_code == 404
        other = given.json()["id"]
        assert client.get(f"/v1/subscriptions/{other}/dead").json() == []
        r = client.post(f"/v1/subscriptions/{other}/dead/nothing/redeliver")
        assert r.status_code == 404 and "nothing" in r.json()["detail"]


def test_subscriptions_need_the_admin_scope(store: GraphStore, tmp_path: Path) -> None:
    ingest = add_key(tmp_path, "pusher", Scope.INGEST)
    admin = add_key(tmp_path, "operator", Scope.ADMIN)
    with api_client(fresh(store), tmp_path, subscription_allowed_networks=LOOPBACK) as client:
        body = {"url": "http://127.0.0.1:9/hook"}
        for method, path in (("POST", "/v1/subscriptions"), ("GET", "/v1/subscriptions")):
            r = client.request(method, path, json=body, headers={"X-API-Key": ingest})
            assert r.status_code == 403 and "admin" in r.json()["detail"]
        r = client.post("/v1/subscriptions", json=body, headers={"X-API-Key": admin})
        assert r.status_code == 201
