"""Models, versions and tokens in one SQLite file, `<data_dir>/exchange.sqlite3`.

Each call opens its own connection (cheap for a local file, and safe from any thread of
the pool the routes run us in). WAL mode lets readers go on while a push commits; every
write runs in a `BEGIN IMMEDIATE` transaction, which takes the database's one write lock
up front, so two pushes to the same model cannot both read "last version = 4" and both
write version 5: they queue, and get 5 and 6.
"""

import json
import logging
import sqlite3
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime

from .base import (
    MetadataStore,
    ModelRecord,
    ModelSummary,
    TokenRecord,
    VersionRecord,
    summarize_metadata,
)

log = logging.getLogger("server")

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- The highest number handed out: a deleted version's number is not handed out again.
    last_version INTEGER NOT NULL,
    UNIQUE (owner, name)
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL,  -- JSON
    tensors TEXT NOT NULL,   -- JSON
    -- JSON [summary, truncated] of summarize_metadata(metadata), what listings show; a
    -- column of its own so that a listing never reads the whole metadata
    metadata_summary TEXT,
    UNIQUE (model_id, version)
);
CREATE INDEX IF NOT EXISTS versions_by_sha256 ON versions (sha256);
-- The highest version number each owner/name has ever handed out. Unlike the models row,
-- it outlives the model: a number once used is never used again by that owner/name, so a
-- versions/N URL (served as immutable) never names other bytes.
CREATE TABLE IF NOT EXISTS version_numbers (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    last_version INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
);
-- A database from before this table: take the numbers its models have handed out.
INSERT INTO version_numbers (owner, name, last_version)
    SELECT owner, name, last_version FROM models WHERE true
    ON CONFLICT (owner, name) DO UPDATE
    SET last_version = max(last_version, excluded.last_version);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

# Columns of a version joined with its model, in the order _version_record reads them.
_VERSION_COLUMNS = (
    "m.owner, m.name, v.version, v.sha256, v.size, v.created_at, v.metadata, v.tensors"
)


