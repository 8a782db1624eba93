"""``syncd templates DIR``: copy the default email and portal templates out to be customised."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from syncd.mail.templates import PACKAGE_TEMPLATES as EMAIL_ROOT

WEB_ROOT = Path(__file__).resolve().parents[1] / "web" / "templates"
SOURCES = ((EMAIL_ROOT, "email"), (WEB_ROOT, "portal"), (WEB_ROOT, "static"))


def export(target: Path, *, force: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy every default template under ``target`` keeping relative paths; returns
    (written, skipped because they exist and ``force`` is off)."""
    written: list[Path] = []
    skipped: list[Path] = []
    for root, folder in SOURCES:
        for source in sorted((root / folder).rglob("*")):
            if not source.is_file():
                continue
            dest = target / source.relative_to(root)
            if dest.exists() and not force:
                skipped.append(dest)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            written.append(dest)
    return written, skipped


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
def templates(directory: Path, force: bool) -> int:
    """Copy the default email and portal templates into DIRECTORY to customise them.

    Point `[web] template_dir` at DIRECTORY afterwards, and delete the files you keep as they are:
    a file in DIRECTORY wins over the packaged default of the same name.
    """
    written, skipped = export(directory, force=force)
    click.echo(f"wrote {len(written)} template(s) to {directory}")
    if skipped:
        click.echo(f"kept {len(skipped)} existing file(s); use --force to overwrite them")
    return 0
