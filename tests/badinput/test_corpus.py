"""The bad-input corpus: malformed arguments, references, registry names, Docker config files and
server responses. Every case must end in a clear one-line error and the right exit code — never a
traceback — and must lose nothing (config.json bytes unchanged, no file written outside the
output directory)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from badserver import BAD_RESPONSES, CHALLENGES, ChallengeHandler, serve

from azext_acr.registry.errors import InvalidReferenceError
from azext_acr.registry.loginserver import resolve_login_server
from azext_acr.registry.reference import parse_image_name, parse_reference

DIGEST = "sha256:" + "a" * 64
PLAIN = {"ACR_PLAIN_HTTP": "1", "ACR_MAX_RETRIES": "1", "ACR_RETRY_BACKOFF": "0"}


def check(result, expected_codes, label):
    """The contract for every failure a user can cause: exit code, one ERROR line, no traceback."""
    problems = []
    if result.code not in expected_codes:
        problems.append(f"exit {result.code}, expected {expected_codes}")
    if "Traceback" in result.stderr:
        problems.append("traceback")
    if result.code not in (0,):
        if result.stdout.strip():
            problems.append(f"stdout not empty: {result.stdout[:200]!r}")
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR:")]
        if result.code == 2:
            if not any("error:" in line.lower() for line in lines):
                problems.append(f"no usage error: {result.stderr[-300:]!r}")
        elif len(errors) != 1:
            problems.append(f"expected one ERROR line, got: {result.stderr[-400:]!r}")
    return f"{label}: {'; '.join(problems)}" if problems else None


def run_cases(acr, cases, env=None):
    """Run (label, args, expected exit codes[, stdin]) cases in parallel; report every failure at once."""
    def one(case):
        label, args, codes = case[:3]
        stdin = case[3] if len(case) > 3 else ""
        return check(acr(*args, env=env, input=stdin), codes, label)

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(one, cases) if f]
    assert not failures, "\n".join(failures)


# -- 1. malformed arguments ---------------------------------------------------------------------

def argument_cases(server):
    ref = f"{server}/corpus/artifact:v1"
    return [
        ("no -n", ["repository", "show"], {2}),
        ("neither image nor repository", ["repository", "show", "-n", server], {1}),
        ("both image and repository", ["repository", "show", "-n", server, "--image", "a", "--repository", "b"], {1}),
        ("show-tags without repository", ["repository", "show-tags", "-n", server], {2}),
        ("negative top", ["repository", "show-tags", "-n", server, "--repository", "r", "--top", "-1"], {2}),
        ("text top", ["repository", "show-tags", "-n", server, "--repository", "r", "--top", "abc"], {2}),
        ("bad orderby", ["repository", "show-tags", "-n", server, "--repository", "r", "--orderby", "sideways"], {2}),
        ("bad three-state", ["repository", "update", "-n", server, "--repository", "r", "--write-enabled", "maybe"],
         {2}),
        ("untag by digest", ["repository", "untag", "-n", server, "--image", f"r@{DIGEST}"], {1}),
        ("untag without image", ["repository", "untag", "-n", server], {2}),
        ("unknown command", ["frobnicate"], {2}),
        ("unknown subcommand", ["repository", "frobnicate"], {2}),
        ("bad output format", ["repository", "show", "-n", server, "--image", "r", "-o", "xml"], {2}),
        ("bad query", ["repository", "show", "-n", server, "--image", "r", "--query", "[[["], {2}),
        ("unknown option", ["repository", "show", "-n", server, "--image", "r", "--frob"], {2}),
        ("login without name", ["login"], {2}),
        ("password without user", ["login", "-n", server, "-p", "x"], {1}),
        ("expose-token with user", ["login", "-n", server, "--expose-token", "-u", "a", "-p", "b"], {1}),
        ("user without password", ["login", "-n", server, "-u", "a"], {1}),
        ("empty password stdin", ["login", "-n", server, "-u", "a", "--password-stdin"], {1}, ""),
        ("password and password-stdin", ["login", "-n", server, "-u", "a", "-p", "b", "--password-stdin"], {1}, "c\n"),
        ("push without reference", ["artifact", "push"], {2}),
        ("push missing file", ["artifact", "push", ref, "missing.txt"], {1}),
        ("push bad annotation", ["artifact", "push", ref, "--annotation", "novalue"], {1}),
        ("push missing annotation file", ["artifact", "push", ref, "--annotation-file", "missing.json"], {1}),
        ("push missing config", ["artifact", "push", ref, "--manifest-config", "missing.json:a/b"], {1}),
        ("pull without reference", ["artifact", "pull"], {2}),
        ("pull reference without registry", ["artifact", "pull", "noregistry"], {1}),
        ("pull reference with spaces", ["artifact", "pull", f"{server}/a b:v1"], {1}),
        ("purge without filter", ["purge", "-n", server], {2}),
        ("purge bad filter", ["purge", "-n", server, "--filter", "x"], {1}),
        ("purge bad regex", ["purge", "-n", server, "--filter", "x:("], {1}),
        ("purge bad ago", ["purge", "-n", server, "--filter", "x:y", "--ago", "soon"], {1}),
        ("purge concurrency 0", ["purge", "-n", server, "--filter", "x:y", "--concurrency", "0"], {1}),
        ("purge concurrency 99", ["purge", "-n", server, "--filter", "x:y", "--concurrency", "99"], {1}),
        ("purge negative keep", ["purge", "-n", server, "--filter", "x:y", "--keep", "-3"], {2}),
        ("delete without tty", ["repository", "delete", "-n", server, "--repository", "corpus-none"], {1, 3}),
        ("image with long tag", ["repository", "show", "-n", server, "--image", "r:" + "t" * 200], {1}),
        ("image with short digest", ["repository", "show", "-n", server, "--image", "r@sha256:abc"], {1}),
        ("image with traversal", ["repository", "show", "-n", server, "--image", "../etc/passwd"], {1}),
        ("image with two colons", ["repository", "show", "-n", server, "--image", "r:tag:extra"], {1}),
        ("image empty", ["repository", "show", "-n", server, "--image", ""], {1}),
        ("image uppercase", ["repository", "show", "-n", server, "--image", "Upper:v1"], {1}),
        ("image two at signs", ["repository", "show", "-n", server, "--image", f"r@{DIGEST}@{DIGEST}"], {1}),
    ]


def test_malformed_arguments(acr):
    run_cases(acr, argument_cases(acr.server))


# -- 2. references and registry names -----------------------------------------------------------

BAD_REFERENCES = [
    "", " ", "registry.io", "registry.io/", "registry.io/UPPER", "registry.io/a//b", "registry.io/a/", "registry.io/-a",
    "registry.io/a:", "registry.io/a:-tag", "registry.io/a:tag with space", "registry.io/a@", "registry.io/a@sha256:",
    "registry.io/a@sha256:xyz", "registry.io/a@md5", "registry.io/a:" + "t" * 129, "registry.io/" + "a" * 256,
    "registry.io/a/../b", "registry.io/./a", "registry.io/a\x00b", "registry.io/a\nb", "registry.io/a%2Fb",
    "registry.io:notaport/a", "registry.io:99999999/a", "[::1/a", "registry.io/a:t@", "registry.io/a$b",
    "registry.io/a..b", "registry.io/a__-b", "registry.io/_a", "registry.io/a:t:t", "ftp://registry.io/a",
    "registry.io/a;rm -rf", "registry.io/ä", "registry.io/a?x=1", "registry.io/a#frag", "registry.io/a b",
    "registry.io/\u202ea", "registry.io/a:t\t",
]
BAD_IMAGES = ["", "a:", ":t", "a:b:c", "A", "a@", "a@sha256:1", "a@@b", "../a", "a/../b", "a b", "a:t t", "a\x00",
              "a:" + "x" * 129, "-a", "a-", "a//b", "ä:t", "a@sha256:" + "g" * 64, "a:t@sha256:" + "a" * 64]
BAD_NAMES = ["", "abc", "my-registry", "a/b", "a b", "reg@istry", "https://", "ftp://reg.io", "host:port",
             "host:99999", "reg.io/path", "x" * 51, "!!!!!!", "reg istry.io", "http://[::1", "a:b:c", "https://a b"]


@pytest.mark.parametrize("text", BAD_REFERENCES)
def test_bad_references_are_rejected_by_the_parser(text):
    with pytest.raises(InvalidReferenceError):
        parse_reference(text)


@pytest.mark.parametrize("text", BAD_IMAGES)
def test_bad_image_names_are_rejected_by_the_parser(text):
    with pytest.raises(InvalidReferenceError):
        parse_image_name(text)


@pytest.mark.parametrize("text", BAD_NAMES)
def test_bad_registry_names_are_rejected(text):
    with pytest.raises(InvalidReferenceError):
        resolve_login_server(text)


def test_bad_references_and_names_through_the_cli(acr):
    def passable(text: str) -> bool:  # argv cannot carry NUL bytes
        return bool(text.strip()) and "\x00" not in text

    cases = [(f"pull {r!r}", ["artifact", "pull", r], {1}) for r in BAD_REFERENCES if passable(r)]
    cases += [(f"-n {n!r}", ["repository", "show", "-n", n, "--repository", "x"], {1}) for n in BAD_NAMES if n]
    cases += [(f"--image {i!r}", ["repository", "show", "-n", acr.server, "--image", i],
               {1, 2} if i[:1] == "-" else {1})  # a leading '-' reads as an option: a usage error
              for i in BAD_IMAGES if passable(i)]
    run_cases(acr, cases)


# -- 3. Docker config files ---------------------------------------------------------------------

ENTRY_LEVEL = {"bad base64", "auth number", "identitytoken number", "entry not object"}


def config_cases(server):
    """(label, bytes). Entry-level damage to this server's entry may be repaired by a new login."""
    return [
        ("open brace", b"{"),
        ("list", b"[]"),
        ("string", b'"text"'),
        ("number", b"42"),
        ("null", b"null"),
        ("binary", bytes(range(256))),
        ("auths list", b'{"auths": []}'),
        ("auths string", b'{"auths": "x"}'),
        ("credHelpers list", b'{"credHelpers": []}'),
        ("credsStore number", b'{"credsStore": 5}'),
        ("entry not object", json.dumps({"auths": {server: "x"}}).encode()),
        ("bad base64", json.dumps({"auths": {server: {"auth": "!!!not base64!!!"}}}).encode()),
        ("auth number", json.dumps({"auths": {server: {"auth": 123}}}).encode()),
        ("identitytoken number", json.dumps({"auths": {server: {"identitytoken": 5}}}).encode()),
        ("missing helper", json.dumps({"credHelpers": {server: "definitely-missing-helper"}}).encode()),
        ("missing store", json.dumps({"credsStore": "definitely-missing-store"}).encode()),
        ("helper path traversal", json.dumps({"credHelpers": {server: "../../bin/sh"}}).encode()),
        ("truncated", json.dumps({"auths": {server: {"auth": "dTpw"}}}).encode()[:-3]),
        ("trailing garbage", b'{"auths": {}} trailing'),
        ("utf16", '{"auths": {}}'.encode("utf-16")),
        ("deep nesting", b"[" * 100000 + b"]" * 100000),
    ]


