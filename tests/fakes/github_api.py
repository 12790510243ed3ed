"""A fake of the GitHub REST API (the part the remediation filer uses), served on loopback.

It keeps a real little repository — blobs, flat trees, commits, refs — plus issues, pull requests
and labels, and answers with GitHub's JSON shapes and status codes: 401 "Bad credentials" for a
wrong token, 404 "Not Found", 409 when a contents `sha` does not match, 422 "Reference already
exists", 422 "A pull request already exists for …", "Validation Failed" for bad fields. Every
request is recorded (`calls`) with the headers GitHub documents checked (`problems`); failures can
be injected (`fail`), before or after the request took effect (a 502 after the issue was created).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.support.servers import serve_app

DOCS = "https://docs.github.com/rest"
FlatTree = dict[str, tuple[str, str]]  # path → (mode, blob sha)


@dataclass
class Call:
    method: str
    path: str  # after /repos/{owner}/{repo}
    body: Any
    query: dict[str, str]


@dataclass
class Failure:
    method: str
    pattern: str
    status: int
    headers: dict[str, str]
    message: str
    times: int
    after: bool  # act first, then answer with the failure


@dataclass
class Repo:
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, FlatTree] = field(default_factory=dict)
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" → commit sha
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)


def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


class FakeGitHub:
    def __init__(self, *, token: str = "ghp_fake_token_0123456789", owner: str = "acme", name: str = "shop") -> None:
        self.token, self.owner, self.name = token, owner, name
        self.repo = Repo()
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.failures: list[Failure] = []
        self.can_push = True  # False: labels given at issue creation are dropped, as GitHub does
        self.url = ""
        self._seq = itertools.count(1)
        self._numbers = itertools.count(1)
        self.app = FastAPI()
        self.app.add_api_route("/repos/{owner}/{name}/{rest:path}", self._dispatch,
                               methods=["GET", "POST", "PUT", "PATCH", "DELETE"])

    # --- repository state ------------------------------------------------------------------------

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def _blob(self, data: bytes) -> str:
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        self.repo.blobs[sha] = data
        return sha

    def _tree(self, flat: FlatTree) -> str:
        sha = hashlib.sha1(json.dumps(sorted(flat.items())).encode(), usedforsecurity=False).hexdigest()
        self.repo.trees[sha] = dict(flat)
        return sha

    def _commit(self, tree: str, parents: list[str], message: str) -> str:
        seed = json.dumps([tree, parents, message, next(self._seq)]).encode()
        sha = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
        self.repo.commits[sha] = {"tree": tree, "parents": parents, "message": message}
        return sha

    def commit_files(self, branch: str, changes: dict[str, str | None], message: str = "change") -> str:
        """Commit on `branch` (created if new): a str sets a file, None deletes it. Returns the sha."""
        head = self.repo.refs.get(f"heads/{branch}")
        flat = dict(self.repo.trees[self.repo.commits[head]["tree"]]) if head else {}
        for path, text in changes.items():
            if text is None:
                flat.pop(path, None)
            else:
                flat[path] = ("100644", self._blob(text.encode()))
        sha = self._commit(self._tree(flat), [head] if head else [], message)
        self.repo.refs[f"heads/{branch}"] = sha
        return sha

    def resolve(self, ref: str) -> str | None:
        if f"heads/{ref}" in self.repo.refs:
            return self.repo.refs[f"heads/{ref}"]
        matches = [sha for sha in self.repo.commits if sha.startswith(ref.lower())] if len(ref) >= 7 else []
        return matches[0] if len(matches) == 1 else None

    def files_at(self, ref: str) -> dict[str, str]:
        commit = self.resolve(ref)
        assert commit, ref
        flat = self.repo.trees[self.repo.commits[commit]["tree"]]
        return {path: self.repo.blobs[blob].decode() for path, (_, blob) in flat.items()}

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    def fail(self, method: str, pattern: str, status: int, *, headers: dict[str, str] | None = None,
             message: str = "Server Error", times: int = 1, after: bool = False) -> None:
        self.failures.append(Failure(method, pattern, status, headers or {}, message, times, after))

    # --- HTTP ----------------------------------------------------------------------------------

    async def _dispatch(self, owner: str, name: str, rest: str, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        path = "/" + rest
        self.calls.append(Call(request.method, path, body, dict(request.query_params)))
        headers = request.headers
        if headers.get("accept") != "application/vnd.github+json":
            self.problems.append(f"{request.method} {path}: Accept {headers.get('accept')!r}")
        if headers.get("x-github-api-version") != "2022-11-28":
            self.problems.append(f"{request.method} {path}: X-GitHub-Api-Version {headers.get('x-github-api-version')!r}")
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "Bad credentials")
        if (owner, name) != (self.owner, self.name):
            return _error(404, "Not Found")
        failure = next((f for f in self.failures if f.times > 0 and f.method == request.method
                        and re.fullmatch(f.pattern, path)), None)
        if failure and not failure.after:
            failure.times -= 1
            return JSONResponse({"message": failure.message, "documentation_url": DOCS},
                                status_code=failure.status, headers=failure.headers)
        answer = self._route(request.method, path, body, dict(request.query_params))
        if failure:
            failure.times -= 1
            return JSONResponse({"message": failure.message}, status_code=failure.status, headers=failure.headers)
        return answer

    def _route(self, method: str, path: str, body: Any, query: dict[str, str]) -> Response:
        routes = [
            ("GET", r"/commits/([^/]+)", self._get_commit),
            ("GET", r"/git/ref/heads/(.+)", self._get_ref),
            ("POST", r"/git/refs", self._post_ref),
            ("GET", r"/git/commits/([0-9a-f]+)", self._get_git_commit),
            ("POST", r"/git/commits", self._post_git_commit),
            ("GET", r"/git/trees/([0-9a-f]+)", self._get_tree),
            ("POST", r"/git/trees", self._post_tree),
            ("GET", r"/contents/(.+)", self._get_contents),
            ("PUT", r"/contents/(.+)", self._put_contents),
            ("GET", r"/issues", self._list_issues),
            ("POST", r"/issues", self._post_issue),
            ("POST", r"/issues/(\d+)/labels", self._post_labels),
            ("GET", r"/pulls", self._list_pulls),
            ("POST", r"/pulls", self._post_pull),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return handler(*match.groups(), body=body, query=query)  # type: ignore[operator]
        return _error(404, "Not Found")

    def _api(self, suffix: str) -> str:
        return f"{self.url}/repos/{self.full_name}{suffix}"

    def _html(self, suffix: str) -> str:
        return f"https://github.com/{self.full_name}{suffix}"

    def _get_commit(self, ref: str, **_: Any) -> Response:
        sha = self.resolve(ref)
        if not sha:
            return _error(422, f"No commit found for SHA: {ref}")
        commit = self.repo.commits[sha]
        after = self.repo.trees[commit["tree"]]
        before = self.repo.trees[self.repo.commits[commit["parents"][0]]["tree"]] if commit["parents"] else {}
        files = []
        for path in sorted(set(before) | set(after)):
            if before.get(path) == after.get(path):
                continue
            status = "added" if path not in before else "removed" if path not in after else "modified"
            blob = (after.get(path) or before[path])[1]
            files.append({"sha": blob, "filename": path, "status": status, "additions": 1, "deletions": 1,
                          "changes": 2, "blob_url": self._html(f"/blob/{sha}/{path}"),
                          "raw_url": self._html(f"/raw/{sha}/{path}"), "contents_url": self._api(f"/contents/{path}?ref={sha}")})
        return JSONResponse({
            "sha": sha, "node_id": "C_" + sha[:10], "url": self._api(f"/commits/{sha}"), "html_url": self._html(f"/commit/{sha}"),
            "commit": {"message": commit["message"], "tree": {"sha": commit["tree"], "url": self._api(f"/git/trees/{commit['tree']}")},
                       "author": {"name": "dev", "email": "dev@example.com", "date": "2026-12-01T10:00:00Z"}},
            "parents": [{"sha": p, "url": self._api(f"/commits/{p}"), "html_url": self._html(f"/commit/{p}")} for p in commit["parents"]],
            "stats": {"total": 2 * len(files), "additions": len(files), "deletions": len(files)}, "files": files})

    def _ref_json(self, name: str) -> dict[str, Any]:
        sha = self.repo.refs[name]
        return {"ref": f"refs/{name}", "node_id": "REF_" + name, "url": self._api(f"/git/refs/{name}"),
                "object": {"type": "commit", "sha": sha, "url": self._api(f"/git/commits/{sha}")}}

    def _get_ref(self, branch: str, **_: Any) -> Response:
        name = f"heads/{branch}"
        return JSONResponse(self._ref_json(name)) if name in self.repo.refs else _error(404, "Not Found")

    def _post_ref(self, *, body: Any, **_: Any) -> Response:
        ref, sha = (body or {}).get("ref", ""), (body or {}).get("sha", "")
        if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
            return _error(422, "ref must be formatted as 'refs/heads/<branch name>'")
        if sha not in self.repo.commits:
            return _error(422, "Object does not exist")
        name = ref.removeprefix("refs/")
        if name in self.repo.refs:
            return _error(422, "Reference already exists")
        self.repo.refs[name] = sha
        return JSONResponse(self._ref_json(name), status_code=201)

    def _git_commit_json(self, sha: str) -> dict[str, Any]:
        commit = self.repo.commits[sha]
        return {"sha": sha, "node_id": "C_" + sha[:10], "url": self._api(f"/git/commits/{sha}"),
                "html_url": self._html(f"/commit/{sha}"), "message": commit["message"],
                "author": {"name": "oncall", "email": "oncall@example.com", "date": "2026-12-01T10:00:00Z"},
                "tree": {"sha": commit["tree"], "url": self._api(f"/git/trees/{commit['tree']}")},
                "parents": [{"sha": p, "url": self._api(f"/git/commits/{p}")} for p in commit["parents"]],
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None}}

    def _get_git_commit(self, sha: str, **_: Any) -> Response:
        return JSONResponse(self._git_commit_json(sha)) if sha in self.repo.commits else _error(404, "Not Found")

    def _post_git_commit(self, *, body: Any, **_: Any) -> Response:
        body = body or {}
        if not isinstance(body.get("message"), str) or body.get("tree") not in self.repo.trees:
            return _error(422, "Invalid request.", [{"resource": "Commit", "field": "tree", "code": "invalid"}])
        parents = body.get("parents", [])
        if not isinstance(parents, list) or any(p not in self.repo.commits for p in parents):
            return _error(422, "Invalid request.", [{"resource": "Commit", "field": "parents", "code": "invalid"}])
        sha = self._commit(body["tree"], parents, body["message"])
        return JSONResponse(self._git_commit_json(sha), status_code=201)

    def _tree_json(self, sha: str, recursive: bool) -> dict[str, Any]:
        flat = self.repo.trees[sha]
        entries: list[dict[str, Any]] = []
        dirs = sorted({"/".join(p.split("/")[:i]) for p in flat for i in range(1, p.count("/") + 1)})
        for path in sorted([*flat, *dirs]):
            if not recursive and "/" in path:
                continue
            if path in flat:
                mode, blob = flat[path]
                entries.append({"path": path, "mode": mode, "type": "blob", "sha": blob,
                                "size": len(self.repo.blobs[blob]), "url": self._api(f"/git/blobs/{blob}")})
            else:
                entries.append({"path": path, "mode": "040000", "type": "tree",
                                "sha": hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest(), "url": ""})
        return {"sha": sha, "url": self._api(f"/git/trees/{sha}"), "tree": entries, "truncated": False}

    def _get_tree(self, sha: str, *, query: dict[str, str], **_: Any) -> Response:
        if sha not in self.repo.trees:
            return _error(404, "Not Found")
        return JSONResponse(self._tree_json(sha, recursive="recursive" in query))

    def _post_tree(self, *, body: Any, **_: Any) -> Response:
        body = body or {}
        base = body.get("base_tree")
        if base is not None and base not in self.repo.trees:
            return _error(422, "Invalid tree info", [{"resource": "Tree", "field": "base_tree", "code": "invalid"}])
        flat = dict(self.repo.trees[base]) if base else {}
        for entry in body.get("tree", []):
            path, mode, sha = entry.get("path"), entry.get("mode"), entry.get("sha", "absent")
            if entry.get("type") != "blob" or mode not in {"100644", "100755", "120000"} or not path:
                return _error(422, "Invalid tree info", [{"resource": "Tree", "field": "tree", "code": "invalid"}])
            if sha is None:
                if path not in flat:
                    return _error(422, f"tree.path {path} does not exist in base_tree")
                flat.pop(path)
            elif "content" in entry:
                flat[path] = (mode, self._blob(str(entry["content"]).encode()))
            elif sha in self.repo.blobs:
                flat[path] = (mode, sha)
            else:
                return _error(422, f"tree.sha {sha} is not a valid blob")
        sha = self._tree(flat)
        return JSONResponse(self._tree_json(sha, recursive=False), status_code=201)

    def _content_json(self, path: str, blob: str) -> dict[str, Any]:
        data = self.repo.blobs[blob]
        encoded = base64.b64encode(data).decode()
        wrapped = "\n".join(encoded[i:i + 60] for i in range(0, len(encoded), 60)) + "\n"  # as GitHub wraps it
        return {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                "path": path, "content": wrapped, "sha": blob, "url": self._api(f"/contents/{path}"),
                "html_url": self._html(f"/blob/main/{path}"), "git_url": self._api(f"/git/blobs/{blob}"),
                "download_url": f"https://raw.githubusercontent.com/{self.full_name}/main/{path}"}

    def _get_contents(self, path: str, *, query: dict[str, str], **_: Any) -> Response:
        commit = self.resolve(query.get("ref", "main"))
        if not commit:
            return _error(404, f"No commit found for the ref {query.get('ref')}")
        flat = self.repo.trees[self.repo.commits[commit]["tree"]]
        if path not in flat:
            return _error(404, "Not Found")
        return JSONResponse(self._content_json(path, flat[path][1]))

    def _put_contents(self, path: str, *, body: Any, **_: Any) -> Response:
        body = body or {}
        branch = body.get("branch", "main")
        head = self.repo.refs.get(f"heads/{branch}")
        if not head:
            return _error(404, f"Branch {branch} not found")
        if not isinstance(body.get("message"), str) or not isinstance(body.get("content"), str):
            return _error(422, "Invalid request.\n\n\"message\" and \"content\" are required.")
        flat = dict(self.repo.trees[self.repo.commits[head]["tree"]])
        if path in flat and "sha" not in body:
            return _error(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
        if path in flat and body["sha"] != flat[path][1]:
            return _error(409, f"{path} does not match {body['sha']}")
        created = path not in flat
        blob = self._blob(base64.b64decode(body["content"]))
        flat[path] = (flat[path][0] if path in flat else "100644", blob)
        sha = self._commit(self._tree(flat), [head], body["message"])
        self.repo.refs[f"heads/{branch}"] = sha
        return JSONResponse({"content": self._content_json(path, blob), "commit": self._git_commit_json(sha)},
                            status_code=201 if created else 200)

    def _labels(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"id": abs(hash(n)) % 10**9, "node_id": "LA_" + n, "url": self._api(f"/labels/{n}"),
                 "name": n, "color": "ededed", "default": False, "description": None} for n in names]

    def _issue_json(self, number: int) -> dict[str, Any]:
        issue = self.repo.issues[number]
        out = {"id": 1000 + number, "node_id": f"I_{number}", "number": number, "title": issue["title"],
               "body": issue["body"], "state": issue["state"], "labels": self._labels(issue["labels"]),
               "user": {"login": "oncall-bot", "id": 1, "type": "User"}, "locked": False, "comments": 0,
               "url": self._api(f"/issues/{number}"), "created_at": "2026-12-01T10:00:00Z",
               "html_url": self._html(f"/{'pull' if number in self.repo.pulls else 'issues'}/{number}")}
        if number in self.repo.pulls:
            out["pull_request"] = {"url": self._api(f"/pulls/{number}"), "html_url": out["html_url"]}
        return out

    def _list_issues(self, *, query: dict[str, str], **_: Any) -> Response:
        state = query.get("state", "open")
        wanted = [x for x in query.get("labels", "").split(",") if x]
        numbers = sorted(self.repo.issues, reverse=query.get("direction", "desc") == "desc")
        items = [self._issue_json(n) for n in numbers
                 if state in ("all", self.repo.issues[n]["state"]) and all(w in self.repo.issues[n]["labels"] for w in wanted)]
        per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
        return JSONResponse(items[(page - 1) * per_page: page * per_page])

    def _post_issue(self, *, body: Any, **_: Any) -> Response:
        body = body or {}
        if not isinstance(body.get("title"), str) or not body["title"]:
            return _error(422, "Validation Failed", [{"resource": "Issue", "field": "title", "code": "missing_field"}])
        number = next(self._numbers)
        labels = [str(x) for x in body.get("labels", [])] if self.can_push else []
        self.repo.issues[number] = {"title": body["title"], "body": body.get("body"), "state": "open", "labels": labels}
        return JSONResponse(self._issue_json(number), status_code=201)

    def _post_labels(self, number: str, *, body: Any, **_: Any) -> Response:
        issue = self.repo.issues.get(int(number))
        if issue is None:
            return _error(404, "Not Found")
        labels = (body or {}).get("labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
            return _error(422, "Invalid request.\n\nFor 'links/0/schema', nil is not an array.")
        issue["labels"] += [x for x in labels if x not in issue["labels"]]
        return JSONResponse(self._labels(issue["labels"]))

    def _pull_json(self, number: int) -> dict[str, Any]:
        pull, issue = self.repo.pulls[number], self.repo.issues[number]
        return {"id": 2000 + number, "node_id": f"PR_{number}", "number": number, "state": issue["state"],
                "title": issue["title"], "body": issue["body"], "draft": pull["draft"], "labels": self._labels(issue["labels"]),
                "head": {"ref": pull["head"], "label": f"{self.owner}:{pull['head']}", "sha": self.repo.refs.get(f"heads/{pull['head']}")},
                "base": {"ref": pull["base"], "label": f"{self.owner}:{pull['base']}", "sha": self.repo.refs.get(f"heads/{pull['base']}")},
                "url": self._api(f"/pulls/{number}"), "html_url": self._html(f"/pull/{number}"),
                "user": {"login": "oncall-bot", "id": 1, "type": "User"}, "merged": False}

    def _list_pulls(self, *, query: dict[str, str], **_: Any) -> Response:
        state, head = query.get("state", "open"), query.get("head")
        items = [self._pull_json(n) for n in sorted(self.repo.pulls, reverse=True)
                 if state in ("all", self.repo.issues[n]["state"])
                 and (head is None or f"{self.owner}:{self.repo.pulls[n]['head']}" == head)]
        return JSONResponse(items)

    def _post_pull(self, *, body: Any, **_: Any) -> Response:
        body = body or {}
        head, base = body.get("head"), body.get("base")
        if not isinstance(body.get("title"), str) or f"heads/{base}" not in self.repo.refs:
            return _error(422, "Validation Failed", [{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        if f"heads/{head}" not in self.repo.refs:
            return _error(422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        if any(p["head"] == head and p["base"] == base and self.repo.issues[n]["state"] == "open"
               for n, p in self.repo.pulls.items()):
            return _error(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                     "message": f"A pull request already exists for {self.owner}:{head}."}])
        if self.repo.refs[f"heads/{head}"] == self.repo.refs[f"heads/{base}"]:
            return _error(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                     "message": f"No commits between {base} and {head}"}])
        number = next(self._numbers)
        self.repo.issues[number] = {"title": body["title"], "body": body.get("body"), "state": "open", "labels": []}
        self.repo.pulls[number] = {"head": head, "base": base, "draft": bool(body.get("draft", False))}
        return JSONResponse(self._pull_json(number), status_code=201)


@contextmanager
def running_github(**kwargs: Any) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(**kwargs)
    with serve_app(fake.app) as url:
        fake.url = url
        yield fake
