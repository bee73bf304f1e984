"""Copying the stored files from one storage backend to the other (`flask innolab storage
migrate --to s3|filesystem`, docs/operations.md "Storage").

Every row that names a stored file (`uploads.stored_rows`: attachments, document versions,
the sign-language video) has its file read from the source, checked against the size its row
records, and copied to the target under the same name; the copy is read back and must have
the source's SHA-256. A file the target already holds with the same checksum is skipped, so
running it again copies only what is new (or was damaged on the way). Nothing is deleted in
either storage, and no row changes: the switch is the setting STORAGE_BACKEND.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from . import storage, uploads


@dataclass(frozen=True)
class Problem:
    table: str
    row_id: int
    name: str
    reason: str


@dataclass
class Migration:
    """What `migrate` did (with `dry_run`: would do). `copied` also counts files the target
    held with other content (`replaced`); `skipped`: already there with the same checksum."""

    dry_run: bool = False
    copied: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # The target stopped answering: the files after this one were not tried.
    aborted: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.aborted is None


class _Hashing:
    """A stream that computes the SHA-256 of what is read through it."""

    def __init__(self, stream: IO[bytes]):
        self._stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._stream.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _target_sum(target: storage.Storage, name: str) -> str | None:
    try:
        return target.sha256(name)[0]
    except FileNotFoundError:
        return None


def migrate(source: storage.Storage, target: storage.Storage, dry_run: bool = False,
            report: Callable[[str], None] | None = None) -> Migration:
    """Copy every stored file of the rows from `source` to `target` (see the module)."""
    result = Migration(dry_run=dry_run)
    for table, row_id, name, size in uploads.stored_rows():
        def problem(reason: str, table=table, row_id=row_id, name=name) -> None:
            result.problems.append(Problem(table, row_id, name, reason))

        try:
            checksum, length = source.sha256(name)
        except FileNotFoundError:
            problem(f"missing in the source ({source.describe(name)})")
            continue
        except OSError as exc:
            problem(f"the source could not be read: {exc}")
            continue
        if size is not None and length != size:
            problem(f"the source has {length} bytes, its row says {size}: damaged, not copied")
            continue
        try:
            there = _target_sum(target, name)
        except OSError as exc:
            result.aborted = f"the target does not answer: {exc}"
            break
        if there == checksum:
            result.skipped.append(name)
            continue
        if not dry_run:
            try:
                with source.open(name) as stream:
                    hashing = _Hashing(stream)
                    target.put(name, hashing)  # type: ignore[arg-type]
                copied = _target_sum(target, name)
            except storage.StorageUnavailable as exc:
                result.aborted = f"the target does not answer: {exc}"
                break
            except OSError as exc:
                problem(f"could not be copied: {exc}")
                continue
            if hashing.digest.hexdigest() != checksum:
                problem("the source changed while it was copied (checksums differ)")
                continue
            if copied != checksum:
                problem(f"checksum of the copy differs (source {checksum}, target "
                        f"{copied or 'missing'})")
                continue
        result.copied.append(name)
        if there is not None:
            result.replaced.append(name)
        if report is not None:
            report(f"{'would copy' if dry_run else 'copied'}: {table} id {row_id} "
                   f"({source.describe(name)} -> {target.describe(name)})")
    return result
