"""Fail when an installed package's licence is not one known to be compatible with the AGPL.

Reads installed metadata through pip-licenses (JSON). A package passes when one of
its alternatives ("A OR B", or several licence classifiers) is compatible and every
part of a combination ("A AND B") is. An unknown licence fails: a person reviews it,
then adds it here or to REVIEWED with the reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

#: Licences (SPDX ids and the classifier names metadata uses) that AGPL-3.0 code may use.
COMPATIBLE = frozenset(
    {
        "0BSD",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-2.0",
        "Apache License 2.0",
        "Apache Software License",
        "BSD",
        "BSD License",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "CC0-1.0",
        "GNU General Public License v2 or later (GPLv2+)",
        "GNU General Public License v3 (GPLv3)",
        "GNU General Public License v3 or later (GPLv3+)",
        "GNU Lesser General Public License v3 (LGPLv3)",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "HPND",
        "ISC",
        "ISC License (ISCL)",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "MIT",
        "MIT License",
        "MIT-0",
        "Mozilla Public License 2.0 (MPL 2.0)",
        "MPL-2.0",
        "PSF-2.0",
        "Python Software Foundation License",
        "The Unlicense (Unlicense)",
        "Unlicense",
        "Zlib",
        # Zope Public License 2.1: the FSF lists it as free and GPL-compatible (gevent's deps).
        "ZPL-2.1",
    }
)
#: Packages whose metadata names no licence, checked by hand: name -> what and where.
REVIEWED = {
    "axe-playwright-python": "MIT (its LICENSE file; the metadata has no licence field)",
    "fhirpathpy": "MIT (its licenses/LICENSE.md; the metadata has no licence field)",
}
THIS_PROJECT = "ketamine-intake"


def compatible(licence: str) -> bool:
    """Return whether a licence expression or classifier list is AGPL-compatible."""
    alternatives = re.split(r";\s*|\s+OR\s+", licence.strip())
    return any(
        all(_known(part) for part in re.split(r"\s+AND\s+", choice))
        for choice in alternatives
        if choice.strip()
    )


def _known(part: str) -> bool:
    # An SPDX expression may wrap its parts in parentheses: "(MIT OR Apache-2.0)".
    return part.strip() in COMPATIBLE or part.strip().strip("()").strip() in COMPATIBLE


def main() -> int:
    pip_licenses = Path(sys.executable).with_name("pip-licenses")
    output = subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [str(pip_licenses), "--from=mixed", "--format=json", "--with-system"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    refused = []
    for package in json.loads(output):
        name, licence = package["Name"], package["License"]
        if name == THIS_PROJECT or name in REVIEWED or compatible(licence):
            continue
        refused.append(f"  {name} {package['Version']}: {licence}")
    if refused:
        print("licences: these packages' licences are not known to be AGPL-compatible:")
        print("\n".join(refused))
        print("Review each; add a compatible licence to COMPATIBLE or the package to REVIEWED.")
        return 1
    print("licences: every installed package has an AGPL-compatible licence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
