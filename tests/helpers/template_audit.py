"""The template audit: every template a test synthesizes is checked like the deployed ones.

A pytest plugin (tests/conftest.py registers it; ``-p no:tests.helpers.template_audit`` turns
it off). It wraps ``aws_cdk.assertions.Template.from_stack``: after CDK has synthesized the
stack's Stage, the plugin reads the stack's template file and, when the template references
another stack (``Fn::ImportValue``, ``Fn::GetStackOutput``), its siblings of the same assembly.

- **Requests, IAM, limits** (:func:`tests.helpers.compliance.template_findings`; limits at
  AWS's own values, without the environments' margins) run once per distinct template (by
  content hash, with its referenced siblings) and per process; the
  findings are owned by whoever built the template: the test whose body called ``from_stack``
  (its node ID), or the fixture whose setup did (``<where it is defined>::<fixture name>``).
  When the owner finishes, any finding that no :class:`Exemption` of that owner explains fails
  it (a fixture's failure errors every test that uses it), and so does an exemption of that owner
  that explained nothing.
- **checkov** runs once per process at the end of the session over the distinct templates that
  process wrote first (a shared folder and exclusive creation dedupe them across xdist workers):
  its start-up costs seconds, so one batch, not one run per template. A failure that no
  :class:`CheckovExemption` explains, or a suppression without a reason, fails the session as
  one reported failure named ``…template_audit.py::checkov``; an exemption that explained nothing
  fails it only on a whole-suite run (a targeted run need not build what it covers).

Tests that plant a defect on purpose use the ``template_audit`` fixture's
:meth:`TemplateAudit.expect_findings` to receive the findings instead of failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from tests.helpers.checkov_scan import scan
from tests.helpers.compliance import template_findings
from tests.helpers.paths import ROOT

_CROSS_STACK = (b'"Fn::ImportValue"', b'"Fn::GetStackOutput"')
_CHECKOV_NODE = "tests/helpers/template_audit.py::checkov"
_DEFAULT_EXEMPTIONS = "tests.helpers.audit_exemptions"
_STATE = pytest.StashKey["TemplateAudit"]()


@dataclass(frozen=True)
class Exemption:
    """A finding that a test or fixture builds on purpose.

    :param owner: the test's node ID, or ``<path>::<fixture name>`` for a fixture.
    :param finding: a part of the finding's text (narrow: name the resource and the problem).
    :param reason: why the template is built that way.
    """

    owner: str
    finding: str
    reason: str


@dataclass(frozen=True)
class CheckovExemption:
    """checkov failures of test scaffolding (resources a test builds around the code under test).

    :param check_ids: the checkov checks, e.g. ``("CKV_AWS_116",)``.
    :param resource: a part of checkov's resource name (``<type>.<logical ID>``); a logical ID
        directly under a stack (``Bucket83908E77``) is the test's own, never a construct's.
    :param reason: why it is scaffolding or built that way on purpose.
    :param owner: only in templates this test or fixture (or file, as a prefix) built.
    """

    check_ids: tuple[str, ...]
    resource: str
    reason: str
    owner: str = ""

    def explains(self, result: Mapping[str, Any]) -> bool:
        return (
            result["check_id"] in self.check_ids
            and self.resource in result["resource"]
            and (not self.owner or any(o.startswith(self.owner) for o in result["owners"]))
        )


@dataclass(frozen=True)
class Built:
    """One template an owner built: its digest, stack (construct path) and findings."""

    digest: str
    stack: str
    findings: tuple[str, ...]


@dataclass
class _Owner:
    name: str
    built: list[Built] = field(default_factory=list)
    checkov: bool = True  # False: planted defects, not for checkov


class TemplateAuditError(AssertionError):
    """Findings of the templates a test or fixture built that nothing explains."""


@dataclass
class TemplateAudit:
    """The audit's state in one process (a session or an xdist worker)."""

    exemptions: Sequence[Exemption]
    checkov_exemptions: Sequence[CheckovExemption]
    folder: Path | None  # where templates go for checkov (shared by workers); None: no checkov
    _owners: list[_Owner] = field(default_factory=list)
    _findings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # checkov file name -> stack
    built_by: dict[str, set[str]] = field(default_factory=dict)  # file name -> owners
    templates_built: int = 0
    unowned: int = 0
    seconds: float = 0.0

    # Recording -------------------------------------------------------------------------------

    def record(self, stack: cdk.Stack) -> None:
        """Read, check (once per distinct template) and attribute the template of ``stack``."""
        start = time.perf_counter()
        self.templates_built += 1
        if not self._owners:
            self.unowned += 1  # built at import or collection time: nothing to fail
        else:
            outdir = Path(cdk.Stage.of(stack).outdir)  # type: ignore[union-attr]
            self._record_file(
                outdir, stack.template_file, _assembly_stacks(outdir), stack.node.path
            )
        self.seconds += time.perf_counter() - start

    def record_assembly(self, outdir: Path) -> int:
        """For templates a test synthesizes with ``app.synth()``: audit every stack of the cloud
        assembly in ``outdir`` (nested stages included) as the current owner's; returns how many."""
        start = time.perf_counter()
        count = 0
        for folder in _assemblies(outdir):
            stacks = _assembly_stacks(folder)
            for template_file, (_, path) in stacks.items():
                self._record_file(folder, template_file, stacks, path)
                count += 1
        self.templates_built += count
        self.seconds += time.perf_counter() - start
        return count

    def _record_file(
        self,
        outdir: Path,
        template_file: str,
        stacks: Mapping[str, tuple[str, str]],
        fallback_path: str,
    ) -> None:
        raw = (outdir / template_file).read_bytes()
        stack_path = stacks.get(template_file, ("", ""))[1] or fallback_path
        digest = hashlib.sha256(raw).hexdigest()
        siblings: dict[str, Any] = {}
        key = digest
        if any(marker in raw for marker in _CROSS_STACK):
            sibling_raw = {
                name: (outdir / file).read_bytes()
                for file, (name, _) in sorted(stacks.items())
                if file != template_file
            }
            siblings = {name: json.loads(text) for name, text in sibling_raw.items()}
            key = hashlib.sha256(raw + b"".join(sibling_raw.values())).hexdigest()
        findings = self._findings.get(key)
        if findings is None:
            findings = tuple(template_findings(json.loads(raw), siblings, margins=False))
            self._findings[key] = findings
        owner = self._owners[-1]
        owner.built.append(Built(key, stack_path, findings))
        file_name = f"{digest[:20]}.template.json"
        self.built_by.setdefault(file_name, set()).add(owner.name)
        if self.folder is not None and owner.checkov and file_name not in self.written:
            with contextlib.suppress(FileExistsError):  # another worker checks it
                descriptor = os.open(self.folder / file_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(raw)
                self.written[file_name] = stack_path

    @contextlib.contextmanager
    def owned_by(self, name: str, *, checkov: bool = True) -> Iterator[_Owner]:
        """Templates built inside belong to ``name`` (and go to checkov unless told not to)."""
        owner = _Owner(name, checkov=checkov)
        self._owners.append(owner)
        try:
            yield owner
        finally:
            self._owners = [o for o in self._owners if o is not owner]

    @contextlib.contextmanager
    def expect_findings(self) -> Iterator[list[str]]:
        """For tests that plant a defect: the findings of templates built inside are put in the
        list (``<stack>: <finding>``) instead of failing the test; checkov skips them."""
        found: list[str] = []
        with self.owned_by("<expected>", checkov=False) as owner:
            yield found
        found += [f"{b.stack}: {f}" for b in owner.built for f in b.findings]

    def problems(self, owner: _Owner) -> list[str]:
        """Unexplained findings of ``owner``'s templates, and its exemptions that explained none."""
        exemptions = [e for e in self.exemptions if e.owner == owner.name]
        used: set[Exemption] = set()
        unexplained = []
        for stack, finding in sorted({(b.stack, f) for b in owner.built for f in b.findings}):
            matched = {e for e in exemptions if e.finding in finding}
            used |= matched
            if not matched:
                unexplained.append(f"{stack}: {finding}")
        unused = [
            f"exemption explained nothing (remove it): {e.finding!r}"
            for e in exemptions
            if e not in used
        ]
        return unexplained + unused

    def check(self, owner: _Owner) -> None:
        problems = self.problems(owner)
        if problems:
            msg = (
                f"the templates {owner.name} built break what AWS accepts "
                "(fix it, or add a narrow Exemption with a reason to "
                f"{_DEFAULT_EXEMPTIONS}):\n  " + "\n  ".join(problems)
            )
            raise TemplateAuditError(msg)

    # checkov ---------------------------------------------------------------------------------

    def run_checkov(self) -> dict[str, Any]:
        """One checkov process over the templates this process wrote; JSON-able for xdist."""
        if self.folder is None or not self.written:
            return {"templates": 0, "seconds": 0.0, "cpu_seconds": 0.0, "failed": []}
        start, cpu = time.perf_counter(), _children_cpu()
        report = scan([self.folder / name for name in sorted(self.written)])
        failed = [
            {
                "file": r.file,
                "check_id": r.check_id,
                "resource": r.resource,
                "name": r.name,
                "stack": self.written.get(r.file, r.file),
            }
            for r in report.failed
        ]
        reasonless = [str(r) for r in report.skipped if len((r.comment or "").strip()) < 20]
        return {
            "templates": len(self.written),
            "seconds": time.perf_counter() - start,
            "cpu_seconds": _children_cpu() - cpu,
            "failed": failed,
            "reasonless": reasonless,
            "version": report.version,
        }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _assemblies(outdir: Path) -> Iterator[Path]:
    """A cloud assembly's folder and those of its nested assemblies (stages)."""
    yield outdir
    manifest = json.loads((outdir / "manifest.json").read_bytes())
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") == "cdk:cloud-assembly":
            yield from _assemblies(outdir / artifact["properties"]["directoryName"])


def _assembly_stacks(outdir: Path) -> dict[str, tuple[str, str]]:
    """Template file -> (stack name, construct path) of every stack in a cloud assembly."""
    manifest = json.loads((outdir / "manifest.json").read_bytes())
    return {
        artifact["properties"]["templateFile"]: (
            artifact["properties"].get("stackName", artifact_id),
            artifact.get("displayName", artifact_id),
        )
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def checkov_problems(
    results: Sequence[Mapping[str, Any]],
    exemptions: Sequence[CheckovExemption],
    *,
    whole_suite: bool,
) -> list[str]:
    """checkov failures no exemption explains, and (on a whole-suite run) each check of an
    exemption that explained nothing."""
    used: set[tuple[CheckovExemption, str]] = set()
    problems = []
    for result in results:
        matched = [e for e in exemptions if e.explains(result)]
        used |= {(e, result["check_id"]) for e in matched}
        if not matched:
            owners = ", ".join(result["owners"][:3]) + (" …" if len(result["owners"]) > 3 else "")
            problems.append(
                f"{result['stack']} {result['resource']}: {result['check_id']} {result['name']}"
                f" (built by {owners})"
            )
    if whole_suite:
        problems += [
            f"exemption explained nothing (remove it): {check_id} {e.resource!r} {e.owner}"
            for e in exemptions
            for check_id in e.check_ids
            if (e, check_id) not in used
        ]
    return problems


# The plugin ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("template audit")
    group.addoption(
        "--template-audit-exemptions",
        default=_DEFAULT_EXEMPTIONS,
        help="module with EXEMPTIONS and CHECKOV_EXEMPTIONS (default: %(default)s)",
    )
    group.addoption(
        "--template-audit-checkov",
        choices=("on", "off"),
        default="on",
        help="run checkov over the templates the tests build (default: %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    module = importlib.import_module(config.getoption("template_audit_exemptions"))
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    folder: Path | None = None
    if config.getoption("template_audit_checkov") == "on":
        if workerinput is None:
            folder = Path(tempfile.mkdtemp(prefix="template-audit-"))
        elif workerinput.get("template_audit_folder"):
            folder = Path(workerinput["template_audit_folder"])
    audit = TemplateAudit(module.EXEMPTIONS, module.CHECKOV_EXEMPTIONS, folder)
    config.stash[_STATE] = audit
    original = inspect.getattr_static(assertions.Template, "from_stack")
    build = assertions.Template.from_stack  # bound, whatever kind of descriptor jsii made

    def from_stack(stack: cdk.Stack, **kwargs: Any) -> assertions.Template:
        template = build(stack, **kwargs)
        audit.record(stack)
        return template

    assertions.Template.from_stack = staticmethod(from_stack)  # type: ignore[method-assign]
    config.add_cleanup(lambda: setattr(assertions.Template, "from_stack", original))
    if workerinput is None and folder is not None:
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    config.stash[_WORKERS] = []


_WORKERS = pytest.StashKey[list[dict[str, Any]]]()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker writes checkov's templates into the controller's folder."""
    folder = node.config.stash[_STATE].folder
    node.workerinput["template_audit_folder"] = str(folder) if folder else ""


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    output = getattr(node, "workeroutput", {}).get("template_audit")
    if output is not None:
        node.config.stash[_WORKERS].append(output)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: pytest.FixtureRequest) -> Generator[Any]:
    audit = request.config.stash[_STATE]
    with audit.owned_by(f"{fixturedef.baseid}::{fixturedef.argname}") as owner:
        result = yield
    try:
        audit.check(owner)
    except TemplateAuditError as failure:
        # Every test that uses the fixture errors, not only the first.
        fixturedef.cached_result = (None, fixturedef.cache_key(request), (failure, None))
        raise
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    audit = item.config.stash[_STATE]
    with audit.owned_by(item.nodeid) as owner:
        yield
    audit.check(owner)


@pytest.fixture
def template_audit(request: pytest.FixtureRequest) -> TemplateAudit:
    """The audit, for tests that plant a defect (:meth:`TemplateAudit.expect_findings`)."""
    return request.config.stash[_STATE]


def _test_files(session: pytest.Session) -> list[str]:
    return sorted({item.nodeid.split("::")[0] for item in session.items})


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    audit = config.stash[_STATE]
    local = {
        **audit.run_checkov(),
        "built_by": {name: sorted(owners) for name, owners in audit.built_by.items()},
        "built": audit.templates_built,
        "unowned": audit.unowned,
        "audit_seconds": audit.seconds,
        "test_files": _test_files(session),
    }
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["template_audit"] = local
        return
    outputs = config.stash[_WORKERS] or [local]
    _report(session, outputs)


def _report(session: pytest.Session, outputs: list[dict[str, Any]]) -> None:
    config = session.config
    audit = config.stash[_STATE]
    files = {f for output in outputs for f in output["test_files"]}
    every_file = {str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("test_*.py")}
    whole_suite = config.rootpath == ROOT and every_file <= files
    built_by: dict[str, set[str]] = {}
    for output in outputs:
        for name, owners in output["built_by"].items():
            built_by.setdefault(name, set()).update(owners)
    failed = [
        {**result, "owners": sorted(built_by.get(result["file"], ()))}
        for output in outputs
        for result in output["failed"]
    ]
    problems = checkov_problems(failed, audit.checkov_exemptions, whole_suite=whole_suite)
    problems += [
        f"suppression without a real reason: {r}" for o in outputs for r in o.get("reasonless", ())
    ]
    unexplained = sum(1 for p in problems if "(built by" in p)
    summary = (
        f"template audit: {sum(o['built'] for o in outputs)} templates built by tests "
        f"({len(built_by)} distinct), requests/IAM/limits checked in "
        f"{sum(o['audit_seconds'] for o in outputs):.1f} s; checkov over "
        f"{sum(o['templates'] for o in outputs)} in {len(outputs)} process(es): "
        f"{max((o['seconds'] for o in outputs), default=0):.1f} s wall (longest), "
        f"{sum(o['cpu_seconds'] for o in outputs):.1f} s CPU; {len(failed)} checkov failures, "
        f"{len(failed) - unexplained} exempted, {unexplained} unexplained"
        + ("; unused exemptions checked (whole suite)" if whole_suite else "")
    )
    unowned = sum(o["unowned"] for o in outputs)
    if unowned:
        summary += f"; {unowned} built outside any test or fixture (not audited)"
    config.stash[_SUMMARY] = summary
    if not problems:
        return
    text = "checkov finds what nothing explains in templates the tests build:\n  " + "\n  ".join(
        problems
    )
    report = pytest.TestReport(
        nodeid=_CHECKOV_NODE,
        location=("tests/helpers/template_audit.py", 0, "checkov"),
        keywords={},
        outcome="failed",
        longrepr=text,
        when="call",
    )
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.stats.setdefault("failed", []).append(report)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


_SUMMARY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(_SUMMARY, None)
    if summary is not None:
        terminalreporter.write_line(summary)
