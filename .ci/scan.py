"""Security scanners: bandit, wapiti and sqlmap against the running app. Exit 1 on any finding.

Usage (from the project root, with the project venv)::

    .venv/bin/python .ci/scan.py            # everything, about 10-15 minutes
    .venv/bin/python .ci/scan.py --quick    # shorter time limits, about 6-8 minutes
    .venv/bin/python .ci/scan.py --only bandit,sqlmap

1. bandit over questionnaire/ (from the project venv): no finding of medium or high severity.
2. wapiti3 and sqlmap live in their own virtualenv (wapiti clashes with our SQLAlchemy):
   WAPITI_VENV, default ~/.cache/intake-scan/wapiti-venv, created and filled from PyPI
   when missing.
3. The app runs under gunicorn (questionnaire/gunicorn_conf.py) on 127.0.0.1 and a free
   port, on a fresh PostgreSQL schema in SCAN_DATABASE_URL (default TEST_DATABASE_URL,
   else the local test database), migrated with `flask db upgrade` and dropped at the end.
   A few simulated patients send intakes first, so the clinician pages have content.
   Rate limits stay on (production refuses them off) but are set very high: every scanner
   request comes from one address, and a 429 would hide what the scanners look for.
4. wapiti scans twice, anonymously from / and signed in as a clinician from /clinic/
   (password + TOTP through the real sign-in pages; sign-out excluded). Any vulnerability
   or anomaly in its JSON report is a failure.
5. sqlmap tests the start form and two question pages (--forms --csrf-token=csrf_token,
   with a patient's session cookie), and the queue's filter and search parameters with a
   clinician's cookie: anything injectable is a failure, and so is a run that does not
   finish.

Every process started here is stopped (its process group), whatever happens. The scanned
database holds only made-up answers; reports are kept under the scan cache directory.

The served app, the patients and the form reading are tests/harness, the same the fault
tests and bench/load.py use.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

# Run as a script: the project root on the path, for tests.harness.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from tests.harness.clinician import cookie_header, create_clinician, sign_in  # noqa: E402
from tests.harness.patient import Browser, Patient, usable_cases  # noqa: E402
from tests.harness.served import Gunicorn, postgres_url, served_app, stop_group  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "intake-scan"
SCAN_VENV = Path(os.environ.get("WAPITI_VENV", CACHE / "wapiti-venv"))
#: The versions these checks were written against; the venv is filled with them.
SCANNER_REQUIREMENTS = ["wapiti3==3.2.3", "sqlmap==1.10.10"]
WAPITI_MODULES = "sql,xss,permanentxss,redirect,csrf,http_headers,csp,cookieflags,methods,backup"
QUEUE_QUERY = "/clinic/?status=new&level=urgent&rule=heart_condition&q=ABCD-2345"
B = TypeVar("B", bound=Browser)
#: How requests verifies the server (the throwaway certificate's path once it is made).
VERIFY: list[str | bool] = [True]
#: A new password for the throwaway scan accounts on every run.
SCAN_PASSWORD = secrets.token_urlsafe(24)


def say(message: str) -> None:
    print(f"scan: {message}", flush=True)


def run_bounded(
    command: list[str], timeout: float, log: Path, env: dict[str, str] | None = None
) -> tuple[int | None, str]:
    """Run a command in its own process group, output to log; kill the group on timeout.

    Returns (exit status or None when it was stopped at the time limit, its output).
    """
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (fixed scanner commands)
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=log.parent,
        )
        try:
            status: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            stop_group(process)
    return status, log.read_text(errors="replace")


# --- bandit -------------------------------------------------------------------------------


def scan_bandit() -> list[str]:
    say("bandit over questionnaire/ (medium and high severity)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bandit",
            "-r",
            "questionnaire",
            "--severity-level",
            "medium",
            "-f",
            "json",
            "-q",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"bandit did not run ({result.returncode}): {result.stderr.strip()[:500]}"]
    findings = [
        f"bandit {issue['test_id']} {issue['issue_severity']}/{issue['issue_confidence']} "
        f"{issue['filename']}:{issue['line_number']}: {issue['issue_text']}"
        for issue in report.get("results", [])
    ]
    totals = report.get("metrics", {}).get("_totals", {})
    say(
        f"bandit: {len(findings)} medium/high; low severity (not failing): "
        f"{totals.get('SEVERITY.LOW', 0)}"
    )
    return findings


# --- the scanner venv ---------------------------------------------------------------------


def scanner_venv() -> Path:
    """Return the scanner venv's bin/, creating it and installing the scanners if missing."""
    bin_dir = SCAN_VENV / "bin"
    if (bin_dir / "wapiti").exists() and (bin_dir / "sqlmap").exists():
        return bin_dir
    say(f"creating the scanner venv {SCAN_VENV} ({', '.join(SCANNER_REQUIREMENTS)})")
    SCAN_VENV.parent.mkdir(parents=True, exist_ok=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(SCAN_VENV)], check=True, timeout=120)  # noqa: S603
    subprocess.run(  # noqa: S603 (pip from the scanner venv, fixed arguments)
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *SCANNER_REQUIREMENTS],
        check=True,
        timeout=900,
    )
    return bin_dir


