from __future__ import annotations

import pytest

from agent_service.remediation.github import RevertNeedsHuman
from agent_service.remediation.github.revert import ChangedFile, Tree, TreeEntry, revert_entries, tree_of


def tree(**blobs: str) -> Tree:
    """tree(app__a_py="sha"): `__` is a slash and `_` a dot in the path."""
    paths = {name.replace("__", "/").replace("_", "."): sha for name, sha in blobs.items()}
    return {path: TreeEntry(path=path, mode="100644", type="blob", sha=sha) for path, sha in paths.items()}


def test_modified_added_and_removed_files_are_put_back() -> None:
    files = [ChangedFile(filename="app/a.py", status="modified"), ChangedFile(filename="new.txt", status="added"),
             ChangedFile(filename="gone.txt", status="removed")]
    parent = tree(app__a_py="a1", gone_txt="g1", other="o1")
    commit = tree(app__a_py="a2", new_txt="n1", other="o1")
    base = tree(app__a_py="a2", new_txt="n1", other="o9")  # base moved on an unrelated file only
    assert revert_entries(files=files, parent=parent, commit=commit, base=base) == [
        {"path": "app/a.py", "mode": "100644", "type": "blob", "sha": "a1"},
        {"path": "new.txt", "mode": "100644", "type": "blob", "sha": None},
        {"path": "gone.txt", "mode": "100644", "type": "blob", "sha": "g1"},
    ]


def test_a_rename_is_undone_on_both_paths() -> None:
    files = [ChangedFile(filename="b.py", status="renamed", previous_filename="a.py")]
    entries = revert_entries(files=files, parent=tree(a_py="x"), commit=tree(b_py="x"), base=tree(b_py="x"))
    assert entries == [{"path": "a.py", "mode": "100644", "type": "blob", "sha": "x"},
                       {"path": "b.py", "mode": "100644", "type": "blob", "sha": None}]


def test_a_file_changed_again_after_the_commit_needs_a_human() -> None:
    files = [ChangedFile(filename="cfg.yaml", status="modified")]
    with pytest.raises(RevertNeedsHuman, match="changed again after the commit: cfg.yaml"):
        revert_entries(files=files, parent=tree(cfg_yaml="1"), commit=tree(cfg_yaml="2"), base=tree(cfg_yaml="3"))


def test_an_already_reverted_file_needs_a_human_too() -> None:
    files = [ChangedFile(filename="cfg.yaml", status="modified")]
    with pytest.raises(RevertNeedsHuman):
        revert_entries(files=files, parent=tree(cfg_yaml="1"), commit=tree(cfg_yaml="2"), base=tree(cfg_yaml="1"))


def test_a_truncated_tree_or_an_empty_commit_needs_a_human() -> None:
    with pytest.raises(RevertNeedsHuman, match="too large"):
        tree_of({"sha": "t", "tree": [], "truncated": True})
    with pytest.raises(RevertNeedsHuman, match="no file"):
        revert_entries(files=[], parent={}, commit={}, base={})


def test_tree_of_keeps_blobs_and_their_modes() -> None:
    listing = {"tree": [{"path": "bin", "mode": "040000", "type": "tree", "sha": "d"},
                        {"path": "bin/run", "mode": "100755", "type": "blob", "sha": "r", "size": 3}]}
    assert tree_of(listing) == {"bin/run": TreeEntry(path="bin/run", mode="100755", type="blob", sha="r")}


def test_the_parents_mode_comes_back_with_its_content() -> None:
    files = [ChangedFile(filename="run.sh", status="modified")]
    parent = {"run.sh": TreeEntry(path="run.sh", mode="100755", type="blob", sha="old")}
    commit = {"run.sh": TreeEntry(path="run.sh", mode="100644", type="blob", sha="new")}
    assert revert_entries(files=files, parent=parent, commit=commit, base=dict(commit)) == [
        {"path": "run.sh", "mode": "100755", "type": "blob", "sha": "old"}]
