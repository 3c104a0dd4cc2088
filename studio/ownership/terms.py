"""The check made before a run: every dataset's terms against the run's declared use.

A workflow declares its use in its settings (the file's ``settings``, which
``studio run --purpose/--region`` and the app's run settings fill in)::

    "settings": {"seed": 0, "purpose": "research", "region": "DE",
                 "licensee": "acme-research"}

``check_workflow`` (hence ``Engine.run``, the CLI, the app and the Python
API) calls :func:`terms_problems`: an expired, out-of-region, off-purpose
or non-exclusive use is a :class:`TermsProblem` naming the node, the
dataset, the owner, the term and the fix, and nothing runs. A run that
declares ``override_terms`` (a reason; ``studio run --override-terms``)
goes ahead, and the run record (``ownership.override``) and every artifact
made from it say which terms were overridden and why.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from nodes.data.files import paths_relative_to
from nodes.errors import UnknownNodeTypeError
from nodes.file_access import FileAccess
from nodes.ownership.sidecar import ANY, Owner, Ownership, SidecarError, Terms
from studio.workflow.errors import Problem, WorkflowInvalidError
from studio.workflow.model import Workflow

if TYPE_CHECKING:
    from nodes.ownership.source import DeclaredOwnership

#: Regions that name their members (ISO 3166-1 alpha-2; EL is the EU's code for Greece).
REGION_GROUPS = {
    "EU": frozenset({"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
                     "EL", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO",
                     "SK", "SI", "ES", "SE"}),
}
REGION_GROUPS["EEA"] = REGION_GROUPS["EU"] | {"IS", "LI", "NO"}
#: The workflow settings that declare a run's use.
USE_SETTINGS = ("purpose", "region", "licensee", "override_terms")
OVERRIDE_FIX = ("or run with --override-terms REASON (the reason and the terms overridden go "
                "into the run record and every artifact made from it)")


@dataclass(frozen=True)
class Use:
    """What a run declares it uses the data for, where, for whom, and when."""

    purpose: str | None = None
    region: str | None = None
    licensee: str | None = None
    on: date | None = None
    #: The reason given for overriding the terms (None: no override).
    override: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "region": self.region, "licensee": self.licensee,
                "date": (self.on or today()).isoformat(), "override": self.override}


@dataclass(frozen=True)
class Violation:
    """One term one use breaks."""

    node: str
    dataset: str
    sidecar: str
    owner: str
    owner_name: str
    term: str
    message: str
    fix: str
    #: Owners sharing terms break them together: one violation each (for their
    #: statements), the first of them stands for the group in refusals.
    first: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "first"}


@dataclass(frozen=True)
class TermsProblem(Problem):
    """A use the terms refuse: ``Problem`` plus the dataset, the owner and the term."""

    dataset: str = ""
    owner: str = ""
    term: str = ""
    violation: Violation | None = None


class TermsRefusedError(WorkflowInvalidError):
    """A run refused by the terms of its data, before anything ran."""


def today() -> date:
    return datetime.now(UTC).date()


def use_of(workflow: Workflow) -> tuple[Use, list[Problem]]:
    """The use a workflow's settings declare, and the settings that are not text."""
    extra = workflow.info.extra
    problems, values = [], {}
    for key in USE_SETTINGS:
        value = extra.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(Problem(f"the workflow setting '{key}' must be text, not "
                                    f"{value!r}", where=f"settings.{key}",
                                    fix=f"Give '{key}' as a word, e.g. \"research\"."))
            value = None
        values[key] = value.strip() if isinstance(value, str) else None
    return Use(values["purpose"], values["region"], values["licensee"], today(),
               values["override_terms"]), problems


def declared_use(workflow: Workflow, *, purpose: str | None = None, region: str | None = None,
                 licensee: str | None = None, override: str | None = None) -> None:
    """Declare a run's use in the workflow's settings (given values replace the
    file's). The override is for this run only: it is removed unless given."""
    extra = workflow.info.extra
    for key, value in (("purpose", purpose), ("region", region), ("licensee", licensee)):
        if value is not None:
            extra[key] = value
    if override:
        extra["override_terms"] = override
    else:
        extra.pop("override_terms", None)


def violations(workflow: Workflow, nodes: Iterable[str] | None = None,
               use: Use | None = None) -> tuple[list[Violation], list[Problem]]:
    """Every term the declared use breaks, over the datasets the given nodes (default:
    all) read; and the sidecars that cannot be read, as problems."""
    if use is None:
        use, problems = use_of(workflow)
    else:
        problems = []
    found: list[Violation] = []
    for node_id in nodes if nodes is not None else list(workflow.nodes):
        label = workflow.label(node_id)
        try:
            declared = declared_ownership(workflow, node_id)
        except UnknownNodeTypeError:  # reported by check_workflow itself
            continue
        except SidecarError as error:
            problems.append(Problem(f"'{label}': {error}", node=node_id, fix=error.fix))
            continue
        if declared is None:
            continue
        # Owners who give the same terms are checked, and named, together.
        by_terms: dict[Terms, list[Owner]] = {}
        for owner in _owners(declared.ownership):
            by_terms.setdefault(owner.terms, []).append(owner)
        for owners in by_terms.values():
            found += _check(node_id, label, declared.dataset, declared.ownership, owners, use)
    return found, problems


