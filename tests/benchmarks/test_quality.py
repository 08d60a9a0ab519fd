"""The quality benchmark's corpus and scorer: reproducible, labeled by family and form, and scored
per slice the way benchmarks/README.md says (no scanner runs here: synthetic hits)."""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import pytest

from benchmarks.quality import forms
from benchmarks.quality.corpus import Gen, generate
from benchmarks.quality.run import MARK, MARK_P, evaluate, slice_table
from benchmarks.quality.score import Hit, score


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]]:
    out = tmp_path_factory.mktemp("q") / "corpus"
    labels = [dict(vars(x)) for x in generate(out, seed=3, scale=1)]
    files = json.loads((out / "files.json").read_text())
    return out, labels, files


def test_same_seed_same_corpus_other_seed_other_values(
    tmp_path: Path, corpus: tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]]
) -> None:
    out, _, _ = corpus
    again = tmp_path / "again"
    generate(again, seed=3, scale=1)
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    generate(other, seed=4, scale=1)
    assert _digest(other) != _digest(out)


def test_every_label_has_a_family_and_a_form(
    corpus: tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]],
) -> None:
    _, labels, files = corpus
    assert all(lab["family"] and lab["form"] for lab in labels)
    assert {str(lab["path"]) for lab in labels} <= set(files)
    leaks = [lab for lab in labels if lab["cls"] == "leak" and lab["designed"]]
    for form in forms.DESIGNED:
        assert any(lab["form"] == form for lab in leaks), form
    families = {lab["family"] for lab in leaks}
    assert {f.name for f in forms.FAMILIES} <= families
    not_designed = {str(lab["form"]) for lab in labels if not lab["designed"]}
    assert {"wp-config.php", "maven-settings.xml", "gitleaks-xml-multiline"} <= not_designed
    assert {lab["neg"] for lab in labels if lab["cls"] == "negative"} == set(forms.NEG_KINDS)


def test_paths_carry_no_hint_of_the_label(
    corpus: tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]],
) -> None:
    _, labels, _ = corpus
    for lab in labels:
        path = str(lab["path"])
        if path.startswith("forms/"):
            assert not any(w in path.lower() for w in ("neg", "leak", "test", "example", "fake", "placeholder")), path


def test_labels_point_at_the_values(corpus: tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]]) -> None:
    out, labels, _ = corpus
    docs = [lab for lab in labels if lab["neg"] == "doc-example" and lab["family"] == "aws"]
    assert docs
    for lab in docs:
        lines = (out / "repo" / str(lab["path"])).read_text().split("\n")
        span = "\n".join(lines[int(str(lab["line"])) - 1 : int(str(lab["end_line"]))])
        assert any(v in span for v in ("AKIAIOSFODNN7EXAMPLE", "EXAMPLEKEY", "QUtJQUlPU0ZPRE5ON0VYQU1QTEU")), span
    for lab in labels:
        if lab["form"] == "sql" and lab["cls"] == "leak":
            line = (out / "repo" / str(lab["path"])).read_text().split("\n")[int(str(lab["line"])) - 1]
            assert "PASSWORD" in line.upper() or "IDENTIFIED BY" in line.upper()


def test_off_format_values_are_one_step_off() -> None:
    g = Gen(9)

    def crc_ok(token: str) -> bool:
        body, tail = token[4:-6], token[-6:]
        return Gen._b62(zlib.crc32(body.encode()), 6) == tail

    assert crc_ok(forms.FAMILY["github"].off(g)[0][1][:4] + forms._crc_token(g, "ghp_")[4:])
    bad = forms.FAMILY["github"].off(g)[0][1]
    assert bad.startswith("ghp_") and len(bad) == 40 and not crc_ok(bad)
    aws = forms.FAMILY["aws"].off(g)[0][1]
    assert aws.startswith("AKIA") and len(aws) == 19


def test_projects_are_the_same_with_or_without_forms(
    tmp_path: Path, corpus: tuple[Path, list[dict[str, object]], dict[str, dict[str, object]]]
) -> None:
    _, labels, _ = corpus
    without = [dict(vars(x)) for x in generate(tmp_path / "b", seed=3, scale=1, forms=False)]
    assert [x for x in labels if not str(x["path"]).startswith("forms/")] == without


