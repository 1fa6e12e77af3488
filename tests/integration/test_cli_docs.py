"""The man page and the shell completions against the real command line.

Every option that `shardrun --help`, `shardrun plan --help`,
`shardrun merge --help` and `shardrun timeline --help` list must be in the
man page's section for that command, in the bash completion's answer to
`shardrun [plan|merge|timeline] -<TAB>`
and in the zsh completion's list for it, and nothing else may be there, so
an option added, renamed or removed in cli.cpp cannot drift from them. The
bash completion is also driven like bash does (COMP_WORDS, COMP_CWORD) to
check what it offers for commands, option values and suite files.

The packaged files themselves (installed, gzipped, rendered by man) are
checked by scripts/test-package.sh.
"""
import re
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT

MAN_PAGE = ROOT / "packaging" / "shardrun.1.in"
BASH_COMPLETION = ROOT / "packaging" / "completions" / "shardrun.bash"
ZSH_COMPLETION = ROOT / "packaging" / "completions" / "_shardrun"
COMMANDS = {"run": [], "plan": ["plan"], "merge": ["merge"], "timeline": ["timeline"],
            "report": ["report"]}


def help_text(*args):
    p = subprocess.run([str(BIN), *args, "--help"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def help_section(text, title):
    """The entries of one section of CLI11's help ("Options:", "Subcommands:"):
    the first word of each line indented by two spaces, up to a blank line."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().lower() == title.lower() + ":"]
    assert len(starts) == 1, f"no single {title!r} section in:\n{text}"
    entries = []
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            break
        m = re.match(r"^ {2}(\S+)", line)  # description continuations are indented further
        if m:
            entries.append(m.group(1))
    return entries


def help_options(command):
    names = set()
    for entry in help_section(help_text(*COMMANDS[command]), "Options"):
        names.update(entry.split(","))  # "-j,--workers"
    return names


def test_the_help_parser_sees_every_option():
    # a sanity check of the parser itself, on options known to exist
    run = help_options("run")
    assert {"-j", "--workers", "--junit", "--kill-grace", "--plan-in", "--help", "--version"} <= run
    assert help_options("plan") >= {"--json", "--timings", "-h"}
    assert help_options("merge") >= {"-o", "--output"}
    assert all(re.fullmatch(r"-[a-z]|--[a-z][a-z0-9-]+", n) for n in run), run


def man_sections():
    """{subsection title: the options its `.TP` entries name} of the OPTIONS
    section of the man page source."""
    text = MAN_PAGE.read_text()
    m = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", text, re.S | re.M)
    assert m, "the man page has no OPTIONS section"
    sections = {}
    for part in re.split(r"^\.SS ", m.group(1), flags=re.M)[1:]:
        title, body = part.split("\n", 1)
        lines = body.splitlines()
        names = set()
        for i, line in enumerate(lines):
            if line == ".TP":
                tag = re.sub(r"\\f[BIRP]", "", lines[i + 1]).replace("\\-", "-")
                names.update(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", tag))
        sections[title.strip('"')] = names
    return sections


def test_man_page_lists_exactly_the_options_of_each_command():
    sections = man_sections()
    assert set(sections) == {"Options of a run", "Options of shardrun plan",
                             "Options of shardrun merge", "Options of shardrun timeline",
                             "Options of shardrun report"}, sections.keys()
    assert sections["Options of a run"] == help_options("run")
    assert sections["Options of shardrun plan"] == help_options("plan")
    assert sections["Options of shardrun merge"] == help_options("merge")
    assert sections["Options of shardrun timeline"] == help_options("timeline")
    assert sections["Options of shardrun report"] == help_options("report")


def test_man_page_covers_commands_exit_status_and_environment():
    text = MAN_PAGE.read_text()
    for heading in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", '"EXIT STATUS"', "ENVIRONMENT"):
        assert re.search(rf"^\.SH {heading}$", text, re.M), heading
    for command in help_section(help_text(), "Subcommands"):
        assert rf"\fBshardrun {command}" in text, command
    status = re.search(r'^\.SH "EXIT STATUS"\n(.*?)^\.SH ', text, re.S | re.M).group(1)
    for code in ("0", "1", "2", "3", "130"):
        assert re.search(rf"^\.BR? {code}\b", status, re.M), code
    # what shardrun reads from its environment (getenv in src/)
    env = re.search(r"^\.SH ENVIRONMENT\n(.*?)^\.SH ", text, re.S | re.M).group(1)
    read = set()
    for path in (ROOT / "src").rglob("*.cpp"):
        read.update(re.findall(r'(?:getenv|getenv_string|env_set)\("([A-Z_]+)"\)', path.read_text()))
    read.update(["CI_NODE_INDEX", "CI_NODE_TOTAL", "CIRCLE_NODE_INDEX", "BUILDKITE_PARALLEL_JOB"])
    assert read >= {"SHARDRUN_LOCK_DIR", "SHARDRUN_PORT_RANGE", "NO_COLOR"}, read
    for name in read:
        assert re.search(rf"\b{name}\b", env), f"{name} is read by shardrun but not in ENVIRONMENT"


def complete(*words, cwd=None):
    """What the bash completion offers for `words`, the last being the word
    under the cursor (bash splits `--opt=value` into `--opt`, `=`, `value`)."""
    script = f"""
        source {BASH_COMPLETION}
        complete -p shardrun
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _shardrun
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", "shardrun", *words],
                       capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, p.stderr
    registered, *offered = p.stdout.splitlines()
    assert registered == "complete -F _shardrun shardrun"
    return {w for w in offered if w}


def test_bash_completion_is_valid_bash():
    p = subprocess.run(["bash", "-n", str(BASH_COMPLETION)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_bash_completion_offers_exactly_the_options(command, tmp_path):
    assert complete(*COMMANDS[command], "-", cwd=tmp_path) == help_options(command)


def test_bash_completion_commands_values_and_files(tmp_path):
    for name in ("a.yaml", "b.yml", "notes.txt", "report.xml", "timings.json", "with space.yaml"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub").mkdir()
    suites = {"a.yaml", "b.yml", "with space.yaml", "sub"}  # folders lead to more suites

    assert complete("", cwd=tmp_path) == {"plan", "merge", "timeline", "report"} | suites
    assert complete("pl", cwd=tmp_path) == {"plan"}
    assert complete("--wo", cwd=tmp_path) == {"--workers"}
    assert complete("--workers", "", cwd=tmp_path) == {"auto"}
    # after an option's value, the command or suite is still to come
    assert complete("-j", "4", "", cwd=tmp_path) == {"plan", "merge", "timeline", "report"} | suites
    assert complete("--junit", "=", "r.xml", "", cwd=tmp_path) == {"plan", "merge", "timeline", "report"} | suites
    assert complete("--junit", "", cwd=tmp_path) == {"report.xml", "sub"}
    assert complete("--junit", "=", "", cwd=tmp_path) == {"report.xml", "sub"}
    assert complete("--timings", "", cwd=tmp_path) == {"timings.json", "sub"}
    assert complete("--runs-dir", "", cwd=tmp_path) == {"sub"}
    # one suite a run
    assert complete("a.yaml", "", cwd=tmp_path) == set()
    assert complete("a.yaml", "--ret", cwd=tmp_path) == {"--retries"}
    # plan: options of plan only, one suite
    assert complete("plan", "--r", cwd=tmp_path) == {"--runs-dir"}
    assert complete("plan", "--re", cwd=tmp_path) == set()  # no --retries
    assert complete("plan", "", cwd=tmp_path) == suites
    assert complete("plan", "--timings", "timings.json", "", cwd=tmp_path) == suites
    assert complete("plan", "a.yaml", "", cwd=tmp_path) == set()
    # merge: JUnit files, as many as wanted
    assert complete("merge", "-o", "", cwd=tmp_path) == {"report.xml", "sub"}
    assert complete("merge", "-o", "all.xml", "", cwd=tmp_path) == {"report.xml", "sub"}
    assert complete("merge", "-o", "all.xml", "report.xml", "", cwd=tmp_path) == {"report.xml", "sub"}
    # timeline: run directories, as many as wanted; -o a page
    (tmp_path / "page.html").write_text("")
    assert complete("tim", cwd=tmp_path) == {"timeline"}
    assert complete("timeline", "", cwd=tmp_path) == {"sub"}
    assert complete("timeline", "sub", "", cwd=tmp_path) == {"sub"}
    assert complete("timeline", "-o", "", cwd=tmp_path) == {"page.html", "sub"}


def zsh_lists():
    """{array name: the options its specs name} of the zsh completion."""
    text = ZSH_COMPLETION.read_text()
    lists = {}
    for name, body in re.findall(r"^ +(\w+_opts)=\(\n(.*?)^ +\)$", text, re.S | re.M):
        names = set()
        for spec in body.splitlines():
            spec = re.sub(r"^\s*'\([^)]*\)", "", spec)  # an exclusion list: '(-j --workers)'
            braces = re.match(r"^'?\{([^}]*)\}", spec)  # {-j+,--workers=}
            if braces:
                names.update(re.sub(r"[+=]$", "", n) for n in braces.group(1).split(","))
            else:
                m = re.match(r"""^\s*['"]?(--?[a-z][a-z0-9-]*)""", spec)
                assert m, f"a spec naming no option in {name}: {spec!r}"
                names.add(m.group(1))
        lists[name] = names
    return lists


def test_zsh_completion_lists_exactly_the_options():
    lists = zsh_lists()
    assert set(lists) == {"run_opts", "plan_opts", "merge_opts", "timeline_opts",
                          "report_opts"}, lists.keys()
    for command in COMMANDS:
        assert lists[f"{command}_opts"] == help_options(command), command


def test_zsh_completion_is_valid_zsh():
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed (it is optional)")
    p = subprocess.run(["zsh", "-n", str(ZSH_COMPLETION)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
