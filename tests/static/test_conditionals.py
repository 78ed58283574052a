"""Every conditional in the project's YAML is a string (or a bool).

An unquoted `- x is search('a: b')` is read by YAML as a mapping, which ansible-lint accepts and
Ansible refuses only when the task runs ("Conditional expressions must be strings"): a lab run
found one after 15 minutes. This finds them in a second.
"""
import pytest
import yaml

from helpers import TOP

KEYS = ("that", "when", "failed_when", "changed_when", "until")
SKIP = (".cache", ".venv", "tests/output", "node_modules")


def yaml_files():
    return sorted(p for p in TOP.rglob("*.yml")
                  if not any(part in str(p.relative_to(TOP)) for part in SKIP))


def bad_conditionals(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KEYS:
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, (str, bool)):
                        yield "%s%s: %r" % (where, key, item)
            yield from bad_conditionals(value, where)
    elif isinstance(node, list):
        for item in node:
            yield from bad_conditionals(item, where)


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(TOP)))
def test_conditionals_are_strings(path):
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError:
        pytest.skip("not plain YAML (a template or tagged YAML)")
    found = [b for d in docs for b in bad_conditionals(d)]
    assert not found, "quote these conditionals (YAML read them as mappings): %s" % found