# --- sessions -----------------------------------------------------------------------------


def browser(base: str, kind: type[B]) -> B:
    """Return a browser (or a patient) on the served app that sends a same-site Referer."""
    opened = kind(base, verify=VERIFY[0], timeout=10)
    assert opened.http is not None
    # Flask-WTF checks that an HTTPS POST has a same-site Referer (WTF_CSRF_SSL_STRICT).
    opened.http.headers["Referer"] = base + "/"
    return opened


def clinician_cookie(base: str, email: str, secret: str) -> str:
    """Sign in through the real pages; return the Cookie header."""
    clinician = browser(base, Browser)
    try:
        sign_in(clinician, secret, email, SCAN_PASSWORD)
        return cookie_header(clinician)
    finally:
        clinician.close()


def patient_cookie(base: str) -> str:
    """Start an intake (privacy ticked) and return the patient's Cookie header."""
    patient = browser(base, Patient)
    try:
        started = patient.start()
        if started.status_code != 303:
            raise RuntimeError(f"starting an intake answered {started.status_code}")
        return cookie_header(patient)
    finally:
        patient.close()


def seed_submissions(base: str, verify: str | bool, count: int = 4) -> None:
    """Send a few intakes (made-up answers) so the clinician pages show something."""
    import random
    from datetime import date

    cases, _ = usable_cases(date.today())
    chooser = random.Random(7)  # noqa: S311 (picks test answers)
    for _number in range(count):
        case = chooser.choice(cases)
        patient = Patient(base, verify=verify, timeout=30)
        try:
            patient.journey(case.answers)
        finally:
            patient.close()


# --- wapiti -------------------------------------------------------------------------------


