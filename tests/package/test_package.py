"""Packaging: `cmake --install` and `cpack -G DEB` from an already-built tree.

Run by scripts/test-package.sh (SHARDRUN_BUILD_DIR names the build tree,
default build/). Once, for the whole module: cpack builds the .deb into a
temporary folder, `cmake --install` installs into a temporary DESTDIR with the
prefix /usr/local, and `dpkg-deb -x` unpacks the .deb; the tests then check
what each holds and run the unpacked binary, man page and completions. Nothing
is written outside the temporary folder except what cmake --install and cpack
always write in the build tree (install_manifest.txt).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SHARDRUN_BUILD_DIR", ROOT / "build")).resolve()
VERSION = re.search(r"project\(shardrun VERSION (\S+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
CONFIGS = sorted(p.name for p in (ROOT / "configs").glob("*.yaml"))


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def expected_files(prefix, zsh_dir):
    files = {
        f"{prefix}/bin/shardrun",
        f"{prefix}/share/man/man1/shardrun.1.gz",
        f"{prefix}/share/bash-completion/completions/shardrun",
        f"{prefix}/share/zsh/{zsh_dir}/_shardrun",
        f"{prefix}/share/doc/shardrun/README.md",
    }
    files.update(f"{prefix}/share/doc/shardrun/configs/{name}" for name in CONFIGS)
    return files


def files_under(root):
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """Builds the .deb, installs with DESTDIR and unpacks the .deb, once."""
    if not (BUILD / "CPackConfig.cmake").is_file() or not (BUILD / "shardrun").is_file():
        pytest.fail(f"{BUILD} is not a built tree: run scripts/build.sh first")
    tmp = tmp_path_factory.mktemp("package")
    # cpack first: its preinstall step brings the build up to date, so what
    # cmake --install copies afterwards is the same build
    p = run(["cpack", "-G", "DEB", "-B", tmp / "deb", "--config", BUILD / "CPackConfig.cmake"],
            cwd=BUILD)
    assert p.returncode == 0, p.stdout + p.stderr
    debs = list((tmp / "deb").glob("shardrun_*.deb"))
    assert len(debs) == 1, (list((tmp / "deb").iterdir()), p.stdout)

    destdir = tmp / "destdir"
    p = run(["cmake", "--install", BUILD, "--prefix", "/usr/local"],
            env={**os.environ, "DESTDIR": str(destdir)})
    assert p.returncode == 0, p.stdout + p.stderr

    root = tmp / "root"
    p = run(["dpkg-deb", "-x", debs[0], root])
    assert p.returncode == 0, p.stderr
    return {"deb": debs[0], "destdir": destdir, "root": root, "tmp": tmp}


def field(deb, name):
    p = run(["dpkg-deb", "-f", deb, name])
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_cmake_install_puts_each_file_in_its_place(package):
    destdir = package["destdir"]
    assert files_under(destdir) == expected_files("/usr/local", "site-functions")
    binary = destdir / "usr/local/bin/shardrun"
    assert os.access(binary, os.X_OK)
    # the files installed are the sources' (completions, configs) and the build's
    assert binary.read_bytes() == (BUILD / "shardrun").read_bytes()
    share = destdir / "usr/local/share"
    assert (share / "bash-completion/completions/shardrun").read_bytes() == \
        (ROOT / "packaging/completions/shardrun.bash").read_bytes()
    assert (share / "zsh/site-functions/_shardrun").read_bytes() == \
        (ROOT / "packaging/completions/_shardrun").read_bytes()
    for name in CONFIGS:
        assert (share / "doc/shardrun/configs" / name).read_bytes() == (ROOT / "configs" / name).read_bytes()


def test_deb_holds_the_files_under_usr(package):
    assert files_under(package["root"]) == expected_files("/usr", "vendor-completions")
    # owned by root, executable binary, readable files and folders
    p = run(["dpkg-deb", "-c", package["deb"]])
    assert p.returncode == 0, p.stderr
    for line in p.stdout.splitlines():
        mode, owner, *_, path = line.split()
        assert owner == "root/root", line
        if mode.startswith("d"):
            assert mode == "drwxr-xr-x", line
        elif path == "./usr/bin/shardrun":
            assert mode == "-rwxr-xr-x", line
        else:
            assert mode == "-rw-r--r--", line


def test_deb_control_fields(package):
    deb = package["deb"]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    assert deb.name == f"shardrun_{VERSION}_{arch}.deb"
    assert field(deb, "Package") == "shardrun"
    assert field(deb, "Version") == VERSION
    assert field(deb, "Architecture") == arch
    assert field(deb, "Maintainer")
    synopsis, *extended = field(deb, "Description").splitlines()
    assert synopsis.startswith("run a YAML test suite")
    assert not any(line.strip().startswith("run a YAML") for line in extended), extended
    # the long description, as one text, is the text written (no list glue)
    text = " ".join(line.strip() for line in extended)
    assert "with its own environment, temp directory, port" in text, extended


def needed_libraries(binary):
    """{soname: path} of the shared libraries the binary itself links (its
    NEEDED entries), resolved as the loader does."""
    p = run(["readelf", "-d", binary])
    assert p.returncode == 0, p.stderr
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", p.stdout)
    assert needed, p.stdout
    p = run(["ldd", binary])
    assert p.returncode == 0, p.stderr
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", p.stdout, re.M))
    missing = [n for n in needed if n not in paths]
    assert not missing, f"not found by the loader: {missing}\n{p.stdout}"
    return {n: paths[n] for n in needed}


def owning_package(path):
    """The Debian package that installed `path` (merged-/usr aware)."""
    candidates = [path, os.path.realpath(path)]
    for c in list(candidates):
        candidates.append(c[len("/usr"):] if c.startswith("/usr/") else "/usr" + c)
    for c in candidates:
        p = run(["dpkg", "-S", c])
        if p.returncode == 0:
            owners = p.stdout.splitlines()[0].rsplit(": ", 1)[0]
            return {o.split(":")[0].strip() for o in owners.split(",")}
    raise AssertionError(f"no package owns {path}")


def test_deb_depends_on_the_package_of_every_linked_library(package):
    depends = field(package["deb"], "Depends")
    assert depends, "no Depends: is CPACK_DEBIAN_PACKAGE_SHLIBDEPS on?"
    names = {alt.split()[0] for dep in depends.split(",") for alt in dep.split("|")}
    assert not [n for n in names if n.endswith("-dev")], depends
    binary = package["root"] / "usr/bin/shardrun"
    libraries = needed_libraries(binary)
    # the libraries of the build's dependencies are all there, not only libc
    assert {"libpq.so.5", "libpugixml.so.1"} <= set(libraries), libraries
    for soname, path in libraries.items():
        owners = owning_package(path)
        assert owners & names, f"{soname} ({path}, from {owners}) is not in Depends: {depends}"


def test_deb_binary_is_stripped(package):
    binary = package["root"] / "usr/bin/shardrun"
    p = run(["readelf", "-S", binary])
    assert p.returncode == 0, p.stderr
    assert ".debug_info" not in p.stdout and ".symtab" not in p.stdout


def expected_commit():
    if not shutil.which("git"):
        return "unknown"
    top = run(["git", "-C", ROOT, "rev-parse", "--show-toplevel"])
    if top.returncode != 0 or pathlib.Path(top.stdout.strip()).resolve() != ROOT:
        return "unknown"
    return run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()


def test_deb_binary_tells_its_version_and_commit(package):
    p = run([package["root"] / "usr/bin/shardrun", "--version"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"shardrun {VERSION} (git {expected_commit()})\n"


def configure_copy(source, build):
    p = run(["cmake", "-S", source, "-B", build, "-DSHARDRUN_TESTS=OFF"])
    assert p.returncode == 0, p.stdout + p.stderr
    header = (build / "generated/shardrun/build_info.hpp").read_text()
    return re.search(r'#define SHARDRUN_GIT_COMMIT "(.*)"', header).group(1)


def test_commit_outside_a_checkout_is_unknown_and_follows_new_commits(tmp_path):
    # a source tree without .git (a tarball): "unknown", configure only
    source = tmp_path / "shardrun-src"
    source.mkdir()
    for name in ("CMakeLists.txt", "README.md", "cmake", "packaging", "src", "include", "configs"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name)
        else:
            shutil.copy2(ROOT / name, source / name)
    assert configure_copy(source, source / "b") == "unknown"
    # unpacked inside another repository: still "unknown", not that repository's commit
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    outer = tmp_path
    assert run([*git, "-C", outer, "init", "-q"]).returncode == 0
    (outer / "other.txt").write_text("x")
    assert run([*git, "-C", outer, "add", "other.txt"]).returncode == 0
    assert run([*git, "-C", outer, "commit", "-q", "-m", "other"]).returncode == 0
    shutil.rmtree(source / "b")
    assert configure_copy(source, source / "b") == "unknown"
    # a checkout of its own: its HEAD, and a new commit is picked up by the
    # next build without configuring by hand
    shutil.rmtree(source / "b")
    assert run([*git, "-C", source, "init", "-q"]).returncode == 0
    assert run([*git, "-C", source, "add", "."]).returncode == 0
    assert run([*git, "-C", source, "commit", "-q", "-m", "one"]).returncode == 0
    first = run(["git", "-C", source, "rev-parse", "--short", "HEAD"]).stdout.strip()
    assert configure_copy(source, source / "b") == first
    assert run([*git, "-C", source, "commit", "-q", "--allow-empty", "-m", "two"]).returncode == 0
    second = run(["git", "-C", source, "rev-parse", "--short", "HEAD"]).stdout.strip()
    assert second != first
    p = run(["cmake", "--build", source / "b", "--target", "shardrun_man"])  # no compiling
    assert p.returncode == 0, p.stdout + p.stderr
    header = (source / "b/generated/shardrun/build_info.hpp").read_text()
    assert f'"{second}"' in header


def snapshot(folder):
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_deb_binary_runs_a_suite(package):
    binary = package["root"] / "usr/bin/shardrun"
    work = package["tmp"] / "run"
    work.mkdir()
    suite_dir = ROOT / "fixtures" / "mixed"
    before = snapshot(suite_dir)
    report = work / "report.xml"
    p = run([binary, "--workers", "4", "--kill-grace", "2s", "--junit", report,
             "--runs-dir", work / "runs", "--timings", work / "timings.json",
             suite_dir / "suite.yaml"], cwd=work, timeout=120)
    # units that pass, fail, crash, hang and garble their XML: exit 1, one report
    assert p.returncode == 1, p.stdout + p.stderr
    root = ET.parse(report).getroot()
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == \
        {"tests": "14", "failures": "2", "errors": "5", "skipped": "1"}, p.stdout
    assert (work / "timings.json").is_file()
    assert [d for d in (work / "runs").iterdir() if (d / "run.json").is_file()]
    assert snapshot(suite_dir) == before, "the run wrote under fixtures/"

    # merge and plan work too
    merged = work / "merged.xml"
    junit = ROOT / "fixtures" / "junit"
    p = run([binary, "merge", "-o", merged, junit / "pytest_report.xml", junit / "times.xml"], cwd=work)
    assert p.returncode == 0, p.stderr
    assert ET.parse(merged).getroot().tag == "testsuites"
    p = run([binary, "plan", "-j", "3", "--json", "--timings", work / "timings.json",
             "--runs-dir", work / "runs", ROOT / "fixtures" / "seed" / "suite.yaml"], cwd=work)
    assert p.returncode == 0, p.stderr
    plan = json.loads(p.stdout)
    assert plan["shards"] == 3 and len(plan["units"]) == 3, plan


def test_man_page_renders_without_warnings(package):
    page = package["root"] / "usr/share/man/man1/shardrun.1.gz"
    env = {**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "LC_ALL": "C.UTF-8"}
    p = run(["man", "--warnings", "-l", page], env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", p.stderr  # groff's warnings (bad macros, lines too long)
    text = p.stdout
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
                    "ENVIRONMENT", "FILES"):
        assert re.search(rf"^{heading}$", text, re.M), heading
    assert f"shardrun {VERSION}" in text  # the version was filled in
    for option in ("--workers", "--kill-grace", "--plan-in", "--json", "--output"):
        assert option in text
    # not one line wider than MANWIDTH (a long unbreakable word would be)
    assert max(len(line) for line in text.splitlines()) <= 80

    source = run(["gzip", "-dc", page]).stdout
    assert "@PROJECT_VERSION@" not in source
    p = run(["groff", "-ww", "-z", "-man"], input=source)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    if shutil.which("mandoc"):
        p = run(["mandoc", "-T", "lint", "-W", "warning"], input=source)
        assert p.returncode == 0, p.stdout + p.stderr


def test_completions_load(package):
    share = package["root"] / "usr/share"
    bash_file = share / "bash-completion/completions/shardrun"
    p = run(["bash", "-n", bash_file])
    assert p.returncode == 0, p.stderr
    # sourced, it registers itself for the command, and answers
    p = run(["bash", "--norc", "--noprofile", "-c",
             f'source "{bash_file}"; complete -p shardrun; '
             'COMP_WORDS=(shardrun merge -); COMP_CWORD=2; _shardrun; echo "${COMPREPLY[*]}"'])
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["complete -F _shardrun shardrun", "-o --output -h --help"]

    zsh_file = share / "zsh/vendor-completions/_shardrun"
    assert zsh_file.read_text().startswith("#compdef shardrun\n")
    if shutil.which("zsh"):
        p = run(["zsh", "-n", zsh_file])
        assert p.returncode == 0, p.stderr


# Types each line into an interactive zsh (compinit, the package's folder in
# fpath) through a pseudo-terminal and prints the arguments the command got
# once the TABs were completed. zsh -f ZSH_DRIVER FPATH_DIR WORK_DIR LINE...
ZSH_DRIVER = r"""
zmodload zsh/zpty
setopt extendedglob
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; cd $2"
zpty -w z 'm=RESULT; shardrun() { print -r -- "${m}<<$*>>" }'
shift 2
for line in "$@"; do
  zpty -w -n z "$line"
  zpty -r z out '*RESULT<<*>>*' || { print "no result for: $line"; exit 1 }
  print -r -- "${${out##*RESULT<<}%%>>*}"
done
zpty -d z
"""


def test_zsh_completion_completes(package):
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed (it is optional)")
    work = package["tmp"] / "zsh-work"
    work.mkdir()
    for name in ("a.yaml", "notes.txt", "r.xml"):
        (work / name).write_text("")
    typed = {  # TAB-completed input -> the arguments shardrun gets
        "shardrun pl\t": "plan",
        "shardrun plan -j 2 --timings t.json a\t": "plan -j 2 --timings t.json a.yaml",
        "shardrun plan --js\t": "plan --json",
        "shardrun merge --ou\tx.xml r\t": "merge --output=x.xml r.xml",
        "shardrun a.yaml --kill-grace 5s --ret\t2": "a.yaml --kill-grace 5s --retries=2",
        "shardrun --workers \t": "--workers auto",
        "shardrun --junit out.xml a\t": "--junit out.xml a.yaml",
    }
    p = run(["zsh", "-f", "-c", ZSH_DRIVER, "zsh", package["root"] / "usr/share/zsh/vendor-completions",
             work, *(line + "\n" for line in typed)], timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines() == list(typed.values())
