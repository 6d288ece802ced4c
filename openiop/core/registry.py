"""Extension points: an app adds to a screen owned by an app below it by registering here, never by being imported.

Apps register in their ``AppConfig.ready()``; the owning screen reads the registry when it renders. Entries are
listed by their ``order`` number (then key), so the chart's tabs come out in the same order whatever the order of
INSTALLED_APPS. Registering the same entry twice is harmless (tests may run ``ready()`` again); two different entries
under one key is a configuration error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from openiop.core.roles import Cap


class _Entry(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def order(self) -> int: ...


E = TypeVar("E", bound=_Entry)


class Registry(Generic[E]):
    """Entries of one kind, by key; iterating gives them in ``order``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, E] = {}

    def register(self, entry: E) -> E:
        known = self._entries.get(entry.key)
        if known is not None and known != entry:
            raise ImproperlyConfigured(f"Two {self.kind} entries use the key {entry.key!r}.")
        self._entries[entry.key] = entry
        return entry

    def get(self, key: str) -> E | None:
        return self._entries.get(key)

    def __iter__(self) -> Iterator[E]:
        return iter(sorted(self._entries.values(), key=lambda e: (e.order, e.key)))

    def __len__(self) -> int:
        return len(self._entries)


def _visible(user: Any, caps: tuple[Cap, ...]) -> bool:
    return any(user.can(cap) for cap in caps)


# Builders take the request, the patient (patients.Patient) and the visible episodes when the caller already has
# them (None: the builder queries them itself). Typed Any because core sits below the apps that own those models.
TabBuilder = Callable[[HttpRequest, Any, "list[Any] | None"], dict[str, Any]]


@dataclass(frozen=True)
class ChartTab:
    """One section of the patient chart. Clinical sections list Cap.VIEW_CLINICAL so other roles never see them."""

    key: str  # the ``tab`` in the URL and the audit row's object type
    label: str
    order: int
    template: str
    build: TabBuilder
    caps: tuple[Cap, ...] = (Cap.VIEW_PATIENTS,)  # any one of these
    # (patient, the visible episodes) -> True to leave the tab out of the chart's tabs, e.g. Notes before the
    # patient was ever admitted (``patients.models.before_admission``). Cheap: the chart asks it for every tab.
    # The tab's URL still works; only the navigation folds it away.
    hidden_when: Callable[[Any, list[Any]], bool] | None = None

    @property
    def slug(self) -> str:
        return self.key

    def visible_to(self, user: Any) -> bool:
        return _visible(user, self.caps)

    def hidden_for(self, patient: Any, episodes: list[Any]) -> bool:
        return self.hidden_when is not None and self.hidden_when(patient, episodes)


@dataclass(frozen=True)
class HeaderFlag:
    """An alert in the chart header, above every tab. ``build`` returns the template's context, or None to show
    nothing for this patient."""

    key: str
    order: int
    template: str
    build: Callable[[HttpRequest, Any], dict[str, Any] | None]
    caps: tuple[Cap, ...] = (Cap.VIEW_PATIENTS,)

    def visible_to(self, user: Any) -> bool:
        return _visible(user, self.caps)


@dataclass(frozen=True)
class PatientListAnnotator:
    """Sets attributes on the patients of one page of the patient list (one query for the page) for a column the
    app's own partial renders, e.g. measures' score sparklines."""

    key: str
    order: int
    annotate: Callable[[Any, Sequence[Any]], None]  # (user, patients)


@dataclass(frozen=True)
class HomePanel:
    """A section of a clinical user's home page, rendered from ``template`` with what ``build`` returns (None: skip
    the panel). Panels that load themselves (HTMX) return an empty context."""

    key: str
    order: int
    template: str
    build: Callable[[HttpRequest], dict[str, Any] | None]
    caps: tuple[Cap, ...] = (Cap.VIEW_CENSUS,)

    def visible_to(self, user: Any) -> bool:
        return _visible(user, self.caps)


def loads_itself(request: HttpRequest) -> dict[str, Any]:
    """``build`` of a home panel whose template fetches its content after the page (HTMX): nothing to add."""
    return {}


@dataclass(frozen=True)
class LoginGate:
    """A rule of the staff login page: ``refuses(user)`` is True for an account that must sign in elsewhere (the
    portal's patient and family logins). Refused the same way as a wrong password."""

    key: str
    order: int
    refuses: Callable[[Any], bool]


chart_tabs: Registry[ChartTab] = Registry("chart tab")
header_flags: Registry[HeaderFlag] = Registry("chart header flag")
patient_list_annotators: Registry[PatientListAnnotator] = Registry("patient list annotator")
home_panels: Registry[HomePanel] = Registry("home panel")
login_gates: Registry[LoginGate] = Registry("login gate")


T = TypeVar("T")


class Provider(Generic[T]):
    """The one implementation of a service that a lower app needs from a higher one, with the lower app's fallback
    used until (or unless) the higher app provides it in its ``ready()``."""

    def __init__(self, kind: str, default: T) -> None:
        self.kind = kind
        self._default = default
        self._current: T | None = None

    def provide(self, implementation: T) -> T:
        if self._current is not None and self._current != implementation:
            raise ImproperlyConfigured(f"{self.kind} is provided twice.")
        self._current = implementation
        return implementation

    def get(self) -> T:
        return self._current if self._current is not None else self._default


def _no_disclosure_recorder(patient: Any, **kwargs: Any) -> Any:
    raise ImproperlyConfigured("No disclosure recorder: the consents app provides it in its ready().")


# consents.disclosures.record_disclosure, for the apps below consents (attendance, billing, patients...) that send
# patient data out of the clinic: they call ``registry.disclosure_recorder.get()(patient, recipient="payer", ...)``
# with the recipient in the API's spelling, since they cannot import consents' Recipient. No fallback on purpose:
# a disclosure that cannot be accounted for must fail, not vanish.
disclosure_recorder: Provider[Callable[..., Any]] = Provider("disclosure recorder", _no_disclosure_recorder)
