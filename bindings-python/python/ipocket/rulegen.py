"""Alert rule generation: templates, rules, groups and targets in a :class:`RuleStore`;
:class:`RuleGenerator` validates, writes one rule file per group (atomically, with
backups), reloads Prometheus and lists the effective rules of a target.

    >>> from ipocket.rulegen import RuleStore
    >>> store = RuleStore()
    >>> store.create_group("prod")["name"]
    'prod'
"""

from ipocket._native import RuleGenerator, RuleStore

__all__ = ["RuleGenerator", "RuleStore"]
