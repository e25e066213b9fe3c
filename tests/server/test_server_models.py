"""Listing, reading and deleting models and versions (server/routes/models.py)."""

import sqlite3
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

import engine
from server import create_app
from tests.server.conftest import bearer, model_file, storage_snapshot

MODEL = "/api/models/{}/{}"


def push(client, headers, owner="alice", name="mlp", values=(1.0,), metadata=None):
    response = client.post(
        MODEL.format(owner, name) + "/versions",
        content=model_file(values=values, metadata=metadata),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def blob_files(settings):
    return sorted(p.name for p in (settings.data_dir / "blobs").rglob("*") if p.is_file())


def test_health_and_index(client):
    assert client.get("/api/health").json() == {"status": "ok", "version": engine.__version__}
    page = client.get("/")
    assert "webgpu-engine" in page.text and "/api/openapi.json" in page.text


def test_hub_page_is_404_without_web_files(tmp_path, settings):
    client = TestClient(create_app(replace(settings, web_dir=tmp_path / "nowhere")))
    response = client.get("/hub")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_newest_first_with_search_and_paging(client, alice, token_for):
    bob = bearer(token_for("bob"))
    push(client, alice, name="mnist-mlp", metadata={"acc": "0.9"})
    push(client, bob, owner="bob", name="cnn")
    push(client, alice, name="tiny")
    push(client, alice, name="mnist-mlp", values=(2.0,), metadata={"acc": "0.95"})

    listing = client.get("/api/models").json()
    assert [(m["owner"], m["name"]) for m in listing["models"]] == [
        ("alice", "mnist-mlp"),
        ("alice", "tiny"),
        ("bob", "cnn"),
    ]
    assert (listing["total"], listing["limit"], listing["offset"]) == (3, 50, 0)
    first = listing["models"][0]
    assert first["latest_version"] == 2 and first["versions"] == 2
    assert first["metadata"] == {"acc": "0.95"}
    assert first["created_at"] < first["updated_at"]

    def names(**params):
        return [m["name"] for m in client.get("/api/models", params=params).json()["models"]]

    assert names(q="MNIST") == ["mnist-mlp"]
    assert names(q="bob/") == ["cnn"]
    assert names(q="%") == []  # a substring, not a LIKE pattern
    assert names(owner="alice") == ["mnist-mlp", "tiny"]
    assert names(owner="alice", q="tin") == ["tiny"]
    assert names(limit=1, offset=1) == ["tiny"]
    page = client.get("/api/models", params={"limit": 2, "offset": 2}).json()
    assert [m["name"] for m in page["models"]] == ["cnn"] and page["total"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"limit": "-1"},
        {"limit": "+5"},
        {"offset": "-1"},
        {"offset": "1.5"},
        {"offset": str(2**63)},
        {"owner": "no/slash"},
    ],
)
def test_list_bad_parameters(client, params):
    response = client.get("/api/models", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"].startswith("invalid_")


def test_model_and_version_records(client, alice):
    v1 = push(client, alice, metadata={"epochs": "3"})
    v2 = push(client, alice, values=(1.0, 2.0))
    model = client.get(MODEL.format("alice", "mlp")).json()
    assert model["versions"] == [v1, v2]
    assert model["created_at"] == v1["created_at"] and model["updated_at"] == v2["created_at"]
    assert v2["metadata"] == {}
    assert client.get(MODEL.format("alice", "mlp") + "/versions/1").json() == v1
    assert client.get(MODEL.format("alice", "mlp") + "/versions/latest").json() == v2


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/models/alice/nothing", 404, "not_found"),
        ("/api/models/nobody/mlp/versions/1", 404, "not_found"),
        ("/api/models/alice/mlp/versions/9", 404, "not_found"),
        ("/api/models/alice/mlp/versions/9/file", 404, "not_found"),
        ("/api/models/alice/mlp/versions/0", 400, "invalid_version"),
        ("/api/models/alice/mlp/versions/-1", 400, "invalid_version"),
        ("/api/models/alice/mlp/versions/newest", 400, "invalid_version"),
        (f"/api/models/alice/mlp/versions/{2**64}", 400, "invalid_version"),
        ("/api/models/alice/m..lp", 400, "invalid_name"),
        ("/api/models/.alice/mlp/versions/1", 400, "invalid_name"),
        ("/api/models/alice/mlp/versions/1/file/extra", 404, "not_found"),
    ],
)
def test_unknown_and_malformed(client, alice, path, status, code):
    push(client, alice)
    response = client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_delete_version_and_model(client, alice, settings):
    push(client, alice, values=(1.0,))
    push(client, alice, values=(2.0,))
    push(client, alice, values=(1.0,))  # the same file as version 1
    push(client, alice, name="other", values=(2.0,))
    assert len(blob_files(settings)) == 2

    mlp = MODEL.format("alice", "mlp")
    assert client.delete(mlp + "/versions/1", headers=alice).status_code == 204
    assert len(blob_files(settings)) == 2  # version 3 still holds that file
    versions = client.get(MODEL.format("alice", "mlp")).json()["versions"]
    assert [v["version"] for v in versions] == [2, 3]
    # Numbers are not handed out again: the next push is 4, not 1 or 3.
    assert push(client, alice, values=(3.0,))["version"] == 4

    assert client.delete(MODEL.format("alice", "mlp"), headers=alice).status_code == 204
    assert client.get(MODEL.format("alice", "mlp")).status_code == 404
    assert len(blob_files(settings)) == 1  # the file "other" shares with version 2 stays

    other = MODEL.format("alice", "other")
    assert client.delete(other + "/versions/1", headers=alice).status_code == 204
    assert client.get(MODEL.format("alice", "other")).status_code == 404  # its last version
    assert client.get("/api/models").json()["total"] == 0
    assert blob_files(settings) == []


