"""Write the results of the last test run's reliability tests into RELIABILITY.md.

The tests marked ``@pytest.mark.reliability(area, what)`` record their outcome, time and
measured details in ``.reliability-results.json`` (tests/conftest.py); this renders them as
the table between the markers in RELIABILITY.md. ``scripts/test.sh`` runs it after pytest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / ".reliability-results.json"
REPORT = REPO / "RELIABILITY.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
AREAS = ("load", "fault", "recovery", "input")


def table(results: list[dict]) -> str:
    rows = sorted(results, key=lambda r: (AREAS.index(r["area"]) if r["area"] in AREAS else 9,
                                          r["what"]))  # fmt: skip
    lines = ["| area | what was tried | result | measured | test (seconds) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        result = "held" if r["outcome"] == "passed" else f"**{r['outcome'].upper()}**"
        test = r["test"].split("::", 1)[-1].split("[")[0]
        lines.append(f"| {r['area']} | {r['what']} | {result} | {r['measured'] or '—'} | "
                     f"`{test}` ({r['seconds']:.0f}) |")  # fmt: skip
    held = sum(r["outcome"] == "passed" for r in results)
    lines += ["", f"{held} of {len(results)} held."]
    return "\n".join(lines)


def main() -> int:
    if not RESULTS.exists():
        print("no reliability tests ran in this test run; RELIABILITY.md is unchanged")
        return 0
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    rendered = table(results)
    text = REPORT.read_text(encoding="utf-8")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    REPORT.write_text(f"{before}{START}\n{rendered}\n{END}{after}", encoding="utf-8")
    print(rendered)
    return 0 if all(r["outcome"] == "passed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
