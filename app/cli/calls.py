"""``calmline calls …``: the stored calls from the command line (list, show, export,
recover, the outbox), and ``--save`` for ``calmline analyze``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audio.recording import CallAudioWriter

from app.calls.records import CallRecord
from app.settings import Settings, data_dir, load_settings
from app.store import CallRecorder, CallStore, CallSummary


class CallsUsageError(Exception):
    """Bad input to a calls command; exit 2."""


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="where calls are kept: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
        "(default: settings.toml's store, else a SQLite file in the user data folder)",
    )


def add_call_details_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent-name", help="who took the call (default: settings.toml)")
    parser.add_argument("--client-name", default="", help="the client's name")
    parser.add_argument("--client-contact", default="", help="the client's e-mail (or phone)")
    parser.add_argument("--ticket", default="", help="the helpdesk ticket id, if there is one")
    parser.add_argument("--subject", default="", help="what the call is about, one line")


def open_store(args: argparse.Namespace, settings: Settings | None = None) -> CallStore:
    settings = settings or load_settings()
    return CallStore.open(getattr(args, "store", None) or settings.store or None)


def call_details(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The call's details from the command line (``CallSetup.call_info`` takes them)."""
    return {
        "agent": args.agent_name or settings.agent_name,
        "client_name": args.client_name,
        "client_contact": args.client_contact,
        "ticket_id": args.ticket,
        "subject": args.subject,
    }


def parse_since(text: str, option: str = "--since") -> datetime:
    """``2025-03-04``, an ISO time, or a relative ``7d`` / ``12h``."""
    text = text.strip()
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        amount = int(text[:-1])
        delta = timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount)
        return datetime.now(UTC) - delta
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CallsUsageError(
            f"{option} {text!r}: give a date (2025-03-04), a time (2025-03-04T14:00) or 7d / 12h"
        ) from exc
    return moment if moment.tzinfo else moment.astimezone(UTC)


def _mood_word(value: float | None) -> str:
    from app.calls.exports import mood_word

    return "—" if value is None else mood_word(value)


def _summary_json(summary: CallSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "uid": summary.uid,
        "started_at": summary.started_at.isoformat(),
        "duration_s": round(summary.duration_s, 1),
        "status": summary.status,
        "agent": summary.agent,
        "client": summary.client_name,
        "ticket_id": summary.ticket_id,
        "worst_mood": None if summary.worst_mood is None else round(summary.worst_mood, 3),
        "flags": list(summary.flags),
        "segments": summary.segments,
    }


def cmd_calls_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        since = parse_since(args.since) if args.since else None
        calls = store.list_calls(flagged=args.flagged, since=since, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps([_summary_json(c) for c in calls], indent=2, ensure_ascii=False))
        return 0
    if not calls:
        print("no calls stored yet" if not (args.flagged or args.since) else "no calls match")
        return 0
    print(f"{'id':>5}  {'started':16}  {'length':>6}  {'client':18} {'ticket':8} "
          f"{'worst mood':11} flags")  # fmt: skip
    for c in calls:
        minutes, seconds = divmod(round(c.duration_s), 60)
        status = "" if c.status == "ended" else f"  ({c.status})"
        print(
            f"{c.id:>5}  {c.started_at.astimezone():%Y-%m-%d %H:%M}  {minutes:>3}:{seconds:02d}"
            f"  {(c.client_name or '—')[:18]:18} {(c.ticket_id or '—')[:8]:8} "
            f"{_mood_word(c.worst_mood):11} {', '.join(sorted(set(c.flags))) or '—'}{status}"
        )
    return 0


def _get(store: CallStore, ident: str) -> CallRecord:
    record = store.get(int(ident) if ident.isdigit() else ident)
    if record is None:
        raise CallsUsageError(f"no call {ident!r} in {store.where}; see 'calmline calls list'")
    return record


def cmd_calls_show(args: argparse.Namespace) -> int:
    from app.calls.exports import call_json, ticket_markdown

    store = open_store(args)
    try:
        record = _get(store, args.call)
    finally:
        store.close()
    if args.json:
        print(call_json(record))
    else:
        print(ticket_markdown(record, include_transcript=True), end="")
    return 0