@pytest.mark.parametrize("target", ["/api/models/alice/mlp", "/api/models/alice/mlp/versions/1"])
def test_delete_needs_the_owners_token(client, alice, token_for, settings, target):
    push(client, alice)
    before = storage_snapshot(settings.data_dir)
    assert client.delete(target).status_code == 401
    assert client.delete(target, headers=bearer("wrong")).status_code == 401
    assert client.delete(target, headers=bearer(token_for("bob"))).status_code == 403
    assert client.delete(target.replace("mlp", "none"), headers=alice).status_code == 404
    assert client.delete(target.replace("alice", "al..ice"), headers=alice).status_code == 400
    assert storage_snapshot(settings.data_dir) == before


def test_delete_version_needs_a_number(client, alice):
    push(client, alice)
    response = client.delete(MODEL.format("alice", "mlp") + "/versions/latest", headers=alice)
    assert response.status_code == 400
    assert client.get(MODEL.format("alice", "mlp")).status_code == 200


def test_unknown_paths_and_methods_answer_json_errors(client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = client.put("/api/models/alice/mlp")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_version_numbers_are_never_reused_after_deletes(client, alice):
    """A versions/N URL is cached as immutable: N must never name other bytes later."""
    assert [push(client, alice, values=(v,))["version"] for v in (1.0, 2.0)] == [1, 2]
    assert client.delete(MODEL.format("alice", "mlp") + "/versions/2", headers=alice).is_success
    assert push(client, alice, values=(3.0,))["version"] == 3
    assert client.delete(MODEL.format("alice", "mlp"), headers=alice).status_code == 204
    assert push(client, alice, values=(4.0,))["version"] == 4
    # deleting the only version deletes the model too
    assert client.delete(MODEL.format("alice", "mlp") + "/versions/4", headers=alice).is_success
    assert client.get(MODEL.format("alice", "mlp")).status_code == 404
    assert push(client, alice, values=(5.0,))["version"] == 5
    assert client.get(MODEL.format("alice", "mlp") + "/versions/1/file").status_code == 404
    versions = client.get(MODEL.format("alice", "mlp")).json()["versions"]
    assert [version["version"] for version in versions] == [5]
    assert push(client, alice, name="other")["version"] == 1  # numbers are per owner/name


def test_listings_carry_a_summary_of_the_metadata_and_the_version_all_of_it(client, alice):
    metadata = {
        "accuracy": "0.97",
        "engine.architecture": "x" * 1000,  # too long for a listing
        "k" * 65: "long key",
        **{f"e{i}": str(i) for i in range(40)},
    }
    push(client, alice, metadata=metadata)
    listed = client.get("/api/models").json()["models"][0]
    assert listed["metadata"] == {"accuracy": "0.97", **{f"e{i}": str(i) for i in range(31)}}
    assert listed["metadata_truncated"] is True
    assert client.get(MODEL.format("alice", "mlp") + "/versions/1").json()["metadata"] == metadata
    assert client.get(MODEL.format("alice", "mlp")).json()["versions"][0]["metadata"] == metadata
    push(client, alice, name="small", metadata={"acc": "0.5"})
    listed = client.get("/api/models", params={"limit": 1}).json()["models"][0]
    assert (listed["metadata"], listed["metadata_truncated"]) == ({"acc": "0.5"}, False)


def test_a_database_from_before_summaries_gets_them_on_start(client, alice, settings):
    push(client, alice, metadata={"acc": "0.9", "long": "y" * 300})
    with sqlite3.connect(settings.data_dir / "exchange.sqlite3") as db:
        db.execute("ALTER TABLE versions DROP COLUMN metadata_summary")
    with TestClient(create_app(settings)) as fresh:
        listed = fresh.get("/api/models").json()["models"][0]
    assert (listed["metadata"], listed["metadata_truncated"]) == ({"acc": "0.9"}, True)