def now():
    """The current time as ISO 8601 UTC with microseconds: sorts as text in time order."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _version_record(row):
    owner, name, version, sha256, size, created_at, metadata, tensors = row
    return VersionRecord(
        owner, name, version, sha256, size, created_at, json.loads(metadata), json.loads(tensors)
    )


class SQLiteMetadataStore(MetadataStore):
    def __init__(self, path):
        self.path = path
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file
            db.executescript(SCHEMA)
            self._add_metadata_summaries(db)

    def _add_metadata_summaries(self, db):
        """A database from before the metadata_summary column: add it and fill it in."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(versions)")}
        db.execute("BEGIN IMMEDIATE")
        try:
            if "metadata_summary" not in columns:
                db.execute("ALTER TABLE versions ADD COLUMN metadata_summary TEXT")
            rows = db.execute(
                "SELECT id, metadata FROM versions WHERE metadata_summary IS NULL"
            ).fetchall()
            for version_id, metadata in rows:
                summary = json.dumps(summarize_metadata(json.loads(metadata)))
                db.execute(
                    "UPDATE versions SET metadata_summary = ? WHERE id = ?", (summary, version_id)
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _connect(self):
        # isolation_level=None: no implicit transactions; we say BEGIN where we mean it.
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextmanager
    def _read(self):
        with closing(self._connect()) as db:
            yield db

    @contextmanager
    def _write(self):
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ------------------------------------------------------------------------- models

    def list_models(self, q, owner, limit, offset):
        where, params = [], []
        if q:
            where.append("instr(lower(m.owner || '/' || m.name), ?) > 0")
            params.append(q.lower())
        if owner is not None:
            where.append("m.owner = ?")
            params.append(owner)
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        with self._read() as db:
            db.execute("BEGIN")  # one snapshot for the page and the total
            (total,) = db.execute(f"SELECT count(*) FROM models m {condition}", params).fetchone()
            rows = db.execute(
                f"""
                SELECT m.owner, m.name, latest.version,
                       (SELECT count(*) FROM versions c WHERE c.model_id = m.id),
                       m.created_at, latest.created_at, latest.metadata_summary
                FROM models m
                JOIN versions latest ON latest.id = (
                    SELECT id FROM versions WHERE model_id = m.id ORDER BY version DESC LIMIT 1
                )
                {condition}
                ORDER BY latest.created_at DESC, latest.id DESC
                LIMIT ? OFFSET ?
                """,
                [*params, limit, offset],
            ).fetchall()
            db.execute("COMMIT")
        models = [
            ModelSummary(owner, name, latest, count, created, updated, *json.loads(summary))
            for owner, name, latest, count, created, updated, summary in rows
        ]
        return models, total

    def get_model(self, owner, name):
        with self._read() as db:
            db.execute("BEGIN")
            model = db.execute(
                "SELECT created_at FROM models WHERE owner = ? AND name = ?", (owner, name)
            ).fetchone()
            rows = db.execute(
                f"""SELECT {_VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id
                WHERE m.owner = ? AND m.name = ? ORDER BY v.version""",
                (owner, name),
            ).fetchall()
            db.execute("COMMIT")
        if model is None or not rows:
            return None
        versions = [_version_record(row) for row in rows]
        return ModelRecord(owner, name, model[0], versions[-1].created_at, versions)

    def get_version(self, owner, name, version):
        query = f"""SELECT {_VERSION_COLUMNS} FROM versions v JOIN models m ON m.id = v.model_id
            WHERE m.owner = ? AND m.name = ?"""
        if version is None:
            row_query, params = query + " ORDER BY v.version DESC LIMIT 1", (owner, name)
        else:
            row_query, params = query + " AND v.version = ?", (owner, name, version)
        with self._read() as db:
            row = db.execute(row_query, params).fetchone()
        return None if row is None else _version_record(row)

    def create_version(self, owner, name, sha256, size, metadata, tensors, store_blob, remove_blob):
        created_blob = False
        try:
            with self._write() as db:
                created_at = now()
                db.execute(
                    """INSERT INTO models (owner, name, created_at, last_version)
                    VALUES (?, ?, ?, 0) ON CONFLICT (owner, name) DO NOTHING""",
                    (owner, name, created_at),
                )
                db.execute(
                    """INSERT INTO version_numbers (owner, name, last_version)
                    VALUES (?, ?, 0) ON CONFLICT (owner, name) DO NOTHING""",
                    (owner, name),
                )
                (model_id,) = db.execute(
                    "SELECT id FROM models WHERE owner = ? AND name = ?", (owner, name)
                ).fetchone()
                (last,) = db.execute(
                    "SELECT last_version FROM version_numbers WHERE owner = ? AND name = ?",
                    (owner, name),
                ).fetchone()
                version = last + 1
                created_blob = store_blob()
                db.execute(
                    """INSERT INTO versions (model_id, version, sha256, size, created_at,
                    metadata, tensors, metadata_summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        model_id,
                        version,
                        sha256,
                        size,
                        created_at,
                        json.dumps(metadata),
                        json.dumps(tensors),
                        json.dumps(summarize_metadata(metadata)),
                    ),
                )
                db.execute("UPDATE models SET last_version = ? WHERE id = ?", (version, model_id))
                db.execute(
                    "UPDATE version_numbers SET last_version = ? WHERE owner = ? AND name = ?",
                    (version, owner, name),
                )
        except BaseException:
            # Rolled back, so no version of ours references the blob this call stored. Take it
            # away as deletes do: under the write lock, and only if no version references it
            # (another push of the same bytes may have committed since the rollback).
            if created_blob:
                with suppress(Exception), self._write() as db:
                    self._remove_unreferenced(db, [sha256], remove_blob)
            raise
        return VersionRecord(owner, name, version, sha256, size, created_at, metadata, tensors)

    def _model_id(self, db, owner, name):
        row = db.execute(
            "SELECT id FROM models WHERE owner = ? AND name = ?", (owner, name)
        ).fetchone()
        return None if row is None else row[0]

    def _collect_blobs(self, hashes, remove_blob):
        """Remove the blobs among `hashes` that no version references, once the delete that
        released them has committed: a crash in between leaves an unreferenced blob (garbage,
        harmless), never a version whose blob is gone. Under the write lock again, so that a
        push of the same bytes cannot reference a blob while it is being removed. The delete
        has happened either way: a failure here is logged, not raised."""
        try:
            with self._write() as db:
                self._remove_unreferenced(db, hashes, remove_blob)
        except Exception:
            log.exception("could not remove the blobs %s that a delete released", hashes)

    def _remove_unreferenced(self, db, hashes, remove_blob):
        for sha256 in set(hashes):
            if db.execute("SELECT 1 FROM versions WHERE sha256 = ?", (sha256,)).fetchone() is None:
                remove_blob(sha256)

    def delete_version(self, owner, name, version, remove_blob):
        with self._write() as db:
            model_id = self._model_id(db, owner, name)
            if model_id is None:
                return False
            row = db.execute(
                "SELECT sha256 FROM versions WHERE model_id = ? AND version = ?",
                (model_id, version),
            ).fetchone()
            if row is None:
                return False
            db.execute(
                "DELETE FROM versions WHERE model_id = ? AND version = ?", (model_id, version)
            )
            remaining = db.execute("SELECT 1 FROM versions WHERE model_id = ?", (model_id,))
            if remaining.fetchone() is None:
                db.execute("DELETE FROM models WHERE id = ?", (model_id,))
        self._collect_blobs([row[0]], remove_blob)
        return True

    def delete_model(self, owner, name, remove_blob):
        with self._write() as db:
            model_id = self._model_id(db, owner, name)
            if model_id is None:
                return False
            hashes = [
                sha256
                for (sha256,) in db.execute(
                    "SELECT sha256 FROM versions WHERE model_id = ?", (model_id,)
                )
            ]
            db.execute("DELETE FROM models WHERE id = ?", (model_id,))  # cascades to versions
        self._collect_blobs(hashes, remove_blob)
        return True

    # ------------------------------------------------------------------------- tokens

    def add_token(self, owner, token_sha256):
        created_at = now()
        with self._write() as db:
            db.execute(
                "INSERT INTO tokens (token_sha256, owner, created_at) VALUES (?, ?, ?)",
                (token_sha256, owner, created_at),
            )
        return TokenRecord(owner, token_sha256, created_at)

    def token_owner(self, token_sha256):
        with self._read() as db:
            row = db.execute(
                "SELECT owner FROM tokens WHERE token_sha256 = ?", (token_sha256,)
            ).fetchone()
        return None if row is None else row[0]

    def list_tokens(self, owner):
        with self._read() as db:
            rows = db.execute(
                "SELECT owner, token_sha256, created_at FROM tokens WHERE owner = ? "
                "ORDER BY created_at",
                (owner,),
            ).fetchall()
        return [TokenRecord(*row) for row in rows]

    def revoke_token(self, token_sha256):
        with self._write() as db:
            cursor = db.execute("DELETE FROM tokens WHERE token_sha256 = ?", (token_sha256,))
        return cursor.rowcount > 0
