"""The filer against the fake GitHub REST API over real HTTP: what lands in the repository, and the calls."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis

from agent_service.remediation.github import (
    GitHubAuthError,
    GitHubBusy,
    GitHubClient,
    GitHubConfig,
    GitHubFiler,
    GitHubForbidden,
    GitHubUnavailable,
    LinkPolicy,
    MemoryFiledRecord,
    NothingToChange,
    RedisFiledRecord,
    ServerChange,
    ServerLineNotFound,
    edit_server,
)
from agent_service.remediation.github.bodies import marker
from tests.agent.remediation.github.helpers import CONFIG, PUBLIC_URL, changed_lines
from tests.fakes.github_api import FakeGitHub

REPORT = "# Incident 7: be_app 5xx\n\nSee [runbook](https://evil.example/rb) and @alice.\n"
LABELS = {"oncall-copilot", "incident"}


def label_names(github: FakeGitHub, number: int) -> set[str]:
    return set(github.repo.issues[number]["labels"])


def seed(github: FakeGitHub) -> tuple[str, str]:
    """main: a base commit, the bad deploy (modifies, adds, removes), then an unrelated commit."""
    github.commit_files("main", {"app/config.py": "POOL = 10\n", "old.txt": "kept\n", "README.md": "v1\n",
                                 "haproxy/haproxy.cfg": CONFIG}, "initial")
    deploy = github.commit_files("main", {"app/config.py": "POOL = 1\n", "new.txt": "added\n", "old.txt": None},
                                 "Shrink the pool, fixes #1 (@bob)")
    github.commit_files("main", {"README.md": "v2\n"}, "docs")
    return deploy, github.repo.refs["heads/main"]


def other_filer(client: GitHubClient) -> GitHubFiler:
    """A second filer with an empty record: as after a restart without Redis."""
    return GitHubFiler(client, policy=LinkPolicy(public_url=PUBLIC_URL), record=MemoryFiledRecord())


async def test_an_issue_is_filed_labelled_and_safe(github: FakeGitHub, filer: GitHubFiler) -> None:
    filed = await filer.file_issue(7, "be_app 5xx", REPORT, labels=["be_app"])
    assert filed.kind == "issue" and filed.created
    assert filed.url == f"https://github.com/{github.full_name}/issues/{filed.number}"
    issue = github.repo.issues[filed.number]
    assert issue["labels"] == ["oncall-copilot", "incident", "report", "be_app"]
    assert issue["body"].startswith(marker(7, "issue"))
    assert "evil.example" not in issue["body"] and "@\u200balice" in issue["body"]
    assert f"{PUBLIC_URL}/console/incidents/7" in issue["body"]


async def test_the_issue_is_filed_once_however_often_the_call_is_retried(
        github: FakeGitHub, client: GitHubClient, filer: GitHubFiler) -> None:
    first = await filer.file_issue(7, "be_app 5xx", REPORT)
    again = await filer.file_issue(7, "be_app 5xx", REPORT)
    after_restart = await other_filer(client).file_issue(7, "be_app 5xx", REPORT)
    assert again.url == after_restart.url == first.url
    assert not again.created and not after_restart.created
    assert len(github.calls_to("POST", "/issues")) == 1
    other = await filer.file_issue(8, "another", REPORT)
    assert other.number != first.number


async def test_a_502_after_github_created_the_issue_does_not_make_a_second(
        github: FakeGitHub, filer: GitHubFiler) -> None:
    github.fail("POST", "/issues", 502, after=True)
    filed = await filer.file_issue(7, "be_app 5xx", REPORT)
    assert len(github.repo.issues) == 1 and filed.number in github.repo.issues
    assert len(github.calls_to("POST", "/issues")) == 1


async def test_a_502_before_github_acted_is_tried_once_more(github: FakeGitHub, filer: GitHubFiler) -> None:
    github.fail("POST", "/issues", 502)
    filed = await filer.file_issue(7, "be_app 5xx", REPORT)
    assert list(github.repo.issues) == [filed.number]
    github.fail("POST", "/issues", 502, times=2)
    with pytest.raises(GitHubUnavailable):
        await filer.file_issue(8, "t", REPORT)
    assert len(github.repo.issues) == 1


async def test_labels_dropped_by_github_are_added_afterwards(github: FakeGitHub, filer: GitHubFiler) -> None:
    github.can_push = False  # GitHub silently drops labels at creation for such tokens
    filed = await filer.file_issue(7, "be_app 5xx", REPORT)
    assert label_names(github, filed.number) == LABELS | {"report"}
    assert len(github.calls_to("POST", rf"/issues/{filed.number}/labels")) == 1


async def test_the_record_in_redis_answers_a_retry_without_asking_github(
        github: FakeGitHub, client: GitHubClient, redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        policy = LinkPolicy(public_url=PUBLIC_URL)
        first = await GitHubFiler(client, policy=policy, record=RedisFiledRecord(redis)).file_issue(7, "t", REPORT)
        calls = len(github.calls)
        again = await GitHubFiler(client, policy=policy, record=RedisFiledRecord(redis)).file_issue(7, "t", REPORT)
        assert again.url == first.url and not again.created
        assert len(github.calls) == calls
        assert await redis.exists("github:filed:7:issue") == 1
    finally:
        await redis.aclose()


async def test_the_revert_pr_puts_back_the_parents_content_on_top_of_base(
        github: FakeGitHub, filer: GitHubFiler) -> None:
    deploy, base_head = seed(github)
    parent = github.repo.commits[deploy]["parents"][0]
    filed = await filer.open_revert_pr(7, "Roll back be_app", REPORT, deploy, labels=["be_app"])

    branch = f"oncall/incident-7-revert-{deploy[:7]}"
    assert filed.kind == "pull_request" and filed.url == f"https://github.com/{github.full_name}/pull/{filed.number}"
    reverted, before = github.files_at(branch), github.files_at(parent)
    assert {p: reverted.get(p) for p in ("app/config.py", "new.txt", "old.txt")} == \
        {p: before.get(p) for p in ("app/config.py", "new.txt", "old.txt")}
    assert reverted["README.md"] == "v2\n"  # the later, unrelated commit is kept
    assert reverted == {**before, "README.md": "v2\n"}
    head = github.repo.refs[f"heads/{branch}"]
    assert github.repo.commits[head]["parents"] == [base_head]
    message = github.repo.commits[head]["message"]
    assert message.startswith('Revert "Shrink the pool, fixes #\u200b1 (@\u200bbob)"\n\nThis reverts commit ')
    assert f"This reverts commit {deploy}." in message

    assert [c.body["ref"] for c in github.calls_to("POST", "/git/refs")] == [f"refs/heads/{branch}"]
    assert len(github.calls_to("POST", "/git/commits")) == 1
    (pull_call,) = github.calls_to("POST", "/pulls")
    assert pull_call.body["draft"] is True and pull_call.body["head"] == branch and pull_call.body["base"] == "main"
    assert github.repo.pulls[filed.number]["draft"] is True
    assert label_names(github, filed.number) == LABELS | {"rollback", "be_app"}
    order = [(c.method, c.path) for c in github.calls if c.method != "GET"]
    assert order == [("POST", "/git/trees"), ("POST", "/git/commits"), ("POST", "/git/refs"),
                     ("POST", "/pulls"), ("POST", f"/issues/{filed.number}/labels")]
    assert github.problems == []


async def test_the_revert_pr_is_opened_once(github: FakeGitHub, client: GitHubClient, filer: GitHubFiler) -> None:
    deploy, _ = seed(github)
    first = await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    again = await other_filer(client).open_revert_pr(7, "Roll back", REPORT, deploy[:12])
    assert again.url == first.url and not again.created
    assert len(github.calls_to("POST", "/git/refs")) == 1 and len(github.calls_to("POST", "/pulls")) == 1


async def test_a_crash_after_the_branch_resumes_from_it(github: FakeGitHub, filer: GitHubFiler) -> None:
    deploy, _ = seed(github)
    github.fail("POST", "/pulls", 422, message="Validation Failed")  # not "already exists": a real failure
    with pytest.raises(Exception, match="422"):
        await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    filed = await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    assert len(github.calls_to("POST", "/git/commits")) == 1  # the branch's commit was reused
    assert github.repo.pulls[filed.number]["draft"] is True


async def test_base_moved_on_a_reverted_file_opens_only_an_issue(github: FakeGitHub, filer: GitHubFiler) -> None:
    deploy, _ = seed(github)
    github.commit_files("main", {"app/config.py": "POOL = 4\n"}, "tune the pool again")
    filed = await filer.open_revert_pr(7, "Roll back be_app", REPORT, deploy)
    assert filed.kind == "issue" and "needs a human" in filed.note
    issue = github.repo.issues[filed.number]
    assert "app/config.py" in issue["body"] and "No pull request was opened" in issue["body"]
    assert set(issue["labels"]) == LABELS | {"rollback"}
    assert not github.calls_to("POST", "/git/refs") and not github.calls_to("POST", "/pulls")
    assert github.repo.refs.keys() == {"heads/main"}
    again = await filer.open_revert_pr(7, "Roll back be_app", REPORT, deploy)
    assert again.url == filed.url and len(github.repo.issues) == 1


async def test_a_merge_commit_is_not_reverted_mechanically(github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    head = github.repo.refs["heads/main"]
    merge = github._commit(github.repo.commits[head]["tree"], [head, github.repo.commits[head]["parents"][0]], "Merge")
    github.repo.refs["heads/main"] = merge
    filed = await filer.open_revert_pr(7, "Roll back", REPORT, merge)
    assert filed.kind == "issue" and "2 parents" in filed.note


async def test_the_config_pr_is_a_minimal_diff_of_one_file(github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    path = "haproxy/haproxy.cfg"
    current, _ = await filer.read_text(path, "main")
    proposed = edit_server(current, backend="be_app", server="app1", change=ServerChange(weight=0))
    filed = await filer.open_config_pr(7, "Take app1 out of be_app", REPORT, path, proposed,
                                       labels=["be_app"], based_on=current)
    branch = github.repo.pulls[filed.number]["head"]
    assert branch.startswith("oncall/incident-7-config-")
    after, before = github.files_at(branch), github.files_at("main")
    assert changed_lines(before[path], after[path]) == [
        "-    server app1 127.0.0.1:9001 check weight 100   # primary",
        "+    server app1 127.0.0.1:9001 check weight 0   # primary"]
    assert {p: t for p, t in after.items() if p != path} == {p: t for p, t in before.items() if p != path}
    (put,) = github.calls_to("PUT", "/contents/haproxy/haproxy.cfg")
    assert put.body["branch"] == branch and put.body["sha"]
    assert github.repo.pulls[filed.number]["draft"] is True
    assert label_names(github, filed.number) == LABELS | {"config", "be_app"}
    again = await filer.open_config_pr(7, "Take app1 out of be_app", REPORT, path, proposed)
    assert again.url == filed.url and len(github.calls_to("PUT", "/contents/.+")) == 1


async def test_a_config_changed_since_the_proposal_opens_only_an_issue(github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    path = "haproxy/haproxy.cfg"
    current, _ = await filer.read_text(path, "main")
    github.commit_files("main", {path: current + "# edited by hand\n"})
    proposed = edit_server(current, backend="be_app", server="app1", change=ServerChange(weight=0))
    filed = await filer.open_config_pr(7, "t", REPORT, path, proposed, based_on=current)
    assert filed.kind == "issue" and not github.repo.pulls and not github.calls_to("PUT", "/contents/.+")


async def test_no_pr_when_nothing_changes(github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    current, _ = await filer.read_text("haproxy/haproxy.cfg", "main")
    with pytest.raises(NothingToChange):
        await filer.open_config_pr(7, "t", REPORT, "haproxy/haproxy.cfg", current)
    assert not github.calls_to("POST", "/git/refs")


async def test_bad_input_is_refused_before_any_call(github: FakeGitHub, filer: GitHubFiler) -> None:
    with pytest.raises(Exception, match="not a commit sha"):
        await filer.open_revert_pr(7, "t", REPORT, "HEAD~1")
    with pytest.raises(Exception, match="not a branch name"):
        await filer.open_config_pr(7, "t", REPORT, "x", "y", base="../main")
    assert github.calls == []


async def test_open_haproxy_pr_edits_the_server_line_of_the_configured_file(
        github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    filed = await filer.open_haproxy_pr(7, "Drain app2", REPORT, path="haproxy/haproxy.cfg", backend="be_app",
                                        server="app2", change=ServerChange(disabled=False, weight=20))
    branch = github.repo.pulls[filed.number]["head"]
    assert changed_lines(github.files_at("main")["haproxy/haproxy.cfg"], github.files_at(branch)["haproxy/haproxy.cfg"]) == [
        "-    server app2 127.0.0.1:9002 check maxconn 30 disabled",
        "+    server app2 127.0.0.1:9002 check maxconn 30 weight 20"]
    with pytest.raises(ServerLineNotFound):
        await filer.open_haproxy_pr(7, "t", REPORT, path="haproxy/haproxy.cfg", backend="be_app",
                                    server="app9", change=ServerChange(weight=1))
    assert len(github.repo.pulls) == 1


@pytest.mark.parametrize("path", ["../../../user", "a/../b", "/etc/passwd", "a//b", "x?ref=y", ""])
async def test_a_path_that_could_leave_contents_is_refused(github: FakeGitHub, filer: GitHubFiler, path: str) -> None:
    with pytest.raises(Exception, match="not a repository file path"):
        await filer.open_config_pr(7, "t", REPORT, path, "x")
    assert github.calls == []


def test_config_from_the_environment() -> None:
    assert GitHubConfig.from_env({"GITHUB_TOKEN": "t"}) is None
    config = GitHubConfig.from_env({"GITHUB_TOKEN": "ghp_x", "GITHUB_REPO": "acme/shop", "GITHUB_API_URL": ""})
    assert config is not None and config.api_url == "https://api.github.com" and config.owner == "acme"
    assert "ghp_x" not in repr(config)
    with pytest.raises(ValueError):
        GitHubConfig.from_env({"GITHUB_TOKEN": "t", "GITHUB_REPO": "no-slash"})


async def test_concurrent_calls_in_one_process_file_one_issue(github: FakeGitHub, filer: GitHubFiler) -> None:
    results = await asyncio.gather(*(filer.file_issue(7, "t", REPORT) for _ in range(4)))
    assert {r.url for r in results} == {results[0].url}
    assert sum(r.created for r in results) == 1 and len(github.repo.issues) == 1


async def test_workers_sharing_redis_never_file_twice(github: FakeGitHub, client: GitHubClient, redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        policy = LinkPolicy(public_url=PUBLIC_URL)
        workers = [GitHubFiler(client, policy=policy, record=RedisFiledRecord(redis)) for _ in range(3)]
        outcomes = await asyncio.gather(*(w.file_issue(7, "t", REPORT) for w in workers), return_exceptions=True)
        filed = [o for o in outcomes if not isinstance(o, BaseException)]
        assert all(isinstance(o, GitHubBusy) for o in outcomes if isinstance(o, BaseException))
        assert len(github.repo.issues) == 1 and {f.url for f in filed} == {filed[0].url}
        later = await workers[1].file_issue(7, "t", REPORT)  # the busy ones retry: the record answers
        assert later.url == filed[0].url
        assert await redis.exists("github:filing:7:issue") == 0  # the claim was released
    finally:
        await redis.aclose()


async def test_a_failed_filing_releases_its_claim(github: FakeGitHub, client: GitHubClient, redis_url: str) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        filer = GitHubFiler(client, policy=LinkPolicy(public_url=PUBLIC_URL), record=RedisFiledRecord(redis))
        github.fail("POST", "/issues", 502, times=2)
        with pytest.raises(GitHubUnavailable):
            await filer.file_issue(7, "t", REPORT)
        assert (await filer.file_issue(7, "t", REPORT)).created
    finally:
        await redis.aclose()


async def test_auth_and_permission_errors_reach_the_caller_typed_without_the_token(
        github: FakeGitHub, filer: GitHubFiler, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    deploy, _ = seed(github)
    github.fail("POST", "/pulls", 403, message="Resource not accessible by personal access token")
    with pytest.raises(GitHubForbidden, match="POST /repos/acme/shop/pulls: 403 Resource not accessible"):
        await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    github.fail("GET", "/issues", 401, message="Bad credentials")
    with pytest.raises(GitHubAuthError) as caught:
        await filer.file_issue(8, "t", REPORT)
    assert not github.calls_to("POST", "/issues")
    assert caplog.records and github.token not in caplog.text and github.token not in repr(caught.value)


async def test_a_marker_quoted_in_a_report_does_not_pass_for_another_incidents_issue(
        github: FakeGitHub, filer: GitHubFiler) -> None:
    quoted = f"```\n{marker(9, 'issue')}\n```\n"
    seven = await filer.file_issue(7, "seven", quoted + REPORT)
    nine = await filer.file_issue(9, "nine", REPORT)
    assert nine.created and nine.number != seven.number


async def test_a_pr_left_unlabelled_by_a_failure_is_labelled_on_retry(github: FakeGitHub, filer: GitHubFiler) -> None:
    deploy, _ = seed(github)
    github.fail("POST", r"/issues/\d+/labels", 502, times=3)
    with pytest.raises(GitHubUnavailable):
        await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    (number,) = github.repo.pulls
    assert label_names(github, number) == set()
    filed = await filer.open_revert_pr(7, "Roll back", REPORT, deploy)
    assert filed.number == number and not filed.created
    assert label_names(github, number) == LABELS | {"rollback"}


async def test_a_config_pr_resumes_from_a_branch_already_written(github: FakeGitHub, filer: GitHubFiler) -> None:
    seed(github)
    current, _ = await filer.read_text("haproxy/haproxy.cfg", "main")
    proposed = edit_server(current, backend="be_app", server="app3", change=ServerChange(disabled=True))
    github.fail("POST", "/pulls", 502)  # not repeated blindly: the call fails, the branch stays
    with pytest.raises(GitHubUnavailable):
        await filer.open_config_pr(7, "Drain app3", REPORT, "haproxy/haproxy.cfg", proposed)
    filed = await filer.open_config_pr(7, "Drain app3", REPORT, "haproxy/haproxy.cfg", proposed)
    assert len(github.calls_to("PUT", "/contents/.+")) == 1 and len(github.calls_to("POST", "/git/refs")) == 1
    assert github.files_at(github.repo.pulls[filed.number]["head"])["haproxy/haproxy.cfg"] == proposed
