"""The Prometheus text format (0.0.4) and OpenMetrics 1.0: parse into samples or families,
lazily or all at once, and encode families back to text.

``data`` may be ``str`` or ``bytes`` (``bytes`` is read without a copy). ``format`` is
``"text"``, ``"openmetrics"`` or an HTTP Content-Type. Bad input raises
:class:`ipocket.ParseError` with ``line`` and ``column``::

    >>> from ipocket import expfmt
    >>> [s.labels for s in expfmt.parse('up{job="node"} 1\\n')]
    [{'job': 'node'}]
"""

from ipocket._native import (
    Exemplar,
    FamilyIterator,
    MetricFamily,
    Sample,
    SampleIterator,
    encode,
    iter_families,
    iter_samples,
    parse,
    parse_families,
    parse_lenient,
)

__all__ = [
    "Exemplar",
    "FamilyIterator",
    "MetricFamily",
    "Sample",
    "SampleIterator",
    "encode",
    "iter_families",
    "iter_samples",
    "parse",
    "parse_families",
    "parse_lenient",
]
