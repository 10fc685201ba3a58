"""A plan step as data, and its rendering as bash: pure.

The plan is built as a list of :class:`PlanStep` so that the check can take
each gcloud command as an argument vector, exactly as the script will pass it,
without re-parsing shell. Rendering is the only place that quotes: a token
keeps ``${NAME}`` expansions only for the variables the plan itself defines or
requires, and everything else is quoted literally.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable
from dataclasses import dataclass

Argv = tuple[str, ...]
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
FLAG = re.compile(r"^(--[a-z0-9][a-z0-9-]*=)(.+)$", re.DOTALL)
HEREDOC_END = "PHASEGATE_EOF"
WIDTH = 96


@dataclass(frozen=True)
class PlanStep:
    """One step: why, and the command(s) that do it.

    ``argv`` is the command. Optional shapes, at most one of them per step:

    - ``unless``: a probe (a gcloud ``describe``); when it succeeds, ``argv`` is
      skipped, or ``update`` runs instead (create-or-update);
    - ``capture``: the shell variable that receives ``argv``'s output (with
      ``capture_may_fail``, a failure leaves it empty: a describe of what may not exist);
    - ``when_empty``: ``argv`` runs only while that variable is empty, else ``update``;
    - ``when_differs``: ``(VARIABLE, value)``: ``argv`` runs only when the variable is
      set and holds something else (a subscription bound to another topic);
    - ``for_each``: ``(LIST, ITEM)``: ``argv`` runs once per line of ``LIST`` with
      ``${ITEM}`` set to it, except for the lines in ``keep``; with ``manual`` it is
      not run but printed on stderr after that message, for a person to run;
    - ``require``: ``argv`` is a check; when it fails the plan stops with this message;
    - ``shell``: a line that is not one command (not gcloud, never checked);
    - ``writes``: files the step writes from the plan's own text (``(path, text)``).
    """

    description: str
    argv: Argv = ()
    gcloud: bool = True
    unless: Argv | None = None
    update: Argv | None = None
    capture: str | None = None
    capture_may_be_empty: bool = False
    capture_may_fail: bool = False
    when_empty: str | None = None
    when_differs: tuple[str, str] | None = None
    for_each: tuple[str, str] | None = None
    keep: tuple[str, ...] = ()
    manual: str | None = None
    require: str | None = None
    shell: str | None = None
    writes: tuple[tuple[str, str], ...] = ()

    def gcloud_commands(self) -> tuple[Argv, ...]:
        """Every gcloud argument vector this step may run, in the order it may run them."""
        if not self.gcloud:
            return ()
        return tuple(argv for argv in (self.unless, self.argv, self.update) if argv)


def variables_of(steps: Iterable[PlanStep], required: Iterable[str]) -> frozenset[str]:
    """The shell variables a plan may expand: those it requires, captures and loops over."""
    steps = list(steps)
    return (frozenset(required) | {step.capture for step in steps if step.capture}
            | {step.for_each[1] for step in steps if step.for_each})


def quote(token: str, variables: Collection[str]) -> str:
    """``token`` for bash: ``${NAME}`` expands only for a known variable.

    A ``--flag=value`` keeps its flag bare (``--region="${REGION}"``): easier to read.
    """
    flag = FLAG.match(token)
    if flag:
        return flag.group(1) + _quoted(flag.group(2), variables)
    return _quoted(token, variables)


def _quoted(token: str, variables: Collection[str]) -> str:
    if not any(match.group(1) in variables for match in VARIABLE.finditer(token)):
        return shlex.quote(token)
    parts, position = [], 0
    for match in VARIABLE.finditer(token):
        parts.append(_escaped(token[position:match.start()]))
        parts.append(match.group(0) if match.group(1) in variables else _escaped(match.group(0)))
        position = match.end()
    parts.append(_escaped(token[position:]))
    return '"' + "".join(parts) + '"'


def _escaped(text: str) -> str:
    """Text inside double quotes, with nothing expanded."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def command_line(argv: Argv, variables: Collection[str], indent: str = "") -> str:
    """One command, wrapped before a flag when the line grows past :data:`WIDTH`."""
    lines = [indent]
    for raw in argv:
        token = quote(raw, variables)
        current = lines[-1]
        if current.strip() and len(current) + 1 + len(token) > WIDTH and raw.startswith("--"):
            lines[-1] = current + " \\"
            lines.append(f"{indent}    {token}")
        else:
            lines[-1] = f"{current} {token}" if current.strip() else current + token
    return "\n".join(lines)


