"""The fake answers as GitHub does where the filer's tests do not go (so it cannot drift silently)."""

from __future__ import annotations

import base64

import httpx

from tests.fakes.github_api import FakeGitHub


def _client(github: FakeGitHub, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=f"{github.url}/repos/{github.full_name}", headers={
        "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
        "Authorization": f"Bearer {token or github.token}"})


def test_contents_put_wants_the_current_blob_sha(github: FakeGitHub) -> None:
    github.commit_files("main", {"a.txt": "one\n"})
    content = base64.b64encode(b"two\n").decode()
    with _client(github) as gh:
        missing = gh.put("/contents/a.txt", json={"message": "m", "content": content, "branch": "main"})
        stale = gh.put("/contents/a.txt", json={"message": "m", "content": content, "branch": "main", "sha": "0" * 40})
        current = gh.get("/contents/a.txt", params={"ref": "main"}).json()
        ok = gh.put("/contents/a.txt", json={"message": "m", "content": content, "branch": "main", "sha": current["sha"]})
        created = gh.put("/contents/b.txt", json={"message": "m", "content": content, "branch": "main"})
        no_branch = gh.put("/contents/b.txt", json={"message": "m", "content": content, "branch": "nope"})
    assert (missing.status_code, stale.status_code, ok.status_code, created.status_code, no_branch.status_code) == \
        (422, 409, 200, 201, 404)
    assert "\"sha\" wasn't supplied" in missing.json()["message"]
    assert base64.b64decode(current["content"]) == b"one\n" and current["encoding"] == "base64"
    assert github.files_at("main") == {"a.txt": "two\n", "b.txt": "two\n"}


def test_refs_and_pulls_refuse_as_github_does(github: FakeGitHub) -> None:
    head = github.commit_files("main", {"a.txt": "one\n"})
    with _client(github) as gh:
        first = gh.post("/git/refs", json={"ref": "refs/heads/x", "sha": head})
        again = gh.post("/git/refs", json={"ref": "refs/heads/x", "sha": head})
        unknown = gh.post("/git/refs", json={"ref": "refs/heads/y", "sha": "f" * 40})
        empty = gh.post("/pulls", json={"title": "t", "head": "x", "base": "main", "draft": True})
        github.commit_files("x", {"a.txt": "two\n"})
        opened = gh.post("/pulls", json={"title": "t", "head": "x", "base": "main", "draft": True})
        twice = gh.post("/pulls", json={"title": "t", "head": "x", "base": "main"})
        listed = gh.get("/pulls", params={"head": f"{github.owner}:x", "state": "all"}).json()
        labelled = gh.post(f"/issues/{opened.json()['number']}/labels", json={"labels": ["a", "b"]})
    assert (first.status_code, again.status_code, unknown.status_code) == (201, 422, 422)
    assert again.json()["message"] == "Reference already exists"
    assert empty.status_code == 422 and "No commits between main and x" in empty.text
    assert opened.status_code == 201 and opened.json()["draft"] is True
    assert opened.json()["html_url"] == f"https://github.com/{github.full_name}/pull/{opened.json()['number']}"
    assert twice.status_code == 422 and "A pull request already exists for acme:x." in twice.text
    assert [p["number"] for p in listed] == [opened.json()["number"]]
    assert [label["name"] for label in labelled.json()] == ["a", "b"]


def test_trees_delete_with_a_null_sha_and_refuse_unknown_paths(github: FakeGitHub) -> None:
    head = github.commit_files("main", {"a.txt": "one\n", "d/b.txt": "two\n"})
    tree = github.repo.commits[head]["tree"]
    with _client(github) as gh:
        listing = gh.get(f"/git/trees/{tree}", params={"recursive": 1}).json()
        deleted = gh.post("/git/trees", json={"base_tree": tree, "tree": [
            {"path": "d/b.txt", "mode": "100644", "type": "blob", "sha": None}]})
        absent = gh.post("/git/trees", json={"base_tree": tree, "tree": [
            {"path": "zz", "mode": "100644", "type": "blob", "sha": None}]})
    assert [(e["path"], e["type"]) for e in listing["tree"]] == [("a.txt", "blob"), ("d", "tree"), ("d/b.txt", "blob")]
    assert deleted.status_code == 201 and [e["path"] for e in deleted.json()["tree"]] == ["a.txt"]
    assert absent.status_code == 422


def test_wrong_token_and_missing_headers(github: FakeGitHub) -> None:
    with _client(github, token="nope") as gh:
        denied = gh.get("/issues")
    assert denied.status_code == 401 and denied.json()["message"] == "Bad credentials"
    with httpx.Client() as bare:
        bare.get(f"{github.url}/repos/{github.full_name}/issues", headers={"Authorization": f"Bearer {github.token}"})
    assert len(github.problems) == 2  # Accept and X-GitHub-Api-Version both missing
    github.problems.clear()  # seen: the fixture checks that no other test leaves any