def _labels() -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    def lab(
        ident: str, path: str, cls: str, family: str, form: str, neg: str = "", designed: bool = True
    ) -> dict[str, object]:
        return {
            "id": ident,
            "path": path,
            "line": 2,
            "end_line": 3,
            "cls": cls,
            "kind": "k",
            "family": family,
            "form": form,
            "designed": designed,
            "neg": neg,
        }

    labels = [
        lab("a", "forms/env/1/.env", "leak", "github", "env"),
        lab("b", "forms/env/2/.env", "leak", "slack", "env"),
        lab("c", "forms/env/3/.env", "negative", "github", "env", "off-format"),
        lab("d", "forms/wp/4/wp-config.php", "leak", "databases", "wp-config.php", designed=False),
        lab("e", "app/.env", "test-credential", "databases", "env"),
    ]
    files = {str(x["path"]): {"family": x["family"], "form": x["form"], "designed": x["designed"]} for x in labels}
    files["forms/yaml/5/config.yaml"] = {"family": "aws", "form": "yaml", "designed": True}
    return labels, files


def test_evaluate_counts_by_family_form_and_negative_kind() -> None:
    labels, files = _labels()
    hits = [
        Hit("forms/env/1/.env", 2, "github-pat:leak"),
        Hit("forms/env/1/.env", 3, "generic:leak"),  # the same credential twice: one TP
        Hit("forms/env/3/.env", 2, "generic-token-assignment:leak"),  # a negative
        Hit("forms/yaml/5/config.yaml", 7, "generic:weak-default"),  # an unlabeled line
        Hit("forms/wp/4/wp-config.php", 3, "x:leak"),
    ]
    r = evaluate("secretops", hits, labels, files)
    assert (r.overall.tp, r.overall.total, r.overall.fp) == (2, 3, 2)
    assert (r.family["github"].tp, r.family["github"].fp, r.family["github"].total) == (1, 1, 1)
    assert r.family["slack"].recall == 0.0 and r.family["aws"].fp == 1
    assert (r.form["env"].tp, r.form["env"].total, r.form["env"].fp) == (1, 2, 1)
    assert r.form["yaml"].fp == 1 and r.nd_form["wp-config.php"].tp == 1 and "wp-config.php" not in r.form
    assert dict(r.fp_by_neg) == {"off-format": 1}
    assert dict(r.fp_by_class) == {"leak": 1, "weak-default": 1}
    assert r.subset["forms (designed)"].fp == 2 and r.subset["forms (not designed for)"].tp == 1
    assert [str(m["id"]) for m in r.missed] == ["b"]


def test_a_peer_that_finds_more_is_marked_and_listed() -> None:
    labels, files = _labels()
    ours = evaluate("secretops", [Hit("forms/env/1/.env", 2, "r:leak")], labels, files)
    peer = evaluate("gitleaks", [Hit("forms/env/1/.env", 2, "r"), Hit("forms/env/2/.env", 3, "r")], labels, files)
    text, losses = slice_table("family", [ours, peer], "family")
    slack = next(line for line in text.splitlines() if line.startswith("| slack "))
    assert slack.endswith(f"1.00 / 1.00 {MARK} |")
    assert losses == ["family slack (n=1): gitleaks 1 vs 0"]
    github = next(line for line in text.splitlines() if line.startswith("| github "))
    assert MARK not in github and MARK_P not in github  # as many, as precise: no mark
    noisy = evaluate(
        "secretops", [Hit("forms/env/1/.env", 2, "r:leak"), Hit("forms/env/3/.env", 2, "r:leak")], labels, files
    )
    text, losses = slice_table("family", [noisy, peer], "family")
    github = next(line for line in text.splitlines() if line.startswith("| github "))
    assert github.endswith(f"1.00 / 1.00 {MARK_P} |") and "1.00 / 0.50 |" in github


def test_score_counts_a_hit_on_a_negative_as_false_not_as_test() -> None:
    labels, _ = _labels()
    s = score("t", [Hit("forms/env/3/.env", 2, "r"), Hit("app/.env", 2, "r")], labels)
    assert (s.fp, s.neg_hit, s.test_hit, s.test_total) == (2, 1, 1, 1)
