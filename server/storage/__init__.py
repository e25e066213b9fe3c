"""Where the exchange keeps its models: a `MetadataStore` and a `BlobStore` (see `base`).

The embedded default keeps everything under one data directory:

    <data_dir>/exchange.sqlite3   models, versions, token hashes   (sqlite.SQLiteMetadataStore)
    <data_dir>/blobs/ab/cdef...   the safetensors files by sha256  (files.FileBlobStore)
    <data_dir>/tmp/               uploads being received; empty when the server is idle

Scaling out means other implementations of the same two interfaces, chosen here from the
settings (say a `metadata_url` of `postgresql://...` and a `blob_url` of `s3://bucket/...`)
without touching a route. A PostgreSQL `MetadataStore` would run the same statements, with
`SELECT ... FOR UPDATE` on the model row (or an advisory lock) in place of SQLite's
`BEGIN IMMEDIATE`, so that version numbers stay unique and never reused and a blob is never
removed while a new version is about to reference it. An S3 `BlobStore` would `put` by
uploading the local temporary file to `<prefix>/<sha256>` (a single PUT is atomic: the
object appears whole or not at all), serve `read_range` with ranged GETs, and `delete` with
DELETE. Uploads are still received into `<data_dir>/tmp/` first, since the header must be
checked and the hash known before anything is stored. Neither is implemented yet.
"""

from .base import BlobStore, MetadataStore, ModelRecord, ModelSummary, TokenRecord, VersionRecord
from .files import FileBlobStore
from .sqlite import SQLiteMetadataStore


def open_storage(settings):
    """The (MetadataStore, BlobStore) pair that `settings` asks for, ready to use."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "tmp").mkdir(exist_ok=True)
    return SQLiteMetadataStore(data_dir / "exchange.sqlite3"), FileBlobStore(data_dir / "blobs")