def cmd_calls_recover(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        interrupted = store.interrupted_calls()
        if not interrupted:
            print("no interrupted calls: every call was closed properly")
            return 0
        for summary in interrupted:
            if args.call and str(summary.id) != args.call and summary.uid != args.call:
                continue
            record = store.recover(summary.id)
            started = record.info.started_at.astimezone()
            notes = "kept" if record.notes else "empty"
            print(
                f"recovered call {record.id} of {started:%Y-%m-%d %H:%M}: "
                f"{len(record.segments)} lines, notes {notes} — "
                f"see 'calmline calls show {record.id}'"
            )
    finally:
        store.close()
    return 0


def cmd_calls_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.delivery.outbox import Delivery, DeliveryError

    settings = load_settings()
    store = open_store(args, settings)
    try:
        record = _get(store, args.call)
        assert record.id is not None
        delivery = Delivery(store, settings)
        try:
            outcome = delivery.export(
                record.id,
                args.to,
                out=Path(args.out) if args.out else None,
                include_transcript=args.transcript,
                queue=args.queue,
                ticket_id=args.ticket,
                url=args.url,
            )
        except DeliveryError as exc:
            raise CallsUsageError(str(exc)) from exc
    finally:
        store.close()
    stream = sys.stdout if outcome.status == "done" else sys.stderr
    print(f"{args.to}: {outcome.message}", file=stream)
    if outcome.status == "pending":
        print("it will be retried: 'calmline calls outbox --retry' (the window retries by itself)",
              file=sys.stderr)  # fmt: skip
    if outcome.status == "auth":
        print("store credentials with 'calmline rt-login', then 'calmline calls outbox --retry'",
              file=sys.stderr)  # fmt: skip
    return {"done": 0, "pending": 3, "auth": 3}.get(outcome.status, 2)


def cmd_calls_outbox(args: argparse.Namespace) -> int:
    from app.delivery.outbox import Delivery

    settings = load_settings()
    store = open_store(args, settings)
    try:
        delivery = Delivery(store, settings)
        if args.retry:
            for outcome in delivery.retry_due(force=True):
                print(f"{outcome.target}: {outcome.message}")
        waiting = delivery.outbox()
    finally:
        store.close()
    if not waiting:
        print("the outbox is empty: every export was delivered")
        return 0
    for item in waiting:
        due = f", next try {item.next_attempt_at:%H:%M:%S}" if item.next_attempt_at else ""
        print(f"export {item.id}: call {item.call_id} → {item.target} ({item.status}, "
              f"{item.attempts} attempts{due}): {item.last_error}")  # fmt: skip
    return 3


def cmd_rt_login(args: argparse.Namespace) -> int:
    import getpass

    from app.delivery import CredentialsError, RTClient, rt_credentials, store_rt_credentials

    settings = load_settings()
    url = args.url or settings.rt.url
    user = args.user or settings.rt.user
    if not url:
        raise CallsUsageError("give --url (RT's web address, e.g. https://rt.example.com/rt)")
    kind = "token" if args.token else "password"
    secret = getpass.getpass(f"RT {kind} for {user or 'token'} at {url}: ")
    try:
        store_rt_credentials(url, user, secret, kind)
        credentials = rt_credentials(url, user, environ={})  # the stored ones, not the env's
    except CredentialsError as exc:
        raise CallsUsageError(str(exc)) from exc
    with RTClient(url, credentials) as client:
        print(f"stored in the system keyring; RT {client.check()} accepts them")
    return 0


def keep_call_audio(recorder: CallRecorder, settings: Settings) -> CallAudioWriter:
    """The call's audio is kept (settings: [audio] keep = true) until its retention ends."""
    from audio.recording import CallAudioWriter

    folder = data_dir() / "audio" / recorder.info.uid
    expires = recorder.info.started_at + timedelta(days=settings.audio.retention_days)
    recorder.keep_audio(str(folder), expires)
    return CallAudioWriter(folder)


def cmd_calls_purge_audio(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        purged = store.purge_expired_audio()
    finally:
        store.close()
    print(f"deleted the kept audio of {len(purged)} call(s) past their retention period")
    return 0


def cmd_calls_queue(args: argparse.Namespace) -> int:
    from app.store.review import flagged_queue, to_csv

    store = open_store(args)
    try:
        queue = flagged_queue(store, include_reviewed=args.all)
    finally:
        store.close()
    if args.csv:
        print(to_csv(queue), end="")
        return 0
    if not queue:
        print("no flagged calls waiting for review")
        return 0
    for f in queue:
        review = f"  [{f.review_outcome}]" if f.review_outcome else ""
        print(f"{f.call_id:>5}  {f.started_at:%Y-%m-%d %H:%M}  {f.agent[:14]:14} "
              f"{', '.join(f.reasons)}: “{f.excerpt}”{review}")  # fmt: skip
    return 0


def cmd_calls_review(args: argparse.Namespace) -> int:
    from app.store.review import add_review

    store = open_store(args)
    try:
        record = _get(store, args.call)
        assert record.id is not None
        try:
            add_review(store, record.id, args.outcome, args.comment or "")
        except ValueError as exc:
            raise CallsUsageError(str(exc)) from exc
    finally:
        store.close()
    print(f"call {record.id} reviewed: {args.outcome}")
    return 0


def cmd_calls_stats(args: argparse.Namespace) -> int:
    from app.store.review import to_csv, weekly_stats

    store = open_store(args)
    try:
        since = parse_since(args.since) if args.since else None
        weeks = weekly_stats(store, since)
    finally:
        store.close()
    if args.csv:
        print(to_csv(weeks), end="")
        return 0
    print(f"{'agent':16} {'week of':10} {'calls':>5} {'flagged':>7} {'flags':>5} {'mood':>6} "
          f"{'talk share':>10} {'overtalk s':>10}")  # fmt: skip
    for w in weeks:
        mood = "—" if w.average_mood is None else f"{w.average_mood:+.2f}"
        share = "—" if w.talk.agent_share is None else f"{w.talk.agent_share:.0%}"
        print(f"{w.agent[:16]:16} {w.week:%Y-%m-%d} {w.calls:>5} {w.flagged_calls:>7} "
              f"{w.flags:>5} {mood:>6} {share:>10} {w.talk.agent_overtalk_s:>10.1f}")  # fmt: skip
    return 0


def cmd_calls_sync(args: argparse.Namespace) -> int:
    from app.store.sync import TeamSync

    settings = load_settings()
    team_url = args.team or settings.store
    if not team_url.startswith("postgresql"):
        raise CallsUsageError(
            "give the team database: --team postgresql://NAME:PASSWORD@HOST/calmline "
            "(or store = … in settings.toml)"
        )
    local = CallStore.open(args.store or None)
    sync = TeamSync(local, team_url)
    try:
        result = sync.sync_once()
    finally:
        sync.close()
        local.close()
    if result.error:
        print(f"calmline: {result.pushed} call(s) copied; {result.waiting} wait on this PC: "
              f"{result.error}", file=sys.stderr)  # fmt: skip
        return 3
    print(f"{result.pushed} call(s) copied to the team database")
    return 0


def cmd_calls_search(args: argparse.Namespace) -> int:
    from app.store.search import CallFilter, search_calls

    store = open_store(args)
    try:
        filters = CallFilter(
            since=parse_since(args.since) if args.since else None,
            until=parse_since(args.until, "--until") if args.until else None,
            flagged=args.flagged,
            worst_mood_below=args.mood_below,
        )
        hits = search_calls(store, args.query, filters, limit=args.limit)
    finally:
        store.close()
    if args.json:
        rows = [
            {"id": h.call_id, "started_at": h.started_at.isoformat(), "client": h.client_name,
             "ticket_id": h.ticket_id, "where": h.where, "snippet": h.snippet}
            for h in hits
        ]  # fmt: skip
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not hits:
        print("no calls match")
        return 0
    for h in hits:
        print(f"{h.call_id:>5}  {h.started_at.astimezone():%Y-%m-%d %H:%M}  "
              f"{(h.client_name or '—')[:18]:18} {(h.ticket_id or '—')[:8]:8} {h.where:10} "
              f"{h.snippet}")  # fmt: skip
    return 0


def add_calls_parser(sub: Any) -> None:
    calls = sub.add_parser("calls", help="stored calls: list, show, export, recover")
    calls_sub = calls.add_subparsers(dest="calls_command", required=True)

    p = calls_sub.add_parser("list", help="the stored calls, newest first")
    p.add_argument("--flagged", action="store_true", help="only calls with flags")
    p.add_argument("--since", help="only calls since a date (2025-03-04) or 7d / 12h ago")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--json", action="store_true")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_list)

    p = calls_sub.add_parser("search", help="search transcripts, notes, clients, tickets, flags")
    p.add_argument(
        "query", nargs="?", default="", help='words and "quoted phrases"; all must occur'
    )
    p.add_argument("--since", help="only calls since a date (2025-03-04) or 7d / 12h ago")
    p.add_argument("--until", help="only calls before a date (2025-03-04) or 7d / 12h ago")
    p.add_argument("--flagged", action="store_true", help="only calls with flags")
    p.add_argument("--mood-below", type=float, metavar="X",
                   help="only calls whose client mood fell below X (-1…1)")  # fmt: skip
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_search)

    p = calls_sub.add_parser("show", help="one call: summary, notes, key moments, transcript")
    p.add_argument("call", help="call id (or uid)")
    p.add_argument("--json", action="store_true", help="the whole record as JSON")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_show)

    p = calls_sub.add_parser(
        "recover", help="close calls interrupted by a crash, keeping what was saved"
    )
    p.add_argument("call", nargs="?", help="only this call (default: all interrupted calls)")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_recover)

    p = calls_sub.add_parser(
        "export",
        help="the ticket update, JSON, follow-up e-mail, or send to RT / a webhook",
        description="Exit status: 0 done, 3 waiting in the outbox, 2 refused or bad input.",
    )
    p.add_argument("call", help="call id (or uid)")
    p.add_argument("--to", required=True, choices=("markdown", "json", "email", "rt", "webhook"))
    p.add_argument("--out", metavar="PATH", help="file to write (markdown, json, email)")
    p.add_argument("--transcript", action="store_true", help="markdown: add the transcript")
    p.add_argument("--queue", help="rt: the queue for a new ticket (default: settings.toml)")
    p.add_argument("--ticket", help="rt: comment on this ticket instead of creating one")
    p.add_argument("--url", help="rt / webhook: the address (default: settings.toml)")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_export)

    p = calls_sub.add_parser(
        "purge-audio", help="delete kept call audio past its retention (the window does it too)"
    )
    add_store_option(p)
    p.set_defaults(func=cmd_calls_purge_audio)

    p = calls_sub.add_parser("queue", help="supervisors: flagged calls waiting for review")
    p.add_argument("--all", action="store_true", help="include reviewed calls")
    p.add_argument("--csv", action="store_true")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_queue)

    from app.store.review import REVIEW_OUTCOMES

    p = calls_sub.add_parser("review", help="supervisors: record the review of a flagged call")
    p.add_argument("call", help="call id (or uid)")
    p.add_argument("--outcome", required=True, choices=REVIEW_OUTCOMES)
    p.add_argument("--comment", help="what was decided")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_review)

    p = calls_sub.add_parser("stats", help="per agent and week: calls, flags, client mood")
    p.add_argument("--since", help="from a date (2025-03-04) or 30d ago")
    p.add_argument("--csv", action="store_true")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_stats)

    p = calls_sub.add_parser(
        "sync", help="copy this PC's calls to the team database (the window does it by itself)"
    )
    p.add_argument("--team", metavar="URL", help="the team database (default: settings.toml)")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_sync)

    p = calls_sub.add_parser("outbox", help="helpdesk exports waiting to be delivered")
    p.add_argument("--retry", action="store_true", help="try every waiting export now")
    add_store_option(p)
    p.set_defaults(func=cmd_calls_outbox)

    p = sub.add_parser("rt-login", help="store Request Tracker credentials in the keyring")
    p.add_argument("--url", help="RT's web address (default: settings.toml [rt] url)")
    p.add_argument("--user", help="RT user (default: settings.toml [rt] user)")
    p.add_argument("--token", action="store_true", help="an auth token instead of a password")
    p.set_defaults(func=cmd_rt_login)


def print_saved(call_id: int, json_to_stdout: bool) -> None:
    stream = sys.stderr if json_to_stdout else sys.stdout
    print(f"saved as call {call_id}", file=stream)
