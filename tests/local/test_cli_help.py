"""`oms --help` and every group's help list each command with a whole line, in an 80-column terminal."""

from __future__ import annotations

import click
from click.testing import CliRunner

from oms_tools.cli import SHORT_HELP, main


def _groups(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _groups(command, (*path, name))
    return found


def test_every_command_listing_fits_an_80_column_terminal_without_cut_sentences():
    for path in _groups(main):
        answer = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
        assert answer.exit_code == 0, answer.output
        listing = answer.output.split("Commands:", 1)[1]
        assert "..." not in listing, f"oms {' '.join(path)} --help cuts a line:\n{listing}"


def test_every_command_has_its_line():
    def names(group: click.Group, path: str = "") -> set[str]:
        found = set()
        for name, command in group.commands.items():
            found.add(f"{path}{name}")
            if isinstance(command, click.Group):
                found |= names(command, f"{path}{name} ")
        return found

    assert names(main) == set(SHORT_HELP)