def test_malformed_docker_config_files_are_reported_and_left_untouched(acr):
    acr.docker_config.mkdir(exist_ok=True)
    failures = []
    for label, content in config_cases(acr.server):
        acr.config_file.write_bytes(content)
        commands = [["repository", "show", "-n", acr.server, "--repository", "corpus-config"]]
        if label not in ENTRY_LEVEL:
            commands.append(["login", "-n", acr.server])
        for args in commands:
            result = acr(*args)
            failure = check(result, {1}, f"config {label}: {args[0]}")
            if failure:
                failures.append(failure)
            elif "config" not in result.stderr.lower() and "helper" not in result.stderr.lower():
                failures.append(f"config {label}: error does not name the config file: {result.stderr!r}")
            if acr.config_file.read_bytes() != content:
                failures.append(f"config {label}: file changed by {args[0]}")
    assert not failures, "\n".join(failures)


def test_config_json_that_is_a_directory_is_an_error(acr):
    acr.config_file.mkdir(parents=True)
    run_cases(acr, [("config is a dir", ["login", "-n", acr.server], {1})])


# -- 4. broken server responses -----------------------------------------------------------------

# Bodies that are JSON objects without a "tags" key read as an empty listing, not as an error.
SHOW_TAGS_OK = {"hugeheader", "nestedwrong", "badmanifest", "manifestlayerswrong", "manifestevil",
                "manifestabsolute", "manifestbaddigest", "manifestwrongblob"}


