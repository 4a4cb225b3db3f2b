from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from neon_sync.errors import ConfigError, ProviderError
from neon_sync.providers import dotenv as provider_module
from neon_sync.providers.base import Context, Current, Desired, Scope, Write
from neon_sync.providers.dotenv import DotenvProvider, create
from neon_sync.secret import Secret

BASH = shutil.which("bash")


def make(base: Path) -> DotenvProvider:
    return create(Context(env={}, base_dir=base))


def scope_of(base: Path, path: str = ".env") -> Scope:
    return make(base).scope("local", {"path": path})


def desired(key: str, value: str) -> Desired:
    # A masked form of its own: arbitrary test values must not join the process-wide set
    # of secrets that output is scrubbed of.
    return Desired(key=key, value=Secret(value, masked="****"), secret=True, branch="main")


def writes(**changes: str | None) -> list[Write]:
    out = []
    for key, value in changes.items():
        if value is None:
            out.append(Write("delete", key, None, Current(key, "old")))
        else:
            out.append(Write("update", key, desired(key, value), Current(key, "old")))
    return out


def apply_to(path: Path, content: bytes | None, **changes: str | None) -> bytes:
    if content is not None:
        path.write_bytes(content)
    provider = make(path.parent)
    provider.apply(provider.scope("t", {"path": path.name}), writes(**changes))
    return path.read_bytes()


# --- scope and check_key -------------------------------------------------------------------


def test_scope_keeps_the_path_relative_so_state_records_hold_no_absolute_path(
    tmp_path: Path,
) -> None:
    scope = make(tmp_path).scope("alice", {"path": "envs/../.env.alice"})
    assert scope == Scope("alice", "envs/../.env.alice")
    assert scope.options == {"path": "envs/../.env.alice"}


