#!/usr/bin/env python3
"""Every config error names the path of what is wrong.

Takes the shipped configs (examples/web.yaml, examples/backtest.yaml) and the demo's, and for every key
in them, one at a time, replaces its value with each of a set of bad values (a list, a mapping, a
word, a negative number, a huge number, an empty string, null, text with a newline and a control
character) or removes it, and gives every mapping below the top an empty key; runs `warmpool
check-config` on each mutant and checks that every error is one line that starts with a YAML path
(`pools[0].provider.socket: ...`, `global.interval: ...`), and that at least one of them names the
mutated key, one of its parents or one of its children (an error elsewhere is a consequence, as a
policy naming a metric that is gone). Reports each miss, and exits 1 if any.

    config_paths.py WARMPOOL SOURCE_DIR
"""
import os, re, subprocess, sys

BAD = [["a", "b"], {"x": 1}, "nonsense", -1, 1e300, "", None, "two\nlines\x01"]
EMPTY_KEY = "<empty key>"
PATH = re.compile(r"^  ([A-Za-z_][A-Za-z0-9_]*(\[\d+\])?(\.[A-Za-z0-9_\-]+(\[\d+\])?)*): ")


def walk(node, path=()):
    """Every (path, value) in a parsed YAML document, parents before children."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,), v
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,), v
            yield from walk(v, path + (i,))


def dotted(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def mutate(doc, path, value, remove=False):
    import copy
    d = copy.deepcopy(doc)
    node = d
    for p in path[:-1]:
        node = node[p]
    if remove:
        if isinstance(node, dict): del node[path[-1]]
        else: return None
    elif value == EMPTY_KEY:
        if not isinstance(node[path[-1]], dict): return None
        node[path[-1]][""] = 1
    else:
        node[path[-1]] = value
    return d


def mentions(path):
    """The key's path and its parents below a pool (`pools[0].metrics[0]`, `pools[0].metrics`): an error
    about a name the key held (a policy's metric that is gone) names where it is declared."""
    out = []
    for n in range(len(path), 0, -1):
        p = dotted(path[:n])
        if p in ("pools", "pools[0]") or "." not in p: break
        out.append(p)
    return out


def related(err_path, key_path):
    a, b = err_path, key_path
    return a.startswith(b) or b.startswith(a) or a == "top level"


def main():
    binary, src = sys.argv[1], sys.argv[2]
    try:
        import yaml
    except ImportError:
        print("config_paths: python3-yaml is missing (scripts/install-deps installs it)", file=sys.stderr)
        return 1
    files = [os.path.join(src, "examples", f) for f in ("web.yaml", "backtest.yaml")]
    bad_lines, runs = [], 0
    for f in files:
        base_dir = os.path.dirname(f)
        doc = yaml.safe_load(open(f))
        for path, _ in list(walk(doc)):
            for value in BAD + ["<remove>", EMPTY_KEY]:
                m = mutate(doc, path, value, remove=value == "<remove>")
                if m is None: continue
                text = yaml.safe_dump(m, default_flow_style=False)
                # Relative files (traces, tokens) resolve against the original's directory.
                cfg = os.path.join(base_dir, ".mutant-config-paths.yaml")
                open(cfg, "w").write(text)
                try:
                    r = subprocess.run([binary, "check-config", cfg], capture_output=True, text=True, timeout=20)
                finally:
                    os.remove(cfg)
                runs += 1
                if r.returncode == 0:
                    continue
                key = dotted(path)
                out = r.stdout.splitlines() + r.stderr.splitlines()
                # The first line says the file is invalid; every other is one indented error.
                for l in out[1:]:
                    if not l.startswith("  "):
                        bad_lines.append(f"{os.path.basename(f)} {key} = {value!r}: an error spans lines: {l!r}")
                lines = [l for l in out if l.startswith("  ")]
                named = False
                for line in lines:
                    mt = PATH.match(line)
                    if not mt:
                        bad_lines.append(f"{os.path.basename(f)} {key} = {value!r}: no path: {line.strip()}")
                    elif related(mt.group(1), key) or any(" " + p in line for p in mentions(path)):
                        named = True
                if lines and not named:
                    bad_lines.append(f"{os.path.basename(f)} {key} = {value!r}: none names it: {lines[0].strip()}")
    seen = set()
    for b in bad_lines:
        if b in seen: continue
        seen.add(b)
        print("NO PATH  " + b)
    print(f"config_paths: {runs} mutants of {len(files)} configs, {len(seen)} errors without the key's path")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
