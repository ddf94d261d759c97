"""``calmline team …``: set up team mode on a PostgreSQL database, add agents and supervisors,
and say who a database URL logs in as. The commands run as an admin role (CREATEROLE);
``whoami`` as anyone."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.settings import load_settings
from app.store.team import (
    AGENT_GROUP,
    SUPERVISOR_GROUP,
    TeamError,
    add_member,
    init_team,
    team_member,
    validate_role_name,
)

ADMIN_URL_HELP = "the team database as an admin role: postgresql://ADMIN:PASSWORD@HOST/DB"


def _store_url(args: argparse.Namespace) -> str:
    url = args.store or load_settings().store
    if not url:
        raise TeamError("give the team database: --store postgresql://USER:PASSWORD@HOST/DB")
    return url


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _password(args: argparse.Namespace) -> str:
    """--password, else typed twice at a terminal, else one line of standard input (so it
    need not appear in the process list)."""
    if args.password is not None:
        password = args.password
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise TeamError("the two passwords differ; run the command again")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise TeamError(f"give {args.name} a password: --password P (or type it when asked)")
    return password


def cmd_team_init(args: argparse.Namespace) -> int:
    url = _store_url(args)
    init_team(url)
    print(
        f"team mode ready on {_shown(url)}: groups {AGENT_GROUP} and {SUPERVISOR_GROUP}, "
        "row-level security on every call table.\n"
        "next: calmline team add-agent NAME --password P --store ADMIN_URL "
        "(and add-supervisor); each person then uses postgresql://NAME:P@HOST/DB"
    )
    return 0


def _add(args: argparse.Namespace, group: str, kind: str) -> int:
    validate_role_name(args.name)  # before asking for a password
    url = _store_url(args)
    created = add_member(url, args.name, _password(args), group)
    what = "added" if created else "updated (password set, in the group)"
    print(f"{kind} {args.name} {what} on {_shown(url)}")
    return 0


def cmd_team_add_agent(args: argparse.Namespace) -> int:
    return _add(args, AGENT_GROUP, "agent")


def cmd_team_add_supervisor(args: argparse.Namespace) -> int:
    return _add(args, SUPERVISOR_GROUP, "supervisor")


def cmd_team_whoami(args: argparse.Namespace) -> int:
    from app.store.db import default_url

    member = team_member(args.store or load_settings().store or default_url())
    if member.kind == "local":
        print(f"local (a database on this PC, not a team): {member.where}")
    else:
        print(f"{member.role}: {member.kind} on {member.where}")
    return 0


def add_team_parser(sub: Any) -> None:
    team = sub.add_parser(
        "team",
        help="team mode on PostgreSQL: set up, add agents and supervisors, whoami",
        description="Exit status: 0 done, 2 refused or bad input (the reason on stderr).",
    )
    team_sub = team.add_subparsers(dest="team_command", required=True)

    p = team_sub.add_parser(
        "init",
        help="set up (or update after an upgrade) roles, privileges and row-level security",
    )
    p.add_argument("--store", metavar="URL", help=ADMIN_URL_HELP)
    p.set_defaults(func=cmd_team_init)

    for command, kind, func in (
        ("add-agent", "agent", cmd_team_add_agent),
        ("add-supervisor", "supervisor", cmd_team_add_supervisor),
    ):
        p = team_sub.add_parser(
            command, help=f"create the login role of a {kind} (or reset its password)"
        )
        p.add_argument("name", help="the role name: letters, digits, underscores")
        p.add_argument(
            "--password",
            help="the password (default: asked at the terminal, or one line of stdin)",
        )
        p.add_argument("--store", metavar="URL", help=ADMIN_URL_HELP)
        p.set_defaults(func=func)

    p = team_sub.add_parser("whoami", help="the role a database URL logs in as, and its kind")
    p.add_argument(
        "--store",
        metavar="URL",
        help="the database (default: settings.toml's store): agent, supervisor, admin or local",
    )
    p.set_defaults(func=cmd_team_whoami)
