"""ipocket.expfmt: samples, families, lazy iteration, located errors, encoding, and every
sample of the shipped corpus compared with prometheus_client's reference parser."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import ipocket
from ipocket import expfmt

TEXT = b"""# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",path="/a\\"b"} 10 1700000000000
http_requests_total{method="post",path="/"} 3
# TYPE temp gauge
temp NaN
"""


def test_samples_have_names_labels_values_and_timestamps() -> None:
    samples = expfmt.parse(TEXT)
    assert [s.name for s in samples] == ["http_requests_total"] * 2 + ["temp"]
    assert samples[0].labels == {"method": "get", "path": '/a"b'}
    assert samples[0].value == 10.0
    assert samples[0].timestamp_ms == 1700000000000
    assert samples[0].timestamp == 1700000000.0
    assert samples[1].timestamp is None
    assert math.isnan(samples[2].value)
    assert expfmt.parse(TEXT.decode()) == samples


def test_openmetrics_timestamps_are_kept_exactly() -> None:
    # beyond int64 milliseconds and with sub-millisecond digits (issue #20)
    text = (
        b"# TYPE a counter\n"
        b'a_total 1 12345678901234567890.1234567890 # {t="x"} 1 1.0015\n'
        b"# EOF\n"
    )
    [s] = expfmt.parse(text, "openmetrics")
    assert s.timestamp == 12345678901234567890.123456789
    assert s.timestamp_ms == 2**63 - 1  # clamped to int64
    assert s.exemplar is not None
    assert s.exemplar.timestamp_ms == 1001
    assert s.exemplar.timestamp == 1.0015
    assert expfmt.encode(expfmt.parse_families(text, "openmetrics"), "openmetrics") == (
        text.replace(b".1234567890 ", b".123456789 ").decode()
    )


def test_iteration_is_lazy_and_a_strict_error_comes_at_its_line() -> None:
    it = expfmt.iter_samples(b"a 1\nb 2\nc{ 3\nd 4\n")
    assert next(it).name == "a"
    assert next(it).name == "b"
    with pytest.raises(ipocket.ParseError) as e:
        next(it)
    assert (e.value.line, e.value.column) == (3, 4)
    with pytest.raises(StopIteration):
        next(it)


def test_parse_error_is_a_located_value_error() -> None:
    with pytest.raises(ValueError) as e:
        expfmt.parse('up{job="node"} 1\nup{job=node} 1\n')
    err = e.value
    assert isinstance(err, ipocket.ParseError) and isinstance(err, ipocket.IpocketError)
    assert err.line == 2 and err.column == 8
    assert err.snippet == "up{job=node} 1"
    assert "line 2, column 8" in str(err)


def test_lenient_mode_skips_bad_lines_and_reports_each() -> None:
    samples, errors = expfmt.parse_lenient(b"a 1\nb x\nc 3\nd{ 4\n")
    assert [s.name for s in samples] == ["a", "c"]
    assert [(e.line, e.rule) for e in errors] == [(2, "InvalidValue"), (4, "InvalidLabelName")]
    assert all(e.kind == "invalid" and isinstance(e, ipocket.InvalidInputError) for e in errors)
    it = expfmt.iter_samples(b"a 1\nb x\nc 3\n", lenient=True)
    assert [s.name for s in it] == ["a", "c"]
    assert [e.line for e in it.errors] == [2]


def test_openmetrics_families_units_and_exemplars() -> None:
    om = b"""# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
# UNIT rpc_seconds seconds
rpc_seconds_bucket{le="0.1"} 1 # {trace_id="abc"} 0.05 1700000000.5
rpc_seconds_bucket{le="+Inf"} 2
rpc_seconds_count 2
rpc_seconds_sum 0.3
# EOF
"""
    fams = expfmt.parse_families(om, "openmetrics")
    assert len(fams) == 1
    f = fams[0]
    assert (f.name, f.type, f.unit, f.help) == ("rpc_seconds", "histogram", "seconds", "RPC latency.")
    ex = f.samples[0].exemplar
    assert ex is not None and ex.labels == {"trace_id": "abc"} and ex.value == 0.05
    assert f.samples[1].labels == {"le": "+Inf"} and f.samples[1].exemplar is None
    assert expfmt.encode(fams, "openmetrics") == om.decode()
    # the same with a Content-Type
    assert len(expfmt.parse(om, "application/openmetrics-text; version=1.0.0")) == 4


def test_openmetrics_requires_eof() -> None:
    with pytest.raises(ipocket.ParseError) as e:
        expfmt.parse(b"a 1\n", "openmetrics")
    assert e.value.rule == "MissingEof"


def test_unknown_format_is_an_invalid_input() -> None:
    with pytest.raises(ipocket.InvalidInputError) as e:
        expfmt.parse(b"a 1\n", "json")
    assert e.value.field == "format"
    with pytest.raises(ipocket.InvalidInputError):
        expfmt.parse(123)  # type: ignore[arg-type]


def test_families_built_in_python_encode_with_escaping() -> None:
    s = expfmt.Sample("job_info", {"path": 'C:\\x "y"\n'}, 1.0)
    f = expfmt.MetricFamily("job_info", "gauge", help="Line\nbreak", samples=[s])
    text = expfmt.encode([f])
    assert text == (
        "# HELP job_info Line\\nbreak\n# TYPE job_info gauge\n"
        'job_info{path="C:\\\\x \\"y\\"\\n"} 1\n'
    )
    assert expfmt.parse(text)[0].labels == s.labels
    with pytest.raises(ipocket.InvalidInputError):
        expfmt.MetricFamily("x", "bogus")


@pytest.mark.parametrize("name", ["node_exporter.prom", "prometheus_self.prom"])
def test_corpus_round_trips_through_families(corpus: Path, name: str) -> None:
    text = (corpus / name).read_text()
    fams = expfmt.parse_families(text)
    # `# TYPE x untyped` and no TYPE line are the same family type, so compare what parses.
    again = expfmt.encode(fams)
    assert expfmt.parse(again) == expfmt.parse(text)
    assert [(f.name, f.type, f.help) for f in expfmt.parse_families(again)] == [
        (f.name, f.type, f.help) for f in fams
    ]
    lazy = list(expfmt.iter_families(text))
    assert [f.name for f in lazy] == [f.name for f in fams]


def _reference_samples(text: str) -> list[tuple[str, dict[str, str], float, object]]:
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.append((s.name, dict(s.labels), s.value, s.timestamp))
    return out


@pytest.mark.parametrize("name", ["node_exporter.prom", "prometheus_self.prom"])
def test_every_corpus_sample_matches_prometheus_client(corpus: Path, name: str) -> None:
    text = (corpus / name).read_text()
    ours = expfmt.parse(text)
    ref = _reference_samples(text)
    assert len(ours) == len(ref) > 300
    # prometheus_client regroups a family's samples; compare as multisets keyed by series.
    def key(name: str, labels: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return name, tuple(sorted(labels.items()))

    theirs = {key(n, l): (v, t) for n, l, v, t in ref}
    assert len(theirs) == len(ref), "series are unique in the corpus"
    for s in ours:
        # prometheus_client names a text-format counter's samples with `_total` (as written).
        v, t = theirs.pop(key(s.name, s.labels))
        assert (s.value == v) or (math.isnan(s.value) and math.isnan(v)), (s, v)
        assert s.timestamp == t, (s, t)
    assert not theirs
