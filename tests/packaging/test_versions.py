"""The version agrees everywhere a user reads it: the package, the newest CHANGELOG release, and
the install lines of the consumer example and the library guide."""

from __future__ import annotations

import re

from mlops_cdk import __version__
from tests.helpers.paths import ROOT


def test_the_package_version_is_the_newest_changelog_release() -> None:
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$",
        (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"),
        flags=re.M,
    )
    assert releases, "CHANGELOG.md lists no release"
    assert releases[0] == __version__


def test_install_instructions_pin_this_version() -> None:
    for page in ("examples/consumer_app/README.md", "docs/using-the-library.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        pinned = set(re.findall(r"@v(\d+\.\d+\.\d+)|mlops_cdk-(\d+\.\d+\.\d+)-py3", text))
        versions = {v for pair in pinned for v in pair if v}
        assert versions == {__version__}, f"{page} pins {sorted(versions)}"
