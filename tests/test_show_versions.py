"""labkit.show.versions: the one cross-version table of notebook 04 and each era's layer."""
from __future__ import annotations

from labkit import hello, observe, oci, show


def test_version_table_has_one_row_per_engine_and_short_digests():
    recorded = observe.recorded()
    t = show.version_table(recorded)
    assert [str(r["engine"]) for r in t.rows] == [o.name for o in recorded]
    assert {str(r["layer diff_id"]) for r in t.rows} == {"afb7b93b28f3", "66cb068deb3d"}
    html = t._repr_html_()
    assert "title='sha256:afb7b93b28f36ab5aa810b703e6d444fc3c8e15850f96fc9233faa52f91d866d'" in html
    assert "title='recorded on Docker 20.10.5" in html                  # where each row comes from
    kinds = {str(r["engine"]): r["image ID is the digest of"] for r in t.rows}
    assert kinds["20.10.24"] == "config" and kinds["28.5.2-containerd"] == "manifest"


def test_version_table_says_dash_for_a_missing_value():
    ref = observe.reference()
    assert show.version_table([ref], "hello-legacy").missing == "—"
    assert show.version_table([ref], "no-such-scenario").rows == []


def test_era_digests_match_what_the_engines_recorded():
    entry = oci.Entry.file("hello", hello.tiny_elf(), mode=0o755)
    predicted = {r["era"]: r["layer diff_id"].full for r in show.era_digests(entry).rows}
    by_name = observe.by_name(observe.recorded())
    assert predicted["20.10"] == by_name["20.10.24"]["hello-legacy"].main.diff_ids[0]
    assert predicted["modern"] == by_name["28.5.2"]["hello-legacy"].main.diff_ids[0]


def test_short_keeps_the_full_value_and_leaves_short_text_alone():
    s = show.short("sha256:" + "0123456789abcdef" * 4)
    assert (s, s.full[:10]) == ("0123456789ab", "sha256:012")
    assert show.short("legacy") == "legacy" and show.short(None) is None
    assert "title=" not in show.table([{"a": show.short("legacy")}])._repr_html_()