def scan_wapiti(
    bin_dir: Path,
    start_url: str,
    name: str,
    seconds: float,
    workdir: Path,
    cookie: str = "",
    also: tuple[str, ...] = (),
) -> list[str]:
    report = workdir / f"wapiti-{name}.json"
    base = f"{urlparse(start_url).scheme}://{urlparse(start_url).netloc}"
    command = [
        str(bin_dir / "wapiti"),
        "-u", start_url,
        "--scope", "folder",
        "-m", WAPITI_MODULES,
        "--endpoint", "http://127.0.0.1:9/",
        "--dns-endpoint", "localhost",
        "--flush-session",
        "--store-session", str(workdir / f"wapiti-{name}-session"),
        "--store-config", str(workdir / "wapiti-config"),
        "--max-scan-time", str(seconds),
        "--max-attack-time", str(max(10, seconds / 4)),
        "--timeout", "10",
        "--no-bugreport",
        "-x", base + "/clinic/sign-out",
        # Attacking these trips the per-address sign-in throttle as designed (wrong current
        # passwords count as failures) and ends the session, which locks the later scans out.
        "-x", base + "/clinic/sign-out/everywhere",
        "-x", base + "/clinic/account/password",
        "-H", f"Referer: {base}/",
        "-v", "1",
        "-f", "json",
        "-o", str(report),
    ]  # fmt: skip
    if cookie:
        command += ["-C", cookie]
    for url in also:
        command += ["-s", url]
    say(f"wapiti {name}: {start_url} for at most {seconds:.0f} s")
    started = time.monotonic()
    status, _output = run_bounded(command, seconds + 180, workdir / f"wapiti-{name}.log")
    say(f"wapiti {name}: finished in {time.monotonic() - started:.0f} s (exit {status})")
    if status is None:
        return [f"wapiti {name}: did not finish within {seconds + 180:.0f} s"]
    if not report.exists():
        return [f"wapiti {name}: no report (exit {status}); see {workdir / f'wapiti-{name}.log'}"]
    data = json.loads(report.read_text())
    findings = []
    for section in ("vulnerabilities", "anomalies"):
        for category, entries in (data.get(section) or {}).items():
            for entry in entries:
                where = f"{entry.get('method', '')} {entry.get('path', '')}".strip()
                parameter = entry.get("parameter") or ""
                findings.append(
                    f"wapiti {name} [{entry.get('module') or category}] {where}"
                    f"{' param=' + parameter if parameter else ''}: {entry.get('info', '')}"
                )
    crawled = (data.get("infos") or {}).get("crawled_pages_nbr", "?")
    say(f"wapiti {name}: {crawled} pages crawled, {len(findings)} finding(s)")
    for category, entries in (data.get("additionals") or {}).items():
        for entry in entries:
            say(f"wapiti {name} (note, not failing) [{category}] {entry.get('info', '')}")
    return findings


# --- sqlmap -------------------------------------------------------------------------------

INJECTABLE = re.compile(r"identified the following injection point|is vulnerable\b")
HEURISTIC = re.compile(r"(\w+ parameter '[^']+') (?:might be|appears to be '[^']*') injectable")
CLEAN = "all tested parameters do not appear to be injectable"


def scan_sqlmap(
    bin_dir: Path, name: str, url: str, cookie: str, seconds: float, workdir: Path, forms: bool
) -> list[str]:
    command = [
        str(bin_dir / "sqlmap"),
        "-u", url,
        "--cookie", cookie,
        "--batch",
        "--level=2",
        "--risk=1",
        "--flush-session",
        "--disable-coloring",
        "--timeout=15",
        "--retries=1",
        "--output-dir", str(workdir / "sqlmap"),
        f"--referer={url.split('/', 3)[0]}//{urlparse(url).netloc}/",
    ]  # fmt: skip
    if forms:
        # The token comes from the page itself (a form's action may be POST-only); blank
        # fields stay blank, so the honeypot field does not silence the form.
        command += [
            "--forms",
            "--csrf-token=csrf_token",
            f"--csrf-url={url}",
            "--answers=fill blank=N",
        ]  # sqlmap refuses --threads with --csrf-token
    else:
        command += ["--threads=4"]
    say(f"sqlmap {name}: for at most {seconds:.0f} s")
    started = time.monotonic()
    env = {**os.environ, "TERM": "dumb"}
    status, output = run_bounded(command, seconds, workdir / f"sqlmap-{name}.log", env)
    say(f"sqlmap {name}: finished in {time.monotonic() - started:.0f} s (exit {status})")
    findings = []
    if INJECTABLE.search(output):
        findings.append(f"sqlmap {name}: sqlmap reports an injection point (see its log)")
    for match in sorted(set(HEURISTIC.findall(output))):
        say(f"sqlmap {name} (note: heuristic, then tested) {match}")
    if status is None:
        findings.append(f"sqlmap {name}: did not finish within {seconds:.0f} s (inconclusive)")
    elif CLEAN not in output and not findings:
        findings.append(
            f"sqlmap {name}: no verdict (exit {status}); see {workdir / f'sqlmap-{name}.log'}"
        )
    else:
        tested = output.count(CLEAN)
        say(f"sqlmap {name}: {tested} form(s)/target(s) tested, not injectable")
    return findings


