"""Built-in detection rules (`*.toml` in this folder) and their loader.

See `docs/rules.md` for the file format; `load_rules` is the entry point.
"""

from secretops.scan.rules.interface import Rule, RuleSet
from secretops.scan.rules.loader import builtin_rule_files, load_rule_file, load_rules

__all__ = ["Rule", "RuleSet", "builtin_rule_files", "load_rule_file", "load_rules"]
