"""acr purge against the emulator: each flag, safety rules, and dry run == real run."""

from __future__ import annotations


def purge(acr, *args):
    return acr("purge", "-n", acr.server, *args)


def test_filter_deletes_matching_tags_only(acr, seed, prefix):
    repo = f"{prefix}/app"
    for t in ("dev-1", "dev-2", "v1.0"):
        seed.image(repo, t, content=t.encode())
    result = purge(acr, "--filter", f"{repo}:dev-.*")
    assert result.code == 0, result.stderr
    assert seed.tags(repo) == ["v1.0"]
    report = result.json
    assert report["tagsDeleted"] == 2 and report["dryRun"] is False
    assert sorted(report["repositories"][0]["tagsDeleted"]) == ["dev-1", "dev-2"]


def test_keep_keeps_the_newest_tags(acr, seed, prefix):
    repo = f"{prefix}/keep"
    for i in range(5):
        seed.image(repo, f"t{i}", content=str(i).encode())
    assert purge(acr, "--filter", f"{repo}:.*", "--keep", "2").code == 0
    assert seed.tags(repo) == ["t3", "t4"]


def test_exclude_protects_release_tags(acr, seed, prefix):
    repo = f"{prefix}/excl"
    for t in ("build-1", "v1.2.3", "build-2"):
        seed.image(repo, t, content=t.encode())
    assert purge(acr, "--filter", f"{repo}:.*", "--exclude", f"{repo}:v[0-9.]+").code == 0
    assert seed.tags(repo) == ["v1.2.3"]


def test_ago_spares_recent_tags_and_a_huge_ago_is_capped(acr, seed, prefix):
    repo = f"{prefix}/ago"
    seed.image(repo, "fresh")
    assert purge(acr, "--filter", f"{repo}:.*", "--ago", "1d").code == 0
    assert purge(acr, "--filter", f"{repo}:.*", "--ago", "99999999999d").code == 0
    assert seed.tags(repo) == ["fresh"]


def test_index_children_and_signatures_survive_when_their_tag_is_kept(acr, seed, prefix):
    repo = f"{prefix}/multiarch"
    amd = seed.image(repo, None, content=b"amd", platform=("amd64", "linux"))
    arm = seed.image(repo, None, content=b"arm", platform=("arm64", "linux"))
    index = seed.index(repo, "latest", [amd, arm])
    signature = seed.image(repo, None, content=b"sig", subject=index,
                           artifact_type="application/vnd.cncf.notary.signature")
    child_sbom = seed.image(repo, None, content=b"sbom", subject=arm, artifact_type="application/spdx+json")
    old = seed.image(repo, "old", content=b"old")
    orphan = seed.image(repo, None, content=b"orphan")

    dry = purge(acr, "--filter", f"{repo}:old", "--untagged", "--dry-run")
    assert dry.code == 0, dry.stderr
    planned = dry.json["repositories"][0]
    assert sorted(planned["manifestsDeleted"]) == sorted([old, orphan])
    assert planned["tagsDeleted"] == ["old"]
    assert seed.tags(repo) == ["latest", "old"]  # dry run deleted nothing
    assert "nothing was deleted" in dry.stderr.lower()

    real = purge(acr, "--filter", f"{repo}:old", "--untagged")
    assert real.code == 0, real.stderr
    done = real.json["repositories"][0]
    assert sorted(done["manifestsDeleted"]) == sorted(planned["manifestsDeleted"])
    assert done["tagsDeleted"] == planned["tagsDeleted"]
    for kept in (index, amd, arm, signature, child_sbom):
        assert seed.manifest_exists(repo, kept), kept
    for gone in (old, orphan):
        assert not seed.manifest_exists(repo, gone), gone


def test_untagged_only_leaves_tags_alone(acr, seed, prefix):
    repo = f"{prefix}/untaggedonly"
    tagged = seed.image(repo, "keep", content=b"k")
    loose = seed.image(repo, None, content=b"loose")
    result = purge(acr, "--filter", f"{repo}:.*", "--untagged-only")
    assert result.code == 0, result.stderr
    assert seed.tags(repo) == ["keep"]
    assert seed.manifest_exists(repo, tagged) and not seed.manifest_exists(repo, loose)


def test_locked_items_are_skipped_unless_include_locked(acr, seed, prefix):
    repo = f"{prefix}/locked"
    seed.image(repo, "locked", content=b"l")
    seed.image(repo, "open", content=b"o")
    seed.lock(repo, tag="locked", writeEnabled=False)
    result = purge(acr, "--filter", f"{repo}:.*")
    assert result.code == 0, result.stderr
    assert seed.tags(repo) == ["locked"]
    assert result.json["repositories"][0]["skippedLocked"] == [f"{repo}:locked"]
    assert purge(acr, "--filter", f"{repo}:.*", "--include-locked").code == 0
    assert seed.tags(repo) == []


def test_regex_filters_walk_the_catalog_across_repositories(acr, seed, prefix):
    for name in ("one", "two"):
        seed.image(f"{prefix}/{name}", "x", content=name.encode())
    result = acr("purge", "-r", acr.server, "--filter", f"{prefix}/.*:.*", "--concurrency", "8")
    assert result.code == 0, result.stderr
    assert sorted(r["name"] for r in result.json["repositories"]) == [f"{prefix}/one", f"{prefix}/two"]
    assert seed.tags(f"{prefix}/one") == [] and seed.tags(f"{prefix}/two") == []


def test_literal_filter_does_not_list_the_catalog(acr, seed, prefix):
    repo = f"{prefix}/literal"
    seed.image(repo, "a")
    before = len(acr.emulator.stderr_lines)
    assert purge(acr, "--filter", f"{repo}:.*").code == 0
    log = "".join(acr.emulator.stderr_lines[before:])
    assert f"/acr/v1/{repo}/_tags" in log
    assert "_catalog" not in log


def test_bad_flags_are_one_line_errors(acr):
    for args in (["--filter", "nocolon"], ["--filter", "a:(", ], ["--filter", "a:b", "--ago", "5years"],
                 ["--filter", "a:b", "--concurrency", "33"], ["--filter", "a:b", "--untagged", "--untagged-only"]):
        result = purge(acr, *args)
        assert result.code == 1, (args, result)
        assert result.stderr.startswith("ERROR:") and result.stdout == ""
