"""Tests for servicegraph.neo4j_local: pure helpers, plus one real server start/stop."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from servicegraph import neo4j_local
from servicegraph.neo4j_local import (
    HOME_ENV,
    LocalNeo4j,
    Neo4jLocalError,
    default_instance,
    fetch,
    java_command,
    render_conf,
    start,
    status,
    stop,
)

# --------------------------------------------------------------------------- pure helpers


def _conf_dict(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_default_instance_uses_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "elsewhere"))
    inst = default_instance()
    assert inst.home == tmp_path / "elsewhere"
    assert inst.version == "5.26.30"


def test_default_instance_falls_back_to_cwd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    inst = default_instance()
    assert inst.home == tmp_path / ".neo4j"
    assert inst.lib_dir == tmp_path / ".neo4j" / "lib"
    assert inst.run_dir == tmp_path / ".neo4j" / "run"
    assert inst.state_file == tmp_path / ".neo4j" / "neo4j.json"


def test_relative_home_is_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalNeo4j(home=Path("x")).home == tmp_path / "x"


def test_render_conf(tmp_path: Path) -> None:
    inst = LocalNeo4j(home=tmp_path)
    conf = _conf_dict(render_conf(inst, 17001))
    assert conf["server.bolt.enabled"] == "true"
    assert conf["server.bolt.listen_address"] == "127.0.0.1:17001"
    assert conf["server.http.enabled"] == "false"
    assert conf["server.https.enabled"] == "false"
    assert conf["dbms.security.auth_enabled"] == "false"
    assert conf["dbms.usage_report.enabled"] == "false"
    assert conf["server.memory.pagecache.size"] == "256m"
    for name in ("data", "logs", "run", "import", "plugins"):
        path = Path(conf[f"server.directories.{name}"])
        assert path.is_absolute()
        assert path == tmp_path / "run" / name


def test_java_command(tmp_path: Path) -> None:
    inst = LocalNeo4j(home=tmp_path)
    cmd = java_command(inst, 17001, "1g")
    assert cmd[0] == "java"
    assert "-Xmx1g" in cmd
    assert "-Xms512m" in cmd
    assert cmd[cmd.index("-cp") + 1] == f"{tmp_path / 'lib'}/*"
    assert "org.neo4j.server.CommunityEntryPoint" in cmd
    assert f"--home-dir={tmp_path / 'run'}" in cmd
    assert f"--config-dir={tmp_path / 'run' / 'conf'}" in cmd
    assert cmd[-1] == "--console-mode"
    # JVM options (and the classpath value) precede the main class, program arguments follow.
    main_at = cmd.index("org.neo4j.server.CommunityEntryPoint")
    classpath_at = cmd.index("-cp") + 1
    assert classpath_at < main_at
    jvm_options = [arg for i, arg in enumerate(cmd[1:main_at], 1) if i != classpath_at]
    assert all(arg.startswith("-") for arg in jvm_options)
    assert all(arg.startswith("--") for arg in cmd[main_at + 1 :])


def test_java_command_small_heap_lowers_initial_heap(tmp_path: Path) -> None:
    cmd = java_command(LocalNeo4j(home=tmp_path), 17001, "256m", java="/opt/jdk/bin/java")
    assert cmd[0] == "/opt/jdk/bin/java"
    assert "-Xms256m" in cmd
    assert "-Xmx256m" in cmd


@pytest.mark.parametrize("heap", ["", "1x", "1.5g", "-1g"])
def test_java_command_rejects_bad_heap(tmp_path: Path, heap: str) -> None:
    with pytest.raises(Neo4jLocalError):
        java_command(LocalNeo4j(home=tmp_path), 17001, heap)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_292"', 8),
    ],
)
def test_java_major(output: str, major: int) -> None:
    assert neo4j_local._java_major(output) == major


def test_status_and_stop_when_nothing_ran(tmp_path: Path) -> None:
    inst = LocalNeo4j(home=tmp_path)
    assert status(inst) == {
        "running": False,
        "ready": False,
        "uri": None,
        "pid": None,
        "port": None,
        "home": str(tmp_path),
        "version": "5.26.30",
    }
    assert stop(inst) is False


def test_stale_state_file_is_not_running(tmp_path: Path) -> None:
    inst = LocalNeo4j(home=tmp_path)
    # pid 1 (init) is alive but certainly not a Neo4j server of this home.
    inst.state_file.write_text(json.dumps({"pid": 1, "port": 1, "uri": "bolt://127.0.0.1:1"}))
    assert status(inst)["running"] is False
    assert stop(inst) is False
    assert not inst.state_file.exists()


def test_cli_status_prints_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from servicegraph.cli import app as cli

    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    result = CliRunner().invoke(cli, ["neo4j", "status"])
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out["running"] is False
    assert out["home"] == str(tmp_path)


# --------------------------------------------------------------------------- real server


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _reuse_or_fetch(inst: LocalNeo4j) -> None:
    """Point ``inst`` at jars already fetched into the project's home, else fetch them."""
    project = default_instance()
    if (project.lib_dir / ".fetched").is_file() and project.server_jar.is_file():
        inst.home.mkdir(parents=True, exist_ok=True)
        inst.lib_dir.symlink_to(project.lib_dir, target_is_directory=True)
    fetch(inst)  # no-op when the symlinked jars are complete


@pytest.mark.neo4j
def test_real_server_start_query_stop(tmp_path: Path) -> None:
    # Never skipped: without java this must fail, so CI cannot go green without Neo4j.
    import neo4j

    inst = LocalNeo4j(home=tmp_path / "neo4j")
    _reuse_or_fetch(inst)

    uri = start(inst, heap="512m")
    try:
        assert uri.startswith("bolt://127.0.0.1:")
        port = int(uri.rsplit(":", 1)[1])
        # Idempotent: a second start returns the same server.
        assert start(inst) == uri

        with neo4j.GraphDatabase.driver(uri) as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
            assert records[0]["one"] == 1

        info = status(inst)
        assert info["running"] is True
        assert info["ready"] is True
        assert info["uri"] == uri
        assert isinstance(info["pid"], int)
    finally:
        stopped = stop(inst)

    assert stopped is True
    assert not _port_open(port)
    assert status(inst)["running"] is False
    assert not inst.state_file.exists()
    assert stop(inst) is False