def declared_ownership(workflow: Workflow, node_id: str) -> DeclaredOwnership | None:
    """The owners and terms the dataset node ``node_id`` reads declares (its sidecar),
    None for a node that reads none. Its paths are resolved as a run of the workflow
    resolves them: relative ones from the workflow file's folder. SidecarError for a
    sidecar that cannot be read."""
    node = workflow.nodes[node_id]
    declare = getattr(workflow.registry.get(node.type_id), "data_ownership", None)
    if declare is None:
        return None
    with paths_relative_to(FileAccess.for_workflow(workflow).base):
        return declare(node.params)


def terms_problems(workflow: Workflow, nodes: Iterable[str] | None = None) -> list[Problem]:
    """What ``check_workflow`` reports: terms broken (unless overridden) and bad sidecars."""
    use, problems = use_of(workflow)
    found, more = violations(workflow, nodes, use)
    problems += more
    if use.override:
        return problems
    return problems + [TermsProblem(v.message, node=v.node, fix=v.fix, dataset=v.dataset,
                                    owner=v.owner, term=v.term, violation=v) for v in found
                       if v.first]


def enforce_run_terms(workflow: Workflow, args: argparse.Namespace) -> None:
    """For `studio run`: declare the use its options give (``--purpose``, ``--region``,
    ``--override-terms``), then check the terms; a refusal is kept in the
    run store (``--runs-dir``) and raised as TermsRefusedError (exit code 2)."""
    declared_use(workflow, purpose=getattr(args, "purpose", None),
                 region=getattr(args, "region", None),
                 override=getattr(args, "override_terms", None))
    refused = [p for p in terms_problems(workflow) if isinstance(p, TermsProblem)]
    if not refused:
        return
    from studio.ownership.record import record_refusal

    path = getattr(args, "file", None)
    record_refusal(workflow, refused, runs_dir=getattr(args, "runs_dir", None),
                   workflow_path=path, source="cli")
    raise TermsRefusedError(refused)


# -- the terms themselves ------------------------------------------------------------

def _owners(ownership: Ownership) -> list[Owner]:
    if ownership.owner_column is not None and not ownership.owners:
        # Nobody listed: every owner met in the column takes the dataset's terms.
        return [Owner("*", f"every owner in column '{ownership.owner_column}'",
                      ownership.terms)]
    return list(ownership.owners)


def _names(owners: list[Owner]) -> str:
    names = [o.name if o.name == o.id or o.id == "*" else f"{o.name} ({o.id})" for o in owners]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _check(node_id: str, label: str, dataset: str, ownership: Ownership, owners: list[Owner],
           use: Use) -> list[Violation]:
    terms: Terms = owners[0].terms
    on = use.on or today()
    who = _names(owners)
    where = f"'{label}' reads {dataset}, owned by {who}"
    renew = f"Ask {who} for new terms and record them in {ownership.path}"
    found = []

    def add(term: str, message: str, fix: str) -> None:
        for index, owner in enumerate(owners):
            found.append(Violation(node_id, dataset, ownership.path, owner.id, owner.name,
                                   term, f"{where}: {message}", f"{fix}; {OVERRIDE_FIX}.",
                                   first=index == 0))

    if terms.expires is not None and on > terms.expires:
        add("expires", f"the terms expired on {terms.expires.isoformat()} (today is "
            f"{on.isoformat()}, UTC)", f"{renew} (studio data describe FILE --refresh "
            "--expires YYYY-MM-DD, for a file)")
    if ANY not in terms.purposes:
        allowed = ", ".join(terms.purposes)
        if use.purpose is None:
            add("purposes", f"the terms allow only the purposes {allowed}, and the run "
                "declares none", f"Declare the run's purpose (studio run --purpose "
                f"{terms.purposes[0]}, or the workflow setting 'purpose') if that is what "
                "it is for")
        elif use.purpose.lower() not in {p.lower() for p in terms.purposes}:
            add("purposes", f"the run's purpose '{use.purpose}' is not one the terms allow "
                f"({allowed})", f"{renew} to allow '{use.purpose}', or use other data")
    if ANY not in terms.regions:
        allowed = ", ".join(terms.regions)
        if use.region is None:
            add("regions", f"the terms allow use only in {allowed}, and the run declares no "
                "region", "Declare where the run happens (studio run --region CODE, or the "
                "workflow setting 'region')")
        elif not _in_regions(use.region, terms.regions):
            add("regions", f"the run's region '{use.region}' is outside the regions the "
                f"terms allow ({allowed})", f"Run it in {allowed}, or ask {who} to allow "
                f"'{use.region}' in {ownership.path}")
    if terms.exclusive_to is not None and (use.licensee or "").lower() != \
            terms.exclusive_to.lower():
        running = f"'{use.licensee}'" if use.licensee else "a run that names no licensee"
        add("exclusive_to", f"the terms lend the rows exclusively to '{terms.exclusive_to}', "
            f"and this is {running}", f"Only '{terms.exclusive_to}' may use them (set the "
            f"workflow setting 'licensee' to \"{terms.exclusive_to}\" if you run for them)")
    return found


def _in_regions(region: str, allowed: Iterable[str]) -> bool:
    region = region.upper()
    for name in allowed:
        name = name.upper()
        if region == name or region in REGION_GROUPS.get(name, ()):
            return True
    return False
