"""The embedded storage (server/storage/): version numbering under concurrency, atomicity
of "store the blob, then reference it", and garbage collection of blobs."""

import hashlib
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.storage import open_storage
from server.uploads import STALE_UPLOAD_SECONDS, remove_stale_uploads


@pytest.fixture
def stores(settings):
    return open_storage(settings)


def blob(stores, settings, content):
    """A temporary file holding `content`, and its sha256, ready for `put`."""
    path = settings.data_dir / "tmp" / f"{hashlib.sha1(content).hexdigest()}-{time.time_ns()}"
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest(), path


def create(stores, settings, content, name="m"):
    metadata, blobs = stores
    sha256, path = blob(stores, settings, content)
    return metadata.create_version(
        "alice", name, sha256, len(content), {}, {}, lambda: blobs.put(sha256, path), blobs.delete
    )


def test_concurrent_versions_are_unique_and_gap_free(stores, settings):
    with ThreadPoolExecutor(max_workers=8) as pool:
        records = list(pool.map(lambda i: create(stores, settings, b"x%d" % i), range(40)))
    assert sorted(record.version for record in records) == list(range(1, 41))


def test_failed_blob_store_writes_nothing(stores, settings):
    metadata, _ = stores

    def fail():
        raise OSError("disk full")

    with pytest.raises(OSError):
        metadata.create_version("alice", "m", "0" * 64, 10, {}, {}, fail, lambda sha256: None)
    assert metadata.get_model("alice", "m") is None
    assert metadata.list_models(None, None, 10, 0) == ([], 0)


def test_a_version_that_fails_after_its_blob_was_stored_leaves_no_blob(stores, settings):
    metadata, blobs = stores
    kept = create(stores, settings, b"shared bytes")
    for content, should_exist in [(b"new bytes", False), (b"shared bytes", True)]:
        sha256, path = blob(stores, settings, content)
        # The blob is stored, then recording the version fails (here: metadata that is not
        # JSON; in life a full disk or a broken database).
        with pytest.raises(TypeError):
            metadata.create_version(
                "alice",
                "m",
                sha256,
                len(content),
                {"bad": object()},
                {},
                lambda sha256=sha256, path=path: blobs.put(sha256, path),
                blobs.delete,
            )
        # A new blob is taken away again; one that other versions use stays.
        assert blobs.exists(sha256) is should_exist
    assert [v.version for v in metadata.get_model("alice", "m").versions] == [kept.version]
    assert create(stores, settings, b"new bytes").version == 2  # numbering is not skipped


@pytest.mark.parametrize("delete", ["version", "model"])
def test_a_blob_is_removed_only_after_the_delete_committed(stores, settings, delete):
    metadata, blobs = stores
    record = create(stores, settings, b"to delete")
    seen = []

    def remove(sha256):
        # Another connection: sees only what has been committed.
        seen.append(metadata.get_model("alice", "m"))
        blobs.delete(sha256)

    if delete == "version":
        assert metadata.delete_version("alice", "m", record.version, remove)
    else:
        assert metadata.delete_model("alice", "m", remove)
    assert seen == [None] and not blobs.exists(record.sha256)


def test_a_failed_blob_removal_does_not_undo_the_delete(stores, settings, caplog):
    metadata, blobs = stores
    record = create(stores, settings, b"stays as garbage")

    def fail(sha256):
        raise OSError("read-only file system")

    assert metadata.delete_version("alice", "m", record.version, fail)
    assert metadata.get_model("alice", "m") is None
    assert blobs.exists(record.sha256)  # unreferenced garbage, never a version without data
    assert "could not remove the blobs" in caplog.text


def test_blob_store_round_trip_and_ranges(stores, settings):
    _, blobs = stores
    content = bytes(range(256)) * 1000
    sha256, path = blob(stores, settings, content)
    blobs.put(sha256, path)
    assert not path.exists() and blobs.exists(sha256)
    assert b"".join(blobs.read_range(sha256, 0, len(content))) == content
    assert b"".join(blobs.read_range(sha256, 1000, 200_000)) == content[1000:200_000]
    # Putting identical content again keeps one copy and consumes the temporary file.
    again_sha, again = blob(stores, settings, content)
    blobs.put(again_sha, again)
    assert not again.exists()
    blobs.delete(sha256)
    assert not blobs.exists(sha256)
    blobs.delete(sha256)  # already gone: not an error
    with pytest.raises(FileNotFoundError):
        blobs.read_range(sha256, 0, 1)


def test_a_started_download_survives_a_delete(stores, settings):
    _, blobs = stores
    sha256, path = blob(stores, settings, b"model bytes")
    blobs.put(sha256, path)
    chunks = blobs.read_range(sha256, 0, 11)
    blobs.delete(sha256)
    assert b"".join(chunks) == b"model bytes"


def test_blob_names_must_be_hashes(stores):
    _, blobs = stores
    with pytest.raises(ValueError):
        blobs.exists("../../etc/passwd")


def test_stale_uploads_are_removed(settings, stores):
    tmp = settings.data_dir / "tmp"
    old, fresh = tmp / "old.upload", tmp / "fresh.upload"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    long_ago = time.time() - STALE_UPLOAD_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    remove_stale_uploads(tmp)
    assert not old.exists() and fresh.exists()


def test_a_database_from_before_version_numbers_keeps_its_numbering(stores, settings):
    """Opening a database whose models predate the version_numbers table takes their counts."""
    for i in range(3):
        create(stores, settings, b"v%d" % i)
    path = settings.data_dir / "exchange.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE version_numbers")
    metadata, blobs = open_storage(settings)
    assert metadata.delete_model("alice", "m", blobs.delete)
    assert create((metadata, blobs), settings, b"again").version == 4