def test_broken_registry_responses_give_clear_errors(acr, bad_server):
    cases = []
    for mode in list(BAD_RESPONSES) + ["dropconnection"]:
        codes = {0, 1} if mode in SHOW_TAGS_OK else {1}
        cases.append((f"show-tags {mode}", ["repository", "show-tags", "-n", bad_server, "--repository", mode], codes))
        cases.append((f"show {mode}", ["repository", "show", "-n", bad_server, "--image", f"{mode}:v1"],
                      {0, 1, 3} if mode in SHOW_TAGS_OK else {1, 3}))
        cases.append((f"pull {mode}", ["artifact", "pull", f"{bad_server}/{mode}:v1", "-o", "out"], {1}))
    cases.append(("catalog wrong type", ["repository", "list", "-n", bad_server], {1}))
    run_cases(acr, cases, env=PLAIN)
    assert not (acr.home / "evil.txt").exists() and not (acr.home.parent / "evil.txt").exists()
    assert not list((acr.home / "out").glob("blob.txt")) if (acr.home / "out").exists() else True


@pytest.mark.parametrize("name", sorted(CHALLENGES))
def test_malformed_challenges_give_clear_errors(acr, name):
    handler = type(f"Challenge_{name}", (ChallengeHandler,), {"challenge": CHALLENGES[name]})
    server = serve(handler)
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        run_cases(acr, [
            (f"{name} show-tags", ["repository", "show-tags", "-n", address, "--repository", "r"], {1}),
            (f"{name} login", ["login", "-n", address], {1}),
            (f"{name} pull", ["artifact", "pull", f"{address}/r:v1"], {1}),
        ], env=PLAIN)
    finally:
        server.shutdown()
