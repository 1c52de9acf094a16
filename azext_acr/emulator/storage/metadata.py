"""Registry metadata in SQLite (WAL): repositories, manifests (exact bytes), tags and blob links.

SQLite gives atomic multi-row updates (a manifest delete drops its tags in the same transaction) and
survives restarts; `:memory:` gives the `--in-memory` variant with the same code. All calls happen on
the event loop thread and are short, so one connection is enough.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..models.records import Attributes, Manifest, Repository, Tag

_ATTR_COLUMNS = (
    "delete_enabled INTEGER NOT NULL DEFAULT 1, write_enabled INTEGER NOT NULL DEFAULT 1, "
    "read_enabled INTEGER NOT NULL DEFAULT 1, list_enabled INTEGER NOT NULL DEFAULT 1"
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS repositories (
    name TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT NOT NULL, {_ATTR_COLUMNS});
CREATE TABLE IF NOT EXISTS manifests (
    repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, body BLOB NOT NULL,
    image_size INTEGER NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
    subject TEXT, artifact_type TEXT, architecture TEXT, os TEXT, refs TEXT, annotations TEXT,
    {_ATTR_COLUMNS}, PRIMARY KEY (repo, digest));
CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo, subject);
CREATE TABLE IF NOT EXISTS tags (
    repo TEXT NOT NULL, name TEXT NOT NULL, digest TEXT NOT NULL, created TEXT NOT NULL,
    updated TEXT NOT NULL, {_ATTR_COLUMNS}, PRIMARY KEY (repo, name));
CREATE INDEX IF NOT EXISTS tags_digest ON tags (repo, digest);
CREATE TABLE IF NOT EXISTS repo_blobs (repo TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, digest));
CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, repo TEXT NOT NULL, started REAL NOT NULL);
"""


def _attrs(row: sqlite3.Row) -> Attributes:
    return Attributes(
        deleteEnabled=bool(row["delete_enabled"]),
        writeEnabled=bool(row["write_enabled"]),
        readEnabled=bool(row["read_enabled"]),
        listEnabled=bool(row["list_enabled"]),
    )


def _attr_values(a: Attributes) -> tuple[int, int, int, int]:
    return int(a.deleteEnabled), int(a.writeEnabled), int(a.readEnabled), int(a.listEnabled)


def _repo(row: sqlite3.Row) -> Repository:
    return Repository(row["name"], row["created"], row["updated"], _attrs(row))


def _manifest(row: sqlite3.Row) -> Manifest:
    return Manifest(
        repo=row["repo"],
        digest=row["digest"],
        media_type=row["media_type"],
        body=bytes(row["body"]),
        image_size=row["image_size"],
        created=row["created"],
        updated=row["updated"],
        subject=row["subject"],
        artifact_type=row["artifact_type"],
        architecture=row["architecture"],
        os=row["os"],
        references=json.loads(row["refs"] or "[]"),
        annotations=json.loads(row["annotations"]) if row["annotations"] else None,
        attributes=_attrs(row),
    )


def _tag(row: sqlite3.Row) -> Tag:
    return Tag(row["repo"], row["name"], row["digest"], row["created"], row["updated"], _attrs(row))


