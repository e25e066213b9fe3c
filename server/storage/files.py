"""Blobs as files under `<data_dir>/blobs/`, named by their sha256: `blobs/ab/cdef...`.

The two-character fan-out keeps directories small. A blob arrives as a temporary file
under the same data directory, so that moving it into place is one atomic rename on one
filesystem: a reader sees either no blob or the whole of it.
"""

import os
import re
from pathlib import Path

from .base import BlobStore

_SHA256 = re.compile(r"[0-9a-f]{64}")

CHUNK_SIZE = 256 * 1024


def _fsync_dir(path):
    # Makes the rename itself durable, not only the file's content.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore(BlobStore):
    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256):
        # The only way a name reaches the filesystem: a hex digest cannot climb out of root.
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, sha256, path):
        target = self.path(sha256)
        if target.exists():
            os.unlink(path)
            return False
        with open(path, "rb") as file:
            os.fsync(file.fileno())
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)
        _fsync_dir(target.parent)
        return True

    def exists(self, sha256):
        return self.path(sha256).exists()

    def read_range(self, sha256, start, end):
        file = open(self.path(sha256), "rb")  # noqa: SIM115 - closed by the generator
        file.seek(start)

        def chunks():
            with file:
                remaining = end - start
                while remaining > 0:
                    chunk = file.read(min(CHUNK_SIZE, remaining))
                    if not chunk:
                        raise RuntimeError(f"blob {sha256} is shorter than expected")
                    remaining -= len(chunk)
                    yield chunk

        return chunks()

    def delete(self, sha256):
        # The fan-out directory stays (at most 256 of them): removing it could race with a
        # put that has just created it.
        self.path(sha256).unlink(missing_ok=True)