def test_scope_keeps_an_absolute_path(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / ".env"
    scope = make(tmp_path / "base").scope("t", {"path": str(other)})
    assert scope.options["path"] == str(other)


def test_scope_does_no_io(tmp_path: Path) -> None:
    make(tmp_path).scope("t", {"path": "missing/folder/.env"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options", [{}, {"path": ""}, {"path": 3}, {"path": ["a"]}])
def test_scope_rejects_missing_or_non_string_path(
    tmp_path: Path, options: dict[str, object]
) -> None:
    with pytest.raises(ConfigError, match="'path' must be a non-empty string"):
        make(tmp_path).scope("t", options)


def test_module_declares_its_options() -> None:
    assert frozenset({"path"}) == provider_module.OPTIONS


@pytest.mark.parametrize("key", ["DATABASE_URL", "_x", "a1", "A"])
def test_check_key_accepts_env_var_names(tmp_path: Path, key: str) -> None:
    make(tmp_path).check_key(scope_of(tmp_path), desired(key, "v"))


@pytest.mark.parametrize("key", ["1ABC", "MY-KEY", "A B", "", "É", "A.B"])
def test_check_key_rejects_names_a_shell_cannot_hold(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=r"not a valid environment variable name.*not starting"):
        make(tmp_path).check_key(scope_of(tmp_path), desired(key, "v"))


def test_check_key_rejects_nul_without_showing_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NUL") as info:
        make(tmp_path).check_key(scope_of(tmp_path), desired("K", "sekret\0pass"))
    assert "sekret" not in str(info.value)


# --- read ------------------------------------------------------------------------------------


def test_read_missing_file_and_missing_folder_are_empty(tmp_path: Path) -> None:
    provider = make(tmp_path)
    a, b = scope_of(tmp_path), scope_of(tmp_path, "no/such/.env")
    assert provider.read([a, b]) == {a: {}, b: {}}


def test_read_returns_what_dotenv_returns(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(
        b"# comment\nexport A=1\nB='two words'\r\nC=\"x\\ny\"\nA=last\nBARE\nD=${A}/z\n"
    )
    scope = scope_of(tmp_path)
    found = make(tmp_path).read([scope])[scope]
    assert found == {
        "A": Current("A", "last"),
        "B": Current("B", "two words"),
        "C": Current("C", "x\ny"),
        "D": Current("D", "last/z"),
    }
    assert all(current.secret is None for current in found.values())  # one kind of value


def test_read_of_a_folder_fails(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    with pytest.raises(ProviderError, match="is a folder"):
        make(tmp_path).read([scope_of(tmp_path)])


def test_read_of_non_utf8_file_fails(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ProviderError, match="not UTF-8"):
        make(tmp_path).read([scope_of(tmp_path)])


# --- apply: file edits -----------------------------------------------------------------------

EXAMPLE = (
    b"# Database settings\n"
    b"\n"
    b"export DATABASE_URL=postgres://old # set by hand\n"
    b"OTHER='kept   as is'  \n"
    b"  # indented comment\n"
    b'QUOTED="a\\"b"\n'
    b"\n"
    b"LAST=x"
)


def test_update_replaces_only_the_keys_line(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", EXAMPLE, DATABASE_URL="postgres://new")
    assert out == EXAMPLE.replace(b"postgres://old", b"postgres://new")


def test_update_quotes_values_that_need_it(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", EXAMPLE, OTHER="it's $HOME", LAST="a b")
    assert out == EXAMPLE.replace(b"'kept   as is'", b'"it\'s $HOME"').replace(
        b"LAST=x", b"LAST='a b'"
    )


def test_update_keeps_indent_and_inline_comment(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", b'  K="v"#note\nJ= # empty\n', K="w", J="z")
    assert out == b"  K=w #note\nJ=z # empty\n"


def test_update_without_trailing_newline_keeps_it_missing(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", EXAMPLE, LAST="y")
    assert out == EXAMPLE[:-1] + b"y"


def test_create_appends_after_adding_missing_final_newline(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", EXAMPLE, NEW1="1", NEW2="2")
    assert out == EXAMPLE + b"\nNEW1=1\nNEW2=2\n"


def test_create_in_empty_file(tmp_path: Path) -> None:
    assert apply_to(tmp_path / ".env", b"", A="1") == b"A=1\n"


def test_delete_removes_the_line_and_nothing_else(tmp_path: Path) -> None:
    out = apply_to(tmp_path / ".env", EXAMPLE, DATABASE_URL=None, LAST=None)
    assert out == (
        b'# Database settings\n\nOTHER=\'kept   as is\'  \n  # indented comment\nQUOTED="a\\"b"\n\n'
    )


def test_delete_of_absent_key_leaves_file_unchanged(tmp_path: Path) -> None:
    assert apply_to(tmp_path / ".env", EXAMPLE, NOPE=None) == EXAMPLE


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    crlf = b"# c\r\nA=1\r\nB='x'\r\n"
    out = apply_to(tmp_path / ".env", crlf, A="2", C="3")
    assert out == b"# c\r\nA=2\r\nB='x'\r\nC=3\r\n"


def test_multiline_value_is_one_entry(tmp_path: Path) -> None:
    content = b'A=1\nCERT="line1\nline2\n# not a comment\nB=not a key"\nB=2\n'
    out = apply_to(tmp_path / ".env", content, CERT="short")
    assert out == b"A=1\nCERT=short\nB=2\n"
    assert apply_to(tmp_path / ".env", content, CERT=None) == b"A=1\nB=2\n"


def test_duplicate_key_updates_the_last_and_delete_removes_all(tmp_path: Path) -> None:
    content = b"K=first\nX=${K}\nK=second\n"
    out = apply_to(tmp_path / ".env", content, K="third")
    assert out == b"K=first\nX=${K}\nK=third\n"
    assert dotenv_values(tmp_path / ".env") == {"K": "third", "X": "first"}
    assert apply_to(tmp_path / ".env", content, K=None) == b"X=${K}\n"


def test_bare_key_line_is_given_the_value_in_place(tmp_path: Path) -> None:
    assert apply_to(tmp_path / ".env", b"A=1\nK # todo\nB=2\n", K="v") == (
        b"A=1\nK=v # todo\nB=2\n"
    )


def test_unparsable_lines_are_left_alone(tmp_path: Path) -> None:
    content = b"A=1\nthis is = not valid\nB='open\n"
    assert apply_to(tmp_path / ".env", content, A="2") == content.replace(b"A=1", b"A=2")


def test_edit_that_a_malformed_neighbour_would_swallow_is_refused(tmp_path: Path) -> None:
    # dotenv reads `'` + newline + `K='` as one quoted key name, so appending K='a b' after a
    # stray quote would not define K: nothing is written.
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\n'\n")
    with pytest.raises(ProviderError, match=r"malformed near K.*fix that part") as info:
        apply_to(path, None, K="a b")
    assert info.value.done == {}
    assert path.read_bytes() == b"A=1\n'\n"
    assert apply_to(path, None, K="bare") == b"A=1\n'\nK=bare\n"


def test_byte_order_mark_is_kept(tmp_path: Path) -> None:
    content = "\ufeffA=1\n".encode()
    assert apply_to(tmp_path / ".env", content, A="2") == "\ufeffA=2\n".encode()


def test_apply_returns_no_change_markers(tmp_path: Path) -> None:
    provider = make(tmp_path)
    result = provider.apply(scope_of(tmp_path), writes(A="1", B=None))
    assert result == {"A": None, "B": None}


def test_symlinked_file_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real.env").write_bytes(b"A=1\n")
    (tmp_path / ".env").symlink_to("real.env")
    apply_to(tmp_path / ".env", None, A="2")
    assert (tmp_path / ".env").is_symlink()
    assert (tmp_path / "real.env").read_bytes() == b"A=2\n"


# --- apply: file handling --------------------------------------------------------------------


def test_new_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        apply_to(tmp_path / ".env", None, A="1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\n")
    path.chmod(0o640)
    apply_to(path, None, A="2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_missing_folder_fails_and_writes_nothing(tmp_path: Path) -> None:
    provider = make(tmp_path)
    scope = provider.scope("alice", {"path": "nope/.env"})
    with pytest.raises(ProviderError, match=r"folder .*nope does not exist.*path in alice") as info:
        provider.apply(scope, writes(A="secret-value"))
    assert info.value.done == {}
    assert "secret-value" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_failed_replace_leaves_file_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\n")

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ProviderError, match=r"cannot write .*Permission denied") as info:
        apply_to(path, None, A="2")
    assert info.value.done == {}
    assert path.read_bytes() == b"A=1\n"
    assert [p.name for p in tmp_path.iterdir() if p.name != ".neon-sync"] == [".env"]  # no temp


def test_non_utf8_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=\xff\n")
    with pytest.raises(ProviderError, match="not UTF-8"):
        apply_to(path, None, B="1")
    assert path.read_bytes() == b"A=\xff\n"


# --- value encoding: properties --------------------------------------------------------------

# Text that stresses the quoting: shell and dotenv syntax, whitespace, unicode.
TRICKY = st.lists(
    st.one_of(
        st.sampled_from(list("#'\"$`\\{}:- =\n\r\t!~*;&|<>()[]?")),
        st.sampled_from(["${A}", "${HOME}", "${X:-d}", "$HOME", "\\'", "\\\\", "\\n", "é", "😀"]),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=16,
).map("".join)


def _write_values(folder: Path, values: Mapping[str, str], base: bytes) -> Path:
    path = folder / ".env"
    path.write_bytes(base)
    provider = make(folder)
    provider.apply(provider.scope("t", {"path": ".env"}), writes(**values))
    return path


SURROUNDINGS = b"# head\nexport BEFORE='a b' # c\nKEY=old\nAFTER=\"x\\ny\"\n"


@settings(max_examples=300, deadline=None)
@given(value=TRICKY)
def test_dotenv_reads_back_exactly_what_was_written(value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write_values(Path(folder), {"KEY": value, "NEW": value}, SURROUNDINGS)
        assert dotenv_values(path) == {"BEFORE": "a b", "KEY": value, "AFTER": "x\ny", "NEW": value}
        out = path.read_bytes()
        # Only the KEY line changed: everything around it is byte for byte the same.
        assert out.startswith(b"# head\nexport BEFORE='a b' # c\nKEY=")
        assert out.split(b"\nAFTER=", 1)[1].startswith(b'"x\\ny"\nNEW=')
        assert out.count(b"\n") == SURROUNDINGS.count(b"\n") + 1  # one line per entry


def bash_can_hold(value: str) -> bool:
    """Values no encoding can make both python-dotenv and bash read the same: line breaks and
    NUL; a ${...} dotenv would expand (written as ${:-$}, which bash rejects); and `$` or a
    backtick in a value that must be double-quoted (it holds ' or a backslash dotenv would
    unescape), since bash expands them there and dotenv does not honour \\$."""
    if re.search(r"[\0\r\n]", value) or re.search(r"\$\{[^}:]*(?::-[^}]*)?\}", value):
        return False
    double_quoted = "'" in value or "\\\\" in value or value.endswith("\\")
    return not (double_quoted and re.search(r"[$`]", value))


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@settings(max_examples=40, deadline=None)
@given(values=st.lists(TRICKY.filter(bash_can_hold), min_size=1, max_size=10))
def test_bash_source_reads_back_the_same(values: list[str]) -> None:
    keys = {f"V{i}": value for i, value in enumerate(values)}
    with tempfile.TemporaryDirectory() as folder:
        path = _write_values(Path(folder), keys, b"")
        script = 'set -a; source "$1"; printf "%s\\0" ' + " ".join(f'"${k}"' for k in keys)
        run = subprocess.run(
            [BASH or "bash", "-c", script, "bash", str(path)],
            capture_output=True,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            check=True,
        )
    assert run.stderr == b""
    assert run.stdout.decode("utf-8").split("\0")[:-1] == values


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("postgres://u:p@h.neon.tech/db", "K=postgres://u:p@h.neon.tech/db"),
        ("postgres://h/db?sslmode=require&x=1", "K='postgres://h/db?sslmode=require&x=1'"),
        ("", "K="),
        ("a b #c", "K='a b #c'"),
        ("$HOME", "K='$HOME'"),
        ("it's", 'K="it\'s"'),
        ("a\nb", 'K="a\\nb"'),
        ("${HOME}", "K='${:-$}{HOME}'"),
        ("${", "K='${'"),
    ],
)
def test_value_encoding_prefers_bare_then_single_quotes(value: str, line: str) -> None:
    assert f"K={provider_module.encode(value)}" == line
