"""Files under a checkpoint URI, through Hadoop's FileSystem API (the JVM Spark runs in).

Every read and write of the runtime's checkpoint and state goes through here, so the
same code works for ``file://`` locally and for ``s3://`` on EMR (EMRFS) or any other
file system Hadoop knows. A plain path is taken as a local folder (``file://``).

Writes are whole files: :meth:`CheckpointFS.write_bytes` writes a hidden temporary
file and renames it into place. On a local or HDFS file system the rename is atomic;
on S3 the temporary object is complete before the copy, so a reader sees the old file
or the whole new one, never a part. A file that nothing reads until a later write
commits it (a state version's tables, before the version's marker) is written in place
with :meth:`CheckpointFS.write_new`: no temporary file, and on S3 no copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def to_uri(location: str | Path) -> str:
    """``location`` as a URI: a URI stays as it is, a local path becomes ``file:///abs``."""
    text = str(location)
    if "://" in text or text.startswith("file:"):
        return text.rstrip("/")
    return Path(text).expanduser().resolve().as_uri()


class CheckpointFS:
    """A folder (URI) on a Hadoop file system, with whole-file reads and atomic writes."""

    def __init__(self, spark: SparkSession, root: str | Path) -> None:
        jvm: Any = spark.sparkContext._jvm
        # the classes once: each ``jvm.org.apache…`` lookup is a call into the JVM per name
        self._Path = jvm.org.apache.hadoop.fs.Path
        self._IOUtils = jvm.org.apache.commons.io.IOUtils
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.root = to_uri(root)
        self._root_path = self._Path(self.root)
        self._fs = self._root_path.getFileSystem(self._conf)

    def _path(self, rel: str) -> Any:
        return self._Path(f"{self.root}/{rel}" if rel else self.root)

    def uri(self, rel: str = "") -> str:
        """The URI of ``rel`` under the root."""
        return f"{self.root}/{rel}" if rel else self.root

    def mkdirs(self, rel: str = "") -> None:
        """Create the folder ``rel`` (and its parents)."""
        self._fs.mkdirs(self._path(rel))

    def exists(self, rel: str) -> bool:
        """Whether ``rel`` exists."""
        return bool(self._fs.exists(self._path(rel)))

    def list(self, rel: str = "") -> list[str]:
        """Names of the entries directly in folder ``rel``, hidden ones (``.x``, ``_x``) left
        out; empty when the folder does not exist."""
        path = self._path(rel)
        if not self._fs.exists(path):
            return []
        names = (str(s.getPath().getName()) for s in self._fs.listStatus(path))
        return sorted(n for n in names if not n.startswith((".", "_")))

    def read_bytes(self, rel: str) -> bytes:
        """The whole content of file ``rel``."""
        stream = self._fs.open(self._path(rel))
        try:
            return bytes(self._IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` as file ``rel``, replacing it whole (temporary file + rename)."""
        final = self._path(rel)
        parent = final.getParent()
        tmp = self._Path(parent, f".{final.getName()}.tmp")
        self._create(tmp, data)
        if self._fs.exists(final):
            self._fs.delete(final, False)
        if not self._fs.rename(tmp, final):
            raise OSError(f"could not rename {tmp} to {final}")

    def write_new(self, rel: str, data: bytes) -> None:
        """Write ``data`` as file ``rel`` in place, for a file no reader opens until a
        later :meth:`write_bytes` commits it: a crash may leave it partly written."""
        self._create(self._path(rel), data)

    def _create(self, path: Any, data: bytes) -> None:
        """Write ``data`` as the Hadoop ``path``, replacing what is there."""
        out = self._fs.create(path, True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()

    def delete(self, rel: str) -> None:
        """Delete file or folder ``rel`` (recursively); no error when it is missing."""
        self._fs.delete(self._path(rel), True)