def render_step(step: PlanStep, variables: Collection[str]) -> list[str]:
    """The step as bash lines, after a comment saying what it does."""
    lines = [f"# {line}" for line in step.description.splitlines()]
    for path, text in step.writes:
        parent = path.rpartition("/")[0]
        if parent:
            lines.append(f"mkdir -p {shlex.quote(parent)}")
        lines.append(f"cat > {shlex.quote(path)} <<'{HEREDOC_END}'")
        lines.extend(text.rstrip("\n").splitlines())
        lines.append(HEREDOC_END)
    if step.shell is not None:
        lines.append(step.shell)
    elif step.argv:
        lines.append(_command(step, variables))
    return lines


def _command(step: PlanStep, variables: Collection[str]) -> str:
    run = command_line(step.argv, variables)
    if step.for_each:
        return _loop(step, variables)
    if step.capture:
        if step.capture_may_fail:
            return f'{step.capture}="$({run.lstrip()} 2>/dev/null || true)"'
        line = f'{step.capture}="$({run.lstrip()})"'
        if step.capture_may_be_empty:
            return line
        return f'{line}\n: "${{{step.capture}:?gcloud returned no value for {step.capture}}}"'
    if step.require:
        message = _escaped(f"phasegate: {step.require}")
        return f'{run} >/dev/null 2>&1 || {{ echo "{message}" >&2; exit 1; }}'
    if step.unless and step.update:
        probe = command_line(step.unless, variables)
        return "\n".join([f"if {probe.lstrip()} >/dev/null 2>&1; then",
                          command_line(step.update, variables, "    "), "else",
                          command_line(step.argv, variables, "    "), "fi"])
    if step.unless:
        probe = command_line(step.unless, variables)
        return f"{probe} >/dev/null 2>&1 ||\n{command_line(step.argv, variables, '    ')}"
    if step.when_differs:
        variable, expected = step.when_differs
        return "\n".join([f'if [ -n "${{{variable}}}" ] && '
                          f'[ "${{{variable}}}" != {quote(expected, variables)} ]; then',
                          command_line(step.argv, variables, "    "), "fi"])
    if step.when_empty:
        otherwise = (["else", command_line(step.update, variables, "    ")]
                     if step.update else [])
        return "\n".join([f'if [ -z "${{{step.when_empty}}}" ]; then',
                          command_line(step.argv, variables, "    "), *otherwise, "fi"])
    return run


def _loop(step: PlanStep, variables: Collection[str]) -> str:
    """``argv`` (or, when ``manual``, its text on stderr) for each line of a list variable."""
    assert step.for_each is not None
    listing, item = step.for_each
    indent = " " * 12
    if step.manual is None:
        action = [command_line(step.argv, variables, indent)]
    else:
        message = quote(f"phasegate: manual step: {step.manual}:", variables)
        command = command_line(step.argv, variables, indent).lstrip()
        action = [f"{indent}echo {message} >&2", f'{indent}echo "   " {command} >&2']
    return "\n".join([
        f"while IFS= read -r {item}; do",
        f'    case "${{{item}}}" in',
        "        '') ;;",
        *[f"        {shlex.quote(name)}) ;;" for name in step.keep],
        "        *)",
        *action,
        "            ;;",
        "    esac",
        f'done <<<"${{{listing}}}"',
    ])
