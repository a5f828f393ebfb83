"""``/api/v1/agents`` (the team, for any agent) and ``/api/v1/admin/agents`` (admins manage it).

The admin endpoints run exactly the validation of ``chatdesk agents add`` (both call
``accounts.service``), so the console and the CLI cannot disagree about what is valid.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from chatdesk.accounts import service as accounts
from chatdesk.accounts.passwords import MAX_PASSWORD_CHARS
from chatdesk.accounts.service import MAX_EMAIL_CHARS, AgentAccount, Role
from chatdesk.channels.auth import AdminAgent, CurrentAgent
from chatdesk.channels.deps import RuntimeDep, SessionDep
from chatdesk.clock import utcnow
from chatdesk.errors import BadRequestError

router = APIRouter(tags=["agents"])


class AgentSummary(BaseModel):
    id: str
    name: str
    role: Role
    status: str
    languages: list[str]
    departments: list[str]
    max_chats: int

    @classmethod
    def of(cls, agent: AgentAccount) -> AgentSummary:
        return cls(
            id=agent.id,
            name=agent.name,
            role=agent.role,
            status=agent.status,
            languages=list(agent.languages),
            departments=list(agent.departments),
            max_chats=agent.max_chats,
        )


class AgentLive(AgentSummary):
    """An agent with what the floor looks like now: connected, chats (offers count)."""

    connected: bool
    active_chats: int
    pending_offers: int


class AdminAgentView(AgentSummary):
    email: str
    auto_accept: bool
    disabled: bool

    @classmethod
    def of(cls, agent: AgentAccount) -> AdminAgentView:
        return cls(
            **AgentSummary.of(agent).model_dump(),
            email=agent.email,
            auto_accept=agent.auto_accept,
            disabled=agent.disabled,
        )


class CreateAgentRequest(BaseModel):
    email: str = Field(max_length=MAX_EMAIL_CHARS)
    name: str = Field(max_length=200)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)
    role: Role = "agent"
    languages: list[str]
    departments: list[str] = Field(default_factory=list)
    max_chats: int = 3
    auto_accept: bool = False


@router.get("/api/v1/agents")
async def list_agents(
    _agent: CurrentAgent, session: SessionDep, runtime: RuntimeDep
) -> list[AgentLive]:
    """Every enabled agent with live load (for transfer targets and the supervisor view)."""
    views, _ = await runtime.router.agent_views(session, runtime.clock())
    live = {view.id: view for view in views}
    out = []
    for agent in await accounts.list_agents(session):
        view = live.get(agent.id)
        if agent.disabled or view is None:
            continue
        out.append(
            AgentLive(
                **AgentSummary.of(agent).model_dump(),
                connected=view.connected,
                active_chats=view.active_chats,
                pending_offers=view.pending_offers,
            )
        )
    return out


@router.get("/api/v1/admin/agents")
async def list_all_agents(_admin: AdminAgent, session: SessionDep) -> list[AdminAgentView]:
    """Every account, disabled ones included, with emails (admins only)."""
    return [AdminAgentView.of(a) for a in await accounts.list_agents(session)]


@router.post("/api/v1/admin/agents", status_code=status.HTTP_201_CREATED)
async def create_agent(
    body: CreateAgentRequest, _admin: AdminAgent, session: SessionDep
) -> AdminAgentView:
    agent = await accounts.create_agent(
        session,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
        languages=body.languages,
        departments=body.departments,
        max_chats=body.max_chats,
        auto_accept=body.auto_accept,
        now=utcnow(),
    )
    return AdminAgentView.of(agent)


@router.post("/api/v1/admin/agents/{agent_id}/disable")
async def disable_agent(
    agent_id: str, admin: AdminAgent, session: SessionDep, runtime: RuntimeDep
) -> AdminAgentView:
    """Disable an agent and end their logins at once; their open consoles are closed, so
    after the presence grace their chats go back to the queue. Admins cannot lock
    themselves out."""
    if agent_id == admin.id:
        raise BadRequestError("you cannot disable your own account")
    agent = await accounts.disable_agent_by_id(session, agent_id=agent_id, now=utcnow())
    await runtime.hub.publish_disconnect(agent_id)
    return AdminAgentView.of(agent)
