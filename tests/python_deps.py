#!/usr/bin/python3
# python_deps.py SOURCE_ROOT — checks that the Python the test suite runs
# needs nothing beyond what scripts/setup.sh installs (stdlib and NumPy).
#
# Python sources: every .py file under tests/, scripts/, examples/, bench/
# and .ci/, and the Python inside their shell scripts (heredocs and -c
# strings given to python3, $PY, $py or $PYTHON).  A source whose first
# lines carry the marker
#     # needs: PACKAGE... (what it is for; not run by the tests)
# is a generator (it regenerates fixtures or examples): it is not run by the
# suite, and its marker must name the Debian package of every module it
# imports (a module not installed here is taken to be Debian's python3-NAME).
# Every other source is run by the suite, and each module it imports
# must be standard library, the project's own, or a file that `dpkg -S` says
# belongs to a package of setup.sh's PACKAGES (located with find_spec, so a
# module that is not installed, or only an empty namespace directory, fails).
# A source run by the suite may not run or import a generator.  Also
# checked: the README names every package of PACKAGES and of the markers.
# Exit 0 when all hold, 1 naming each module and script otherwise, 77 (skip)
# without dpkg.
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys

DIRS = ["tests", "scripts", "examples", "bench", ".ci"]
SKIP_DIRS = {"__pycache__", "corpus", "cases", "seeds"}
MARKER = re.compile(r"^#\s*needs:\s*([^(]*)")
PYTHON = r"(?:\bpython3?\b|\$\{?(?:PY|py|PYTHON)\}?)"
HEREDOC = re.compile(PYTHON + r"[^<\n]*<<-?\s*(['\"]?)(\w+)\1")
DASH_C = re.compile(PYTHON + r"\"?\s+-c\s+(['\"])")


def sources(root):
    """(path, kind) of every Python or shell script under DIRS."""
    for d in DIRS:
        for dirpath, dirnames, files in os.walk(os.path.join(root, d)):
            dirnames[:] = sorted(n for n in dirnames if n not in SKIP_DIRS)
            for f in sorted(files):
                p = os.path.join(dirpath, f)
                head = first_line(p)
                if f.endswith(".py") or re.match(r"#!.*\bpython", head):
                    yield p, "py"
                elif f.endswith(".sh") or re.match(r"#!.*\b(ba|da)?sh\b", head):
                    yield p, "sh"


def first_line(path):
    """The #! line, if any."""
    try:
        with open(path, "rb") as fh:
            return fh.readline(200).decode("latin-1")
    except OSError:
        return ""


def marker(text):
    """The packages a generator's marker names, or None when it has none."""
    for line in text.splitlines()[:15]:
        m = MARKER.match(line)
        if m:
            return set(m.group(1).split())
    return None


def embedded(text):
    """(line, python source) of each heredoc or -c string run by python."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = HEREDOC.search(line)
        if m:
            body = []
            for nxt in lines[i + 1:]:
                if nxt.strip() == m.group(2):
                    break
                body.append(nxt)
            yield i + 1, "\n".join(body)
    for m in DASH_C.finditer(text):
        q, j, body = m.group(1), m.end(), []
        while j < len(text) and text[j] != q:
            if q == '"' and text[j] == "\\" and j + 1 < len(text):
                j += 1
            body.append(text[j])
            j += 1
        yield text.count("\n", 0, m.start()) + 1, "".join(body)


def imports(src):
    """Top-level names of the (absolute) imports of src."""
    try:
        tree = ast.parse(src)
    except SyntaxError:  # shell-expanded code: read the import statements
        names = []
        for m in re.finditer(r"(?:^|[;\n])\s*(?:import\s+([\w., ]+)|from\s+(\w+)\s+import)", src):
            names += [n.split()[0] for n in (m.group(1) or m.group(2)).split(",") if n.strip()]
        return {n.split(".")[0] for n in names}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def dpkg_owner(path):
    """The Debian package that installed path, or None."""
    r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    return r.stdout.split(":")[0].strip() if r.returncode == 0 else None


def debian_package(module, cache={}):
    """(package, None) of an installed module, or (None, why it is not)."""
    if module not in cache:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as e:
            spec, why = None, str(e)
        else:
            why = "not installed"
        if spec is not None and not spec.has_location:
            spec, why = None, "only an empty namespace directory " + \
                " ".join(spec.submodule_search_locations or [])
        if spec is None:
            cache[module] = None, why
        else:
            # found elsewhere first (e.g. pip's copy): Debian's own copy counts too
            dist = "/usr/lib/python3/dist-packages/" + module
            pkg = dpkg_owner(os.path.realpath(spec.origin)) or \
                dpkg_owner(dist + "/__init__.py") or dpkg_owner(dist + ".py")
            cache[module] = pkg, None if pkg else spec.origin + " belongs to no Debian package"
    return cache[module]


def check_source(rel, kind, text, local, packages):
    """The problems of one file (a generator when it has a marker)."""
    needs, problems = marker(text), []
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    units = [(rel, text)] if kind == "py" else \
        [(f"{rel} (python at line {n})", body) for n, body in embedded(text)]
    for g in sorted(n + ".py" for n, m in local.items() if m is not None and needs is None):
        if re.search(PYTHON + r"[^\n]*\b" + re.escape(g), code):
            problems.append(f"{rel}: runs {g}, which says it is not run by the tests")
    for where, src in units:
        mods = imports(src)
        for mod in sorted(mods & set(local)):
            if needs is None and local[mod] is not None:
                problems.append(f"{where}: imports '{mod}', which needs "
                                f"{' '.join(sorted(local[mod]))} (its '# needs:' line)")
        for mod in sorted(mods - set(sys.stdlib_module_names) - set(local)):
            pkg, why = debian_package(mod)
            if needs is not None:  # a generator: its marker names the package
                pkg = pkg or "python3-" + mod.lower()
                if pkg not in needs:
                    problems.append(f"{where}: imports '{mod}' (Debian {pkg}) but its "
                                    f"'# needs:' line does not name {pkg}")
            elif pkg is None:
                problems.append(f"{where}: imports '{mod}', which scripts/setup.sh does not "
                                f"install ({why})")
            elif pkg not in packages:
                problems.append(f"{where}: imports '{mod}' from Debian {pkg}, which "
                                f"scripts/setup.sh does not install (PACKAGES)")
    return len(units), needs, problems


def read(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def main(root):
    if not shutil.which("dpkg"):
        print("python-deps: skipped: no dpkg (not a Debian system)")
        return 77
    setup = read(os.path.join(root, "scripts", "setup.sh")).replace("\\\n", " ")
    packages = set(re.search(r'PACKAGES="([^"]*)"', setup).group(1).split())
    files = [(p, kind, read(p)) for p, kind in sources(root)]
    # the project's modules: name -> its marker's packages (None: no marker)
    local = {os.path.splitext(os.path.basename(p))[0]: marker(text)
             for p, kind, text in files if kind == "py"}
    problems, checked, generators, needed = [], 0, 0, set()
    for p, kind, text in files:
        n, needs, found = check_source(os.path.relpath(p, root), kind, text, local, packages)
        checked, problems = checked + n, problems + found
        if needs is not None:
            generators, needed = generators + 1, needed | needs
    readme = read(os.path.join(root, "README.md"))
    for pkg in sorted(packages | needed):
        if not re.search(r"(?<![\w-])" + re.escape(pkg) + r"(?![\w-])", readme):
            problems.append(f"README.md does not name the package {pkg}")
    for p in problems:
        print("FAIL: " + p)
    print(f"python-deps: {checked} Python sources, {generators} generator files (# needs:), "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
