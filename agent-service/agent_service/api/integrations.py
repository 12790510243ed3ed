"""Chat integrations: Slack buttons (`POST /integrations/slack/actions`) and the Telegram bot
(`POST /integrations/telegram/webhook`). Each route exists only when its secret is set (else
404). Thin: verification and wording are in agent_service/chat, the incident work in chat/actions."""

from __future__ import annotations

import logging
import time
from html import escape
from typing import Annotated, cast

import httpx
from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Request, Response
from pydantic import ValidationError

from agent_service.api.deps import AgentDep, IncidentsDep, RemediationDep
from agent_service.chat import slack, telegram
from agent_service.chat.actions import ACTIONS, ActionResult, ChatAction, ProposalAction, act, chat_actor, decide
from agent_service.incidents.service import IncidentService
from agent_service.remediation.service import RemediationService

log = logging.getLogger(__name__)
OPEN_LIST_LIMIT = 20


async def _chat_http(agent: AgentDep) -> httpx.AsyncClient:
    assert agent.chat_http is not None  # built by the lifespan whenever a chat route is on
    return agent.chat_http


ChatHttpDep = Annotated[httpx.AsyncClient, Depends(_chat_http)]


def slack_router(signing_secret: str, *, public_url: str) -> APIRouter:
    router = APIRouter(prefix="/integrations/slack", tags=["integrations"])

    async def carry_out(service: IncidentService, http: httpx.AsyncClient, *, incident_id: int,
                        action: ChatAction, actor: str, response_url: str) -> None:
        await reply(http, incident_id, await act(service, incident_id, action, actor=actor), response_url)

    async def carry_out_proposal(remediation: RemediationService, service: IncidentService, http: httpx.AsyncClient,
                                 *, incident_id: int, pid: str, action: ProposalAction, actor: str,
                                 response_url: str) -> None:
        result = await decide(remediation, service, incident_id, pid, action, actor=actor)
        await reply(http, incident_id, result, response_url)

    async def reply(http: httpx.AsyncClient, incident_id: int, result: ActionResult, response_url: str) -> None:
        message = slack.updated_message(result.incident, result.message,
                                        url=f"{public_url.rstrip('/')}/incidents/{incident_id}")
        try:
            answer = await http.post(response_url, json=message)
            if answer.status_code >= 300:
                log.warning("slack response_url answered %s", answer.status_code)
        except httpx.HTTPError as exc:
            log.warning("slack response_url unreachable: %s", type(exc).__name__)

    @router.post("/actions", status_code=200, response_class=Response,
                 responses={401: {"description": "bad signature or replayed request"}})
    async def slack_actions(
        request: Request, service: IncidentsDep, http: ChatHttpDep, background: BackgroundTasks,
        remediation: RemediationDep,
        x_slack_signature: Annotated[str | None, Header()] = None,
        x_slack_request_timestamp: Annotated[str | None, Header()] = None,
    ) -> Response:
        """A button pressed in Slack: verified, answered at once (Slack wants 200 within 3 s), then
        carried out as the Slack user and the message replaced through `response_url`."""
        body = await request.body()
        if len(body) > slack.MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail="interaction payload too large")
        try:
            slack.verify(signing_secret, timestamp=x_slack_request_timestamp, sent=x_slack_signature, body=body,
                         now=time.time())
        except slack.SlackRejected as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from None
        try:
            payload = slack.parse_payload(body)
            known = [a for a in payload.actions if a.action_id in ACTIONS]
            incident_id = slack.incident_id_of(known[0]) if known else None
            on_proposal = [a for a in payload.actions if slack.proposal_decision(a.action_id)]
            proposal = slack.proposal_ref_of(on_proposal[0]) if on_proposal and not known else None
        except slack.BadPayload as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        if payload.type != "block_actions" or (incident_id is None and proposal is None):
            return Response(status_code=200)  # another interaction or button: nothing of ours
        if not payload.response_url.lower().startswith(("https://", "http://")):
            raise HTTPException(status_code=400, detail="response_url is not an http(s) URL")
        actor = chat_actor("slack", payload.user.username, payload.user.name, payload.user.id)
        if proposal is not None:
            decision = cast(ProposalAction, slack.proposal_decision(on_proposal[0].action_id))
            background.add_task(carry_out_proposal, remediation, service, http, incident_id=proposal[0],
                                pid=proposal[1], action=decision, actor=actor, response_url=payload.response_url)
            return Response(status_code=200)
        assert incident_id is not None
        action = cast(ChatAction, known[0].action_id)
        background.add_task(carry_out, service, http, incident_id=incident_id, action=action, actor=actor,
                            response_url=payload.response_url)
        return Response(status_code=200)

    return router


def telegram_router(webhook_secret: str, *, bot_token: str | None, api_url: str, chat_ids: str,
                    public_url: str) -> APIRouter:
    router = APIRouter(prefix="/integrations/telegram", tags=["integrations"])
    allowed = telegram.allowed_chats(chat_ids)

    async def answer(service: IncidentService, remediation: RemediationService, command: telegram.Command,
                     actor: str) -> str:
        if command.error:
            return f"{command.error}\n\n{telegram.HELP}" if command.name == "help" else command.error
        if command.name == "help":
            return telegram.HELP
        if command.name == "oncall":
            open_ids = await service.store.open_ids(OPEN_LIST_LIMIT)
            incidents = [i for i in [await service.store.get(n) for n in open_ids] if i is not None]
            return telegram.oncall_text(incidents)
        assert command.incident_id is not None
        if command.name in telegram.PROPOSAL_COMMANDS and command.proposal:
            action = cast(ProposalAction, command.name)
            return escape((await decide(remediation, service, command.incident_id, command.proposal, action,
                                        actor=actor)).message)
        if command.name == "incident":
            incident = await service.store.get(command.incident_id)
            if incident is None:
                return f"incident #{command.incident_id} not found"
            return telegram.incident_text(incident, url=f"{public_url.rstrip('/')}/incidents/{incident.id}")
        result = await act(service, command.incident_id, "ack" if command.name == "ack" else "resolved", actor=actor)
        return escape(result.message)

    @router.post("/webhook", status_code=200, response_class=Response,
                 responses={401: {"description": "wrong X-Telegram-Bot-Api-Secret-Token"}})
    async def telegram_webhook(
        request: Request, service: IncidentsDep, http: ChatHttpDep, remediation: RemediationDep,
        x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
    ) -> Response:
        """An update from Telegram. Answered 200 whenever the secret matches (Telegram retries
        anything else); a message from a chat not in TELEGRAM_CHAT_ID is ignored."""
        if not telegram.secret_matches(webhook_secret, x_telegram_bot_api_secret_token):
            raise HTTPException(status_code=401, detail="wrong X-Telegram-Bot-Api-Secret-Token")
        try:
            update = telegram.TelegramUpdate.model_validate_json(await request.body())
        except ValidationError:
            raise HTTPException(status_code=400, detail="not a Telegram update") from None
        message = update.message
        if message is None or message.chat.id not in allowed:
            return Response(status_code=200)
        command = telegram.parse_command(message.text)
        if command is None:
            return Response(status_code=200)
        sender = message.sender or telegram.TelegramUser()
        actor = chat_actor("telegram", sender.username, sender.first_name, str(sender.id) if sender.id else None)
        text = await answer(service, remediation, command, actor)
        if bot_token:
            await telegram.TelegramClient(http, api_url=api_url, token=bot_token).send(message.chat.id, text)
        else:
            log.warning("telegram command answered without TELEGRAM_BOT_TOKEN: reply not sent")
        return Response(status_code=200)

    return router
