"""Admin commands: `flask --app app seed | create-user | import-offices FILE | cleanup-attachments`."""

import sys
from pathlib import Path

import click
from flask import Flask, current_app

from app.database import utcnow
from app.errors import Problem
from app.hours import calendar
from app.models import Role
from app.services import accounts, activity, attachment_cleanup, office_import, seed, signals


def register(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(import_offices_command)
    app.cli.add_command(import_activity_command)
    app.cli.add_command(prune_activity_command)
    app.cli.add_command(evaluate_signals_command)
    app.cli.add_command(cleanup_attachments_command)


@click.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has districts or users.")
@click.option("--with-demo-reports", is_flag=True, help="Also push a few sample Nowruz findings (cases to review).")
@click.option("--with-demo-activity", is_flag=True,
              help="Also feed a synthetic platform's activity (eight weeks of history, Nowruz 5-9 Farvardin 1405 "
                   "by the minute), so that the signals have suspicions to show (fixtures/README.md).")
def seed_command(if_empty: bool, with_demo_reports: bool, with_demo_activity: bool) -> None:
    """Load Tehran's districts, the fixture offices and the demo users (idempotent)."""
    if if_empty and not seed.is_empty():
        click.echo("The database already has data; not seeding (drop --if-empty to top it up).")
        return
    result = seed.seed(current_app.config["BAZRES_DEMO_PASSWORD"])
    click.echo(f"districts: {result.districts_created} created; offices: {len(result.offices.created)} created, "
               f"{len(result.offices.updated)} updated, {len(result.offices.unchanged)} unchanged; "
               f"users: {result.users_created} created; holidays: {result.holidays_created} created; "
               f"hours rules: {result.rules_created} created")
    if with_demo_reports:
        click.echo(f"demo reports: {seed.demo_reports()} landed")
    if with_demo_activity:
        try:
            fed = seed.demo_activity()
        except Problem as problem:
            click.echo(f"error: {problem.detail}", err=True)
            sys.exit(1)
        click.echo(f"demo activity: {fed.history_hours} history hours written; {fed.events} events counted on "
                   f"{', '.join(fed.days)} ({fed.duplicates} batches taken in before); {fed.suspected} suspicions "
                   "worked out")


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt=True)
@click.option("--district", "districts", type=int, multiple=True, help="Repeat for several districts.")
@click.option("--full-name", default="")
@click.password_option()
def create_user_command(username: str, role: str, districts: tuple[int, ...], full_name: str, password: str) -> None:
    """Create a user (inspectors need --district, heads exactly one)."""
    try:
        user = accounts.create_user(username, password, role, districts, full_name)
    except Problem as problem:
        for field, messages in (problem.errors or {}).items():
            click.echo(f"error: {field}: {' '.join(messages)}", err=True)
        sys.exit(1)
    click.echo(f"created {user.role} {user.username} (id {user.id})")


@click.command("import-activity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="csv", show_default=True, help="The source the batches are keyed under.")
def import_activity_command(file: Path, source: str) -> None:
    """Take in the platform's activity from a CSV FILE (office_code,at,count), in batches of
    5,000: a bad row is reported by its line and the rest are counted; importing the same
    file again counts nothing twice."""
    try:
        batches = activity.import_csv(file, source)
    except Problem as problem:
        click.echo(f"error: {problem.detail}", err=True)
        sys.exit(1)
    for number, batch in enumerate(batches):
        for refused in batch["rejected"]:
            line = number * 5_000 + refused["index"] + 2  # the header is line 1
            reasons = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in refused["errors"].items())
            click.echo(f"line {line}: {reasons}", err=True)
    accepted = sum(batch["accepted"] for batch in batches)
    refused = sum(len(batch["rejected"]) for batch in batches)
    again = sum(batch["status"] == "duplicate" for batch in batches)
    click.echo(f"{accepted} events counted, {refused} refused, in {len(batches)} batch(es)"
               + (f" ({again} taken in before: counted once)" if again else ""))


@click.command("prune-activity")
def prune_activity_command() -> None:
    """Drop activity counts older than 400 days and batch keys older than 30."""
    counts, batches = activity.prune()
    click.echo(f"dropped {counts} minute counts and {batches} batch keys")


@click.command("evaluate-signals")
@click.option("--date", "day", default=None, help="The Jalali day (default: today in Tehran).")
def evaluate_signals_command(day: str | None) -> None:
    """Work out a day's signals now (DESIGN §10b), as a read would when their inputs changed:
    for a timer that keeps them warm, or after loading activity by hand."""
    try:
        jalali = calendar.parse_date(day) if day else calendar.tehran_day(utcnow())
    except calendar.CalendarError as error:
        click.echo(f"error: --date: {error}", err=True)
        sys.exit(2)
    result = signals.evaluate(jalali)
    click.echo(f"{result['day']}: {result.get('signals', 0)} signal(s), {result.get('suspected', 0)} suspected, "
               f"{result.get('changes', 0)} change(s) kept in their history")


@click.command("import-offices")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_offices_command(file: Path) -> None:
    """Import offices from a CSV or GeoJSON FILE: all rows, or none if any is bad."""
    try:
        result = office_import.import_offices(file)
    except office_import.ImportRejected as rejected:
        for error in rejected.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"{len(rejected.errors)} problem(s) in {file}; nothing was imported.", err=True)
        sys.exit(1)
    click.echo(f"{len(result.created)} created, {len(result.updated)} updated, "
               f"{len(result.unchanged)} unchanged")


@click.command("cleanup-attachments")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
def cleanup_attachments_command(dry_run: bool) -> None:
    """Remove uploads in pieces untouched for ATTACHMENT_PARTIAL_HOURS and stored photos that
    no report names after ATTACHMENT_UNREFERENCED_DAYS."""
    cleaned = attachment_cleanup.clean(dry_run)
    verb = "would remove" if dry_run else "removed"
    config = current_app.config
    click.echo(f"uploads in pieces untouched for {config['ATTACHMENT_PARTIAL_HOURS']:g} h: {verb} "
               f"{len(cleaned.uploads)}; stray files: {verb} {len(cleaned.stray_files)}; photos no report names "
               f"after {config['ATTACHMENT_UNREFERENCED_DAYS']:g} days: {verb} {len(cleaned.photos)}")
    for sha in cleaned.photos:
        click.echo(f"  photo {sha}")
