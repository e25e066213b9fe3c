"""The storage interface: a `MetadataStore` for models, versions and tokens, and a `BlobStore`
for the safetensors files themselves, addressed by their sha256.

Routes talk only to these two classes; `server.storage.open_storage` picks the
implementations. Both are synchronous (SQLite, files and most database and object-store
clients are); the routes call them through a thread pool.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VersionRecord:
    """One immutable version of a model: its file's hash and size, and what its header says."""

    owner: str
    name: str
    version: int
    sha256: str
    size: int
    created_at: str  # ISO 8601, UTC
    metadata: dict  # the file's "__metadata__" (str -> str)
    tensors: dict  # tensor name -> {"dtype": str, "shape": [int]}

    def to_json(self):
        return {
            "owner": self.owner,
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "size": self.size,
            "created_at": self.created_at,
            "metadata": self.metadata,
            "tensors": self.tensors,
        }


# What of a version's metadata a listing shows: the first entries whose key and value are
# short. The whole metadata is on the version's (and the model's) own route.
SUMMARY_ENTRIES = 32
SUMMARY_KEY_CHARS = 64
SUMMARY_VALUE_CHARS = 256


def summarize_metadata(metadata):
    """(summary, truncated): the entries of `metadata` that a listing shows, and whether
    any entry was left out."""
    summary = {}
    for key, value in metadata.items():
        if len(summary) == SUMMARY_ENTRIES:
            break
        if len(key) <= SUMMARY_KEY_CHARS and len(value) <= SUMMARY_VALUE_CHARS:
            summary[key] = value
    return summary, len(summary) < len(metadata)


@dataclass(frozen=True)
class ModelSummary:
    """A model as the listing shows it: counts and a summary of its latest version's
    metadata (`summarize_metadata`; `metadata_truncated` if entries were left out)."""

    owner: str
    name: str
    latest_version: int
    versions: int
    created_at: str
    updated_at: str  # when the latest version was pushed
    metadata: dict
    metadata_truncated: bool = False

    def to_json(self):
        return {
            "owner": self.owner,
            "name": self.name,
            "latest_version": self.latest_version,
            "versions": self.versions,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "metadata": self.metadata,
            "metadata_truncated": self.metadata_truncated,
        }


@dataclass(frozen=True)
class ModelRecord:
    owner: str
    name: str
    created_at: str
    updated_at: str
    versions: list  # of VersionRecord, oldest first

    def to_json(self):
        return {
            "owner": self.owner,
            "name": self.name,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "versions": [version.to_json() for version in self.versions],
        }


@dataclass(frozen=True)
class TokenRecord:
    owner: str
    token_sha256: str
    created_at: str


class MetadataStore(ABC):
    """Models, their versions and the owners' tokens.

    A model exists exactly as long as it has at least one version. Version numbers count
    from 1 per owner/name and are never reused, not even after the model was deleted: a
    new model of the same owner/name goes on from the highest number ever handed out.
    """

    @abstractmethod
    def list_models(self, q, owner, limit, offset) -> tuple[list[ModelSummary], int]:
        """A page of models, newest first by their latest version, and the total count.

        `q` (or None) matches a case-insensitive substring of "owner/name"; `owner` (or
        None) an exact owner.
        """

    @abstractmethod
    def get_model(self, owner, name) -> ModelRecord | None: ...

    @abstractmethod
    def get_version(self, owner, name, version) -> VersionRecord | None:
        """Version number `version`, or the latest one if `version` is None."""

    @abstractmethod
    def create_version(
        self,
        owner,
        name,
        sha256,
        size,
        metadata,
        tensors,
        store_blob: Callable[[], bool],
        remove_blob: Callable[[str], None],
    ) -> VersionRecord:
        """Add the next version of owner/name (creating the model), calling `store_blob()`
        while holding the write lock, just before the version becomes visible.

        Holding the lock makes "store the blob, then reference it" atomic with respect to
        `delete_*`, which removes a blob only when no version references it: otherwise a
        delete could remove a blob that this new version is about to reference. If
        `store_blob` raises, nothing is written; if recording the version fails after it
        stored a new blob (it returned True), `remove_blob(sha256)` takes the blob away
        again, so that a failed push leaves nothing behind.
        """

    @abstractmethod
    def delete_version(self, owner, name, version, remove_blob: Callable[[str], None]) -> bool:
        """Delete one version (and the model with its last version); False if none.

        `remove_blob(sha256)` is called, under the write lock and after the delete has
        committed, for each blob that no version references any more.
        """

    @abstractmethod
    def delete_model(self, owner, name, remove_blob: Callable[[str], None]) -> bool:
        """Delete a model and all its versions; False if there is no such model."""

    @abstractmethod
    def add_token(self, owner, token_sha256) -> TokenRecord: ...

    @abstractmethod
    def token_owner(self, token_sha256) -> str | None:
        """The owner a token (given by its hash) writes for, or None if it is unknown."""

    @abstractmethod
    def list_tokens(self, owner) -> list[TokenRecord]: ...

    @abstractmethod
    def revoke_token(self, token_sha256) -> bool: ...


class BlobStore(ABC):
    """Immutable files keyed by the sha256 of their content; identical content is stored once."""

    @abstractmethod
    def put(self, sha256, path: Path) -> bool:
        """Take ownership of the local file `path` (whose content hashes to `sha256`) and
        store it durably. `path` is gone afterwards, whether or not the blob existed.
        True if the blob is new, False if the store already held it."""

    @abstractmethod
    def exists(self, sha256) -> bool: ...

    @abstractmethod
    def read_range(self, sha256, start, end) -> Iterator[bytes]:
        """Bytes [start, end) of a blob, in chunks.

        The blob is opened before this returns (raising FileNotFoundError if it is missing),
        so that a concurrent delete cannot cut a download that has already begun.
        """

    @abstractmethod
    def delete(self, sha256) -> None:
        """Remove a blob; removing a missing blob is not an error."""