# --- main ---------------------------------------------------------------------------------


@contextlib.contextmanager
def scanned_app() -> Iterator[Gunicorn]:
    postgres = postgres_url("SCAN_DATABASE_URL")
    app_env = os.environ.get("SCAN_APP_ENV", "production")
    # Production settings need HTTPS (Secure cookies): gunicorn serves TLS with a throwaway
    # self-signed certificate that every client here verifies.
    # Production refuses RATELIMIT_ENABLED=false: limits stay on, in Redis, set high enough
    # that one scanner address is not stopped by them.
    limits = {
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379"),
        "RATELIMIT_KEY_PREFIX": f"scan-{os.getpid()}",
        "RATELIMIT_START": "100000 per hour",
        "RATELIMIT_SUBMIT": "100000 per hour",
        "RATELIMIT_SIGN_IN": "100000 per hour",
    }
    with served_app(
        "postgres", postgres=postgres, workers=3, tls=True, APP_ENV=app_env, **limits
    ) as app:
        yield app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter scans (CI on a branch)")
    parser.add_argument(
        "--only", default="bandit,wapiti,sqlmap", help="comma-separated: bandit,wapiti,sqlmap"
    )
    args = parser.parse_args(argv)
    wanted = {part.strip() for part in args.only.split(",") if part.strip()}
    wapiti_seconds = 90.0 if args.quick else 240.0
    sqlmap_seconds = 180.0 if args.quick else 420.0
    started = time.monotonic()
    findings: list[str] = []

    if "bandit" in wanted:
        findings += scan_bandit()

    if wanted & {"wapiti", "sqlmap"}:
        bin_dir = scanner_venv()
        workdir = CACHE / "reports" / time.strftime("%Y%m%d-%H%M%S")
        workdir.mkdir(parents=True, exist_ok=True)
        say(f"reports and logs in {workdir}")
        with scanned_app() as served:
            base = served.base_url
            say(f"app under gunicorn at {base} ({served.database}); rate limits on, set high")
            VERIFY[0] = served.verify
            seed_submissions(base, served.verify)
            accounts = {
                purpose: f"scan-{purpose}@clinic.example" for purpose in ("wapiti", "sqlmap")
            }
            totp = {
                purpose: create_clinician(served, email, SCAN_PASSWORD, name="Scan Clinician")
                for purpose, email in accounts.items()
            }
            if "wapiti" in wanted:
                # A patient has no account: a session with a started intake opens the pages.
                from questionnaire.questions.catalogue import PAGES

                pages = tuple(f"{base}/questions/{section.id}" for section in PAGES)
                findings += scan_wapiti(
                    bin_dir,
                    base + "/",
                    "anonymous",
                    wapiti_seconds,
                    workdir,
                    patient_cookie(base),
                    (*pages, base + "/check", base + "/privacy"),
                )
                cookie = clinician_cookie(base, accounts["wapiti"], totp["wapiti"])
                findings += scan_wapiti(
                    bin_dir, base + "/clinic/", "clinician", wapiti_seconds, workdir, cookie
                )
            if "sqlmap" in wanted:
                first, medicines = "/questions/about_you", "/questions/medicines"
                for name, path in (("start", "/"), ("about_you", first), ("medicines", medicines)):
                    findings += scan_sqlmap(
                        bin_dir,
                        name,
                        base + path,
                        patient_cookie(base),
                        sqlmap_seconds,
                        workdir,
                        forms=True,
                    )
                cookie = clinician_cookie(base, accounts["sqlmap"], totp["sqlmap"])
                findings += scan_sqlmap(
                    bin_dir, "queue", base + QUEUE_QUERY, cookie, sqlmap_seconds, workdir, False
                )
            say(f"server log: {served.log_summary()}")

    say(f"done in {time.monotonic() - started:.0f} s")
    if findings:
        say(f"FAILED: {len(findings)} finding(s)")
        for finding in findings:
            print(f"  {finding}")
        return 1
    say("OK: no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
