"""The purge planner as pure functions: filters, age, keep-N, excludes, locks and reachability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azext_acr.registry.cleanup import (
    MAX_AGO,
    ManifestInfo,
    Options,
    PurgeError,
    TagInfo,
    parse_duration,
    parse_filter,
    plan_repository,
    protected_digests,
)

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def tag(name, digest, days_old, locked=False):
    return TagInfo(name, digest, NOW - timedelta(days=days_old), locked)


def manifest(digest, days_old, **kwargs):
    return ManifestInfo(digest, NOW - timedelta(days=days_old), kwargs.pop("locked", False), **kwargs)


def options(*filters, **kwargs):
    return Options(filters=[parse_filter(f) for f in filters], now=NOW, **kwargs)


def test_durations_as_acr_cli_plus_days_and_a_cap():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("1d12h30m") == timedelta(days=1, hours=12, minutes=30)
    assert parse_duration("0") == timedelta(0)
    assert parse_duration("999999999d") == MAX_AGO
    for bad in ("30", "d", "-1d", "1y", "1d x"):
        with pytest.raises(PurgeError):
            parse_duration(bad)


def test_filters_match_whole_names():
    f = parse_filter("hello:v1")
    assert f.repository.fullmatch("hello") and not f.repository.fullmatch("hello2")
    assert parse_filter("team/app:.*").literal_repository == "team/app"
    assert parse_filter("team/.*:.*").literal_repository is None
    for bad in ("nocolon", ":x", "x:", "a(:b"):
        with pytest.raises(PurgeError):
            parse_filter(bad)


def test_age_keep_and_exclude_select_tags():
    tags = [tag("v1", "d1", 40), tag("v2", "d2", 35), tag("v3", "d3", 31), tag("v4", "d4", 1), tag("rel", "d5", 50)]
    plan = plan_repository("app", tags, [], options("app:.*", ago=timedelta(days=30), keep=1,
                                                    excludes=[parse_filter("app:rel")]))
    # newest matching (v4) is kept by --keep 1; v4 is also too young; 'rel' is excluded
    assert plan.tags == ["v1", "v2", "v3"]


def test_locked_tags_are_skipped_unless_included():
    tags = [tag("a", "d1", 5, locked=True), tag("b", "d2", 5)]
    assert plan_repository("r", tags, [], options("r:.*")).tags == ["b"]
    included = plan_repository("r", tags, [], options("r:.*", include_locked=True))
    assert included.tags == ["a", "b"] and included.unlock_tags == ["a"]


def test_untagged_never_deletes_what_a_kept_tag_reaches():
    manifests = [
        manifest("index", 10, children=["child-amd64", "child-arm64"]),
        manifest("child-amd64", 10), manifest("child-arm64", 10),
        manifest("sig", 10, subject="index"), manifest("sig-of-sig", 10, subject="sig"),
        manifest("sbom-of-child", 10, subject="child-arm64"),
        manifest("orphan", 10), manifest("old-image", 10),
    ]
    tags = [tag("latest", "index", 10), tag("old", "old-image", 10)]
    plan = plan_repository("r", tags, manifests, options("r:old", untagged=True))
    assert plan.tags == ["old"]
    assert plan.manifests == ["old-image", "orphan"]


def test_untagged_only_leaves_tags_and_respects_age():
    manifests = [manifest("tagged", 10), manifest("young", 0), manifest("stale", 10)]
    plan = plan_repository("r", [tag("t", "tagged", 10)], manifests,
                           options("r:.*", untagged_only=True, ago=timedelta(days=1)))
    assert plan.tags == [] and plan.manifests == ["stale"]


@given(st.dictionaries(st.integers(0, 9), st.one_of(st.none(), st.integers(0, 9)), max_size=10),
       st.sets(st.integers(0, 9), max_size=5))
def test_protected_set_is_closed_under_referrers(subjects, tagged):
    manifests = [ManifestInfo(f"m{i}", NOW, False, subject=None if s is None else f"m{s}")
                 for i, s in subjects.items()]
    protected = protected_digests(manifests, {f"m{t}" for t in tagged})
    for m in manifests:
        if m.subject in protected:
            assert m.digest in protected
