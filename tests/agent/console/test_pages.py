"""Console pages and actions over HTTP on a real redis-server: what each role sees and may do,
and that every action lands on the incident's timeline with the user's name."""

from __future__ import annotations

from agent_service.console.roles import Role
from agent_service.console.users import UserStore
from tests.agent.console.support import add_user, console_app, console_settings, on_incident, post_form, sign_in


async def test_a_responders_actions_reach_the_timeline_with_their_name(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder, title="checkout 5xx", actor="alertmanager") as (client, page):
        incident_id = page.rsplit("/", 1)[1]
        assert (await post_form(client, f"{page}/ack", {}, page=page)).headers["location"] == page
        assert (await post_form(client, f"{page}/notes", {"text": "rolled back v42"}, page=page)).status_code == 303
        resolved = await post_form(client, f"{page}/status", {"status": "RESOLVED", "root_cause": "bad deploy v42"},
                                   page=page)
        assert resolved.status_code == 303
        incident = (await client.get(f"/incidents/{incident_id}")).json()
        assert incident["status"] == "RESOLVED" and incident["root_cause"] == "bad deploy v42"
        assert incident["acknowledged_by"] == "console:alice"
        mine = [(e["kind"], e["message"]) for e in incident["timeline"] if e["actor"] == "console:alice"]
        assert [k for k, _ in mine] == ["acknowledged", "note", "status_changed"]
        shown = (await client.get(page)).text
        assert "rolled back v42" in shown and "RESOLVED" in shown and "console:alice" in shown
        timeline = await client.get(f"{page}/timeline")
        assert timeline.status_code == 200 and "rolled back v42" in timeline.text and "<html" not in timeline.text


async def test_a_bad_status_or_transition_is_a_clear_4xx(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder) as (client, page):
        assert (await post_form(client, f"{page}/status", {"status": "DONE"}, page=page)).status_code == 422
        assert (await post_form(client, f"{page}/notes", {"text": " "}, page=page)).status_code == 422
        await post_form(client, f"{page}/status", {"status": "RESOLVED"}, page=page)
        again = await post_form(client, f"{page}/status", {"status": "MITIGATED"}, page=page)
        assert again.status_code == 409 and "RESOLVED" in again.text
        assert (await post_form(client, "/console/incidents/999/ack", {}, page=page)).status_code == 404
        assert (await client.get("/console/incidents/999")).status_code == 404
        assert (await client.get("/console/incidents?status=LOST")).status_code == 422
        assert (await client.get("/console/incidents?severity=meh")).status_code == 422


async def test_a_viewer_sees_no_buttons_and_is_refused_403(redis_url: str) -> None:
    async with on_incident(redis_url, "victor", Role.viewer, title="latency") as (client, page):
        incident_id = page.rsplit("/", 1)[1]
        shown = (await client.get(page)).text
        assert "latency" in shown and 'id="ack"' not in shown and "/notes" not in shown
        for path, data in (("ack", {}), ("notes", {"text": "x"}), ("status", {"status": "RESOLVED"}), ("analyze", {})):
            refused = await post_form(client, f"{page}/{path}", data, page=page)
            assert refused.status_code == 403 and "responder" in refused.text
        incident = (await client.get(f"/incidents/{incident_id}")).json()
        assert incident["status"] == "OPEN" and not any(e["actor"] == "console:victor" for e in incident["timeline"])


async def test_outside_text_is_escaped(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        incident_id = (await client.post("/incidents", json={"title": evil, "summary": evil})).json()["id"]
        await sign_in(client, "alice")
        for path in ("/console/incidents", f"/console/incidents/{incident_id}"):
            text = (await client.get(path)).text
            assert "<script>alert" not in text and "<img src=x" not in text
            assert "&lt;script&gt;alert(" in text


async def test_list_filters_and_pages_newest_first(redis_url: str) -> None:
    await add_user(redis_url, "alice", Role.viewer)
    async with console_app(console_settings(redis_url)) as client:
        for n in range(27):
            await client.post("/incidents", json={"title": f"incident number {n}",
                                                  "severity": "critical" if n % 2 else "warning"})
        await sign_in(client, "alice")
        first = (await client.get("/console/incidents")).text
        assert first.index("incident number 26") < first.index("incident number 25")
        assert "incident number 1<" not in first and 'href="/console/incidents?cursor=25"' in first
        second = (await client.get("/console/incidents?cursor=25")).text
        assert "incident number 1<" in second and "incident number 0<" in second
        critical = (await client.get("/console/incidents?severity=critical&status=")).text
        assert "incident number 25" in critical and "incident number 26" not in critical


async def test_reanalyse_queues_an_analysis_on_the_timeline(redis_url: str) -> None:
    async with on_incident(redis_url, "alice", Role.responder) as (client, page):
        incident_id = page.rsplit("/", 1)[1]
        assert (await post_form(client, f"{page}/analyze", {}, page=page)).status_code == 303
        timeline = (await client.get(f"/incidents/{incident_id}")).json()["timeline"]
        assert any(e["actor"] == "console:alice" and "re-analysis requested" in e["message"] for e in timeline)


async def test_only_an_admin_manages_users_and_each_change_ends_sessions(redis_url: str, users: UserStore) -> None:
    await add_user(redis_url, "root", Role.admin)
    await add_user(redis_url, "rita", Role.responder)
    async with console_app(console_settings(redis_url)) as client:
        await sign_in(client, "rita")
        assert (await client.get("/console/users")).status_code == 403
        assert (await post_form(client, "/console/users", {"username": "eve", "role": "admin",
                                                           "password": "12345678"}, page="/console/incidents")).status_code == 403
        client.cookies.clear()
        await sign_in(client, "root")
        assert "rita" in (await client.get("/console/users")).text
        added = await post_form(client, "/console/users", {"username": "vic", "role": "viewer", "password": "long enough"},
                                page="/console/users")
        assert added.status_code == 303 and (await users.get("vic")).role == Role.viewer  # type: ignore[union-attr]
        assert (await post_form(client, "/console/users", {"username": "Bad Name", "role": "viewer",
                                                           "password": "long enough"}, page="/console/users")).status_code == 422
        before = (await users.get("rita")).epoch  # type: ignore[union-attr]
        await post_form(client, "/console/users/rita/role", {"role": "viewer"}, page="/console/users")
        after = await users.get("rita")
        assert after is not None and after.role == Role.viewer and after.epoch == before + 1
        assert (await post_form(client, "/console/users/root/remove", {}, page="/console/users")).status_code == 409
        await post_form(client, "/console/users/vic/remove", {}, page="/console/users")
        assert await users.get("vic") is None