class MetadataStore:
    def __init__(self, path: Path | None):
        self.db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if path:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> _Transaction:
        """`with store.transaction():` groups writes atomically (the connection is in autocommit mode)."""
        return _Transaction(self.db)

    # repositories
    def get_repo(self, name: str) -> Repository | None:
        row = self.db.execute("SELECT * FROM repositories WHERE name = ?", (name,)).fetchone()
        return _repo(row) if row else None

    def ensure_repo(self, name: str, when: str) -> None:
        self.db.execute(
            "INSERT INTO repositories (name, created, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET updated = excluded.updated",
            (name, when, when),
        )

    def set_repo_attributes(self, name: str, attrs: Attributes, when: str) -> None:
        self.db.execute(
            "UPDATE repositories SET delete_enabled=?, write_enabled=?, read_enabled=?, list_enabled=?, "
            "updated=? WHERE name=?",
            (*_attr_values(attrs), when, name),
        )

    def list_repos(self) -> list[Repository]:
        return [_repo(r) for r in self.db.execute("SELECT * FROM repositories ORDER BY name")]

    def delete_repo(self, name: str) -> None:
        for table, column in (
            ("repositories", "name"),
            ("manifests", "repo"),
            ("tags", "repo"),
            ("repo_blobs", "repo"),
        ):
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))

    def counts(self, name: str) -> tuple[int, int]:
        manifests = self.db.execute("SELECT COUNT(*) FROM manifests WHERE repo = ?", (name,)).fetchone()[0]
        tags = self.db.execute("SELECT COUNT(*) FROM tags WHERE repo = ?", (name,)).fetchone()[0]
        return manifests, tags

    # manifests
    def get_manifest(self, repo: str, digest: str) -> Manifest | None:
        row = self.db.execute("SELECT * FROM manifests WHERE repo = ? AND digest = ?", (repo, digest)).fetchone()
        return _manifest(row) if row else None

    def put_manifest(self, m: Manifest) -> None:
        self.db.execute(
            "INSERT INTO manifests (repo, digest, media_type, body, image_size, created, updated, subject, "
            "artifact_type, architecture, os, refs, annotations) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(repo, digest) DO UPDATE SET updated = excluded.updated, media_type = excluded.media_type",
            (
                m.repo,
                m.digest,
                m.media_type,
                m.body,
                m.image_size,
                m.created,
                m.updated,
                m.subject,
                m.artifact_type,
                m.architecture,
                m.os,
                json.dumps(m.references),
                json.dumps(m.annotations) if m.annotations else None,
            ),
        )

    def set_manifest_attributes(self, repo: str, digest: str, attrs: Attributes, when: str) -> None:
        self.db.execute(
            "UPDATE manifests SET delete_enabled=?, write_enabled=?, read_enabled=?, list_enabled=?, "
            "updated=? WHERE repo=? AND digest=?",
            (*_attr_values(attrs), when, repo, digest),
        )

    def list_manifests(self, repo: str) -> list[Manifest]:
        rows = self.db.execute("SELECT * FROM manifests WHERE repo = ? ORDER BY digest", (repo,))
        return [_manifest(r) for r in rows]

    def referrers(self, repo: str, subject: str) -> list[Manifest]:
        rows = self.db.execute(
            "SELECT * FROM manifests WHERE repo = ? AND subject = ? ORDER BY digest", (repo, subject)
        )
        return [_manifest(r) for r in rows]

    def delete_manifest(self, repo: str, digest: str) -> None:
        self.db.execute("DELETE FROM manifests WHERE repo = ? AND digest = ?", (repo, digest))
        self.db.execute("DELETE FROM tags WHERE repo = ? AND digest = ?", (repo, digest))

    # tags
    def get_tag(self, repo: str, name: str) -> Tag | None:
        row = self.db.execute("SELECT * FROM tags WHERE repo = ? AND name = ?", (repo, name)).fetchone()
        return _tag(row) if row else None

    def put_tag(self, repo: str, name: str, digest: str, when: str) -> None:
        self.db.execute(
            "INSERT INTO tags (repo, name, digest, created, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(repo, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated",
            (repo, name, digest, when, when),
        )

    def set_tag_attributes(self, repo: str, name: str, attrs: Attributes, when: str) -> None:
        self.db.execute(
            "UPDATE tags SET delete_enabled=?, write_enabled=?, read_enabled=?, list_enabled=?, "
            "updated=? WHERE repo=? AND name=?",
            (*_attr_values(attrs), when, repo, name),
        )

    def list_tags(self, repo: str, digest: str | None = None) -> list[Tag]:
        if digest:
            rows = self.db.execute("SELECT * FROM tags WHERE repo = ? AND digest = ? ORDER BY name", (repo, digest))
        else:
            rows = self.db.execute("SELECT * FROM tags WHERE repo = ? ORDER BY name", (repo,))
        return [_tag(r) for r in rows]

    def delete_tag(self, repo: str, name: str) -> None:
        self.db.execute("DELETE FROM tags WHERE repo = ? AND name = ?", (repo, name))

    # blob links: which repositories may serve which blobs
    def link_blob(self, repo: str, digest: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO repo_blobs (repo, digest) VALUES (?, ?)", (repo, digest))

    def is_linked(self, repo: str, digest: str) -> bool:
        row = self.db.execute("SELECT 1 FROM repo_blobs WHERE repo = ? AND digest = ?", (repo, digest)).fetchone()
        return row is not None

    def unlink_blob(self, repo: str, digest: str) -> None:
        self.db.execute("DELETE FROM repo_blobs WHERE repo = ? AND digest = ?", (repo, digest))

    def blob_in_use(self, digest: str) -> bool:
        row = self.db.execute("SELECT 1 FROM repo_blobs WHERE digest = ? LIMIT 1", (digest,)).fetchone()
        return row is not None

    def drop_blob_links(self, digest: str) -> None:
        self.db.execute("DELETE FROM repo_blobs WHERE digest = ?", (digest,))

    def manifest_bodies(self) -> Iterator[tuple[str, bytes]]:
        """(media type, exact bytes) of every manifest in every repository, for garbage collection."""
        for row in self.db.execute("SELECT media_type, body FROM manifests").fetchall():
            yield row["media_type"], bytes(row["body"])

    # upload sessions: recorded so that they can be resumed after a restart
    def add_upload(self, upload_id: str, repo: str, started: float) -> None:
        self.db.execute("INSERT INTO uploads (id, repo, started) VALUES (?, ?, ?)", (upload_id, repo, started))

    def drop_upload(self, upload_id: str) -> None:
        self.db.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def list_uploads(self) -> list[tuple[str, str, float]]:
        return [(r["id"], r["repo"], r["started"]) for r in self.db.execute("SELECT * FROM uploads")]


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
