"""The peer: GNU Health's appointment create, driven the way the bench drives OpenIOP's booking.

GNU Health runs on the Tryton server, which speaks JSON-RPC 1.0: POST ``{"method": ..., "params": [...], "id": n}`` to
``/<database>/``; ``common.db.login`` (user name, ``{"password": ...}``) answers ``[user id, session]``, and later
calls carry ``Authorization: Session base64(user:user id:session)``; a model method is ``model.<model>.<method>`` with
the method's arguments and the context as its params. An application error is an ``"error"`` member in a 200 answer.

Nothing of GNU Health is vendored or installed here: the bench measures a server someone else runs, and says so
when none answers. Checked against GNU Health 5.0.6 on trytond 7.0 (bench/README.md says how to start one).
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bench.load import BenchError, Request, Response, Session

DEFAULT_URL = os.environ.get("GNUHEALTH_URL", "http://127.0.0.1:8000")
DEFAULT_DATABASE = os.environ.get("GNUHEALTH_DATABASE", "health")
DEFAULT_USER = os.environ.get("GNUHEALTH_USER", "admin")
APPOINTMENT_MODEL = "gnuhealth.appointment"


class PeerError(BenchError):
    pass


@dataclass(frozen=True)
class Peer:
    url: str
    database: str
    user: str
    password: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8000

    def not_running(self, why: str = "") -> str:
        return f"GNU Health: not running at {self.url}; the peer target is not checked" + (f" ({why})" if why else "")


def tryton_value(value: Any) -> Any:
    """Tryton's JSON encoding of the values it cannot take as plain JSON (here: datetimes)."""
    if isinstance(value, datetime):
        return {
            "__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
            "hour": value.hour, "minute": value.minute, "second": value.second, "microsecond": value.microsecond,
        }  # fmt: skip
    return value


class TrytonSession(Session):
    """One Tryton client: its own session, every call a JSON-RPC POST to /<database>/."""

    def __init__(self, peer: Peer, timeout: float = 60.0) -> None:
        super().__init__(peer.host, peer.port, timeout)
        self.peer = peer
        self.authorization = ""
        self.ids = itertools.count(1)

    def rpc(self, method: str, params: list[Any], *, database: bool = True) -> Any:
        path = f"/{self.peer.database}/" if database else "/"
        response = self.request(json_rpc(path, method, params))
        answer = decode(response)
        if response.status != 200 or "error" in answer:
            raise PeerError(f"{method}: HTTP {response.status}, {str(answer.get('error', ''))[:200]}")
        return answer.get("result")

    def login(self, username: str, password: str) -> None:
        result = self.rpc("common.db.login", [username, {"password": password}])
        if not result or len(result) != 2:
            raise PeerError(f"GNU Health login as {username} refused")
        user_id, session = result
        token = base64.b64encode(f"{username}:{user_id}:{session}".encode()).decode()
        self.authorization = f"Session {token}"

    def request(self, request: Request, *, with_cookies: bool = True) -> Response:
        body = request.body
        if body is not None:  # this client's own sequence of call ids
            body = json.dumps({**json.loads(body), "id": next(self.ids)}).encode()
        headers = {**(request.headers or {}), **({"Authorization": self.authorization} if self.authorization else {})}
        response = super().request(
            Request(request.method, request.path, headers=headers, body=body), with_cookies=with_cookies
        )
        # A Tryton error comes back as HTTP 200 with an "error" member: the load loop counts it as a failure.
        if response.status == 200 and "error" in decode(response):
            return Response(500, "", response.body)
        return response


def decode(response: Response) -> dict[str, Any]:
    try:
        answer = json.loads(response.body)
    except ValueError:
        return {"error": f"not JSON: {response.body[:80]!r}"}
    return answer if isinstance(answer, dict) else {"error": f"not a JSON-RPC answer: {str(answer)[:80]}"}


def probe(peer: Peer) -> str:
    """The server's version, or raise PeerError when nothing (or something else than Tryton) answers."""
    session = TrytonSession(peer, timeout=5)
    try:
        version = session.rpc("common.server.version", [], database=False)
    except (OSError, http.client.HTTPException) as exc:
        raise PeerError(f"no answer: {exc.__class__.__name__}") from None
    except PeerError as exc:
        raise PeerError(f"no Tryton JSON-RPC there: {exc}") from None
    return str(version)


@dataclass(frozen=True)
class PeerContext:
    patient_ids: list[int]
    professional_ids: list[int]


def prepare(peer: Peer) -> PeerContext:
    """Log in once and pick the patients the appointments will be for."""
    session = TrytonSession(peer)
    session.login(peer.user, peer.password)
    ids = session.rpc("model.gnuhealth.patient.search", [[], 0, 200, None, {}])
    if not ids:
        raise PeerError("GNU Health has no patients to make appointments for")
    professionals = session.rpc("model.gnuhealth.healthprofessional.search", [[], 0, 50, None, {}])
    if not professionals:
        raise PeerError("GNU Health has no health professionals to book with")
    return PeerContext(patient_ids=[int(i) for i in ids], professional_ids=[int(i) for i in professionals])


def appointment_request(peer: Peer, context: PeerContext, rng: random.Random) -> Request:
    """One ``gnuhealth.appointment`` create: a patient and a date in the coming weeks, as a front desk would book."""
    when = datetime(2030, 1, 7, 8, 0, tzinfo=UTC) + timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 60))
    # A confirmed appointment with a professional, the values the Tryton client sends after its defaults (GNU
    # Health's create reads ``state`` from the values, so a bare create without it is refused).
    values = {
        "patient": rng.choice(context.patient_ids),
        "healthprof": rng.choice(context.professional_ids),
        "appointment_date": tryton_value(when),
        "state": "confirmed",
    }
    return json_rpc(f"/{peer.database}/", f"model.{APPOINTMENT_MODEL}.create", [[values], {}])


def json_rpc(path: str, method: str, params: list[Any]) -> Request:
    body = json.dumps({"method": method, "params": params, "id": 0}).encode()
    return Request("POST", path, headers={"Content-Type": "application/json"}, body=body)
