"""pgJDBC (Debian's libpostgresql-jdbc-java, with the machine's Java) opens the jdbc and
spring presets' URL with their separate user and password, and a jdbc-format URL that carries
the credentials in its query (the form `url --format jdbc` prints)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.realpg.conftest import APP_DATABASE, APP_ROLE, OWNER_PASSWORD, Layer, missing

JAR = Path("/usr/share/java/postgresql.jar")
SOURCE = Path(__file__).parent / "java" / "Connect.java"


# case -> (preset, the URL's variable, the stem of its _USERNAME/_PASSWORD variables)
CASES = {
    "jdbc": ("jdbc", "JDBC_DATABASE_URL", "JDBC_DATABASE"),
    "spring": ("spring", "SPRING_DATASOURCE_URL", "SPRING_DATASOURCE"),
    "app-pooled": ("app", "JDBC_POOLED", None),
    "app-direct": ("app", "JDBC_DIRECT", None),
}


@pytest.fixture(scope="session")
def opened(layer: Layer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Every case through one JVM (its start-up is most of the time): case -> the row."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None or not JAR.exists():
        missing("a JDK and pgJDBC (apt-get install default-jdk-headless libpostgresql-jdbc-java)")
    out = tmp_path_factory.mktemp("java")
    subprocess.run([javac, "-cp", str(JAR), "-d", str(out), str(SOURCE)], check=True, timeout=120)
    lines = []
    for preset, var, stem in CASES.values():
        written = layer.written[preset]
        user, password = (
            (written[f"{stem}_USERNAME"], written[f"{stem}_PASSWORD"]) if stem else ("", "")
        )
        lines.append(f"{local(layer, written[var])}\t{user}\t{password}")
    done = subprocess.run(
        [java, "-cp", f"{out}{os.pathsep}{JAR}", "Connect"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(zip(CASES, (row.split("|") for row in done.stdout.splitlines()), strict=True))


def local(layer: Layer, url: str) -> str:
    """The URL with host:port swapped for the local server's: pgJDBC has no hostaddr."""
    host = urlsplit(url.removeprefix("jdbc:")).hostname or ""
    assert host in (layer.direct_host, layer.pooled_host)
    head = f"jdbc:postgresql://{host}/"
    assert url.startswith(head)
    return url.replace(head, f"jdbc:postgresql://{layer.pg.address}:{layer.port_for(host)}/", 1)


@pytest.mark.parametrize(
    ("preset", "stem"), [("jdbc", "JDBC_DATABASE"), ("spring", "SPRING_DATASOURCE")]
)
def test_pgjdbc_connects_with_url_and_separate_credentials(
    layer: Layer, opened: dict[str, list[str]], preset: str, stem: str
) -> None:
    written = layer.written[preset]
    # pgJDBC tools refuse credentials inside the URL: none there.
    assert written[f"{stem}_URL"] == (
        f"jdbc:postgresql://{layer.direct_host}/neondb?sslmode=require&channelBinding=require"
    )
    assert written[f"{stem}_USERNAME"] == "neondb_owner"
    assert written[f"{stem}_PASSWORD"] == OWNER_PASSWORD
    assert opened[preset] == ["neondb_owner", "neondb", "true"]


@pytest.mark.parametrize("kind", ["pooled", "direct"])
def test_pgjdbc_reads_escaped_credentials_from_the_jdbc_format(
    opened: dict[str, list[str]], kind: str
) -> None:
    assert opened[f"app-{kind}"][:2] == [APP_ROLE, APP_DATABASE]
