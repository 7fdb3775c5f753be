"""Fetch and run a real Neo4j Community server locally, without Docker.

Neo4j Community is published to Maven Central as ordinary jars, so a JDK (17+) and Maven are
enough to get a genuine server: :func:`fetch` lets Maven copy the runtime jars into
``<home>/lib`` and :func:`start` launches ``org.neo4j.server.CommunityEntryPoint`` on a loopback
Bolt port with authentication off. The server is detached from the caller (its own session), so
it outlives the Python process that started it; a small JSON state file records its pid and URI
so that a later :func:`status` or :func:`stop` -- possibly from another process -- can find it.

Layout of one instance (``home`` defaults to ``<cwd>/.neo4j``)::

    home/
      lib/            runtime jars fetched by Maven
      run/            the server's home: conf/, data/, logs/, run/, import/, plugins/
      neo4j.json      state file: pid, port, uri

The command line is ``servicegraph neo4j start|stop|status`` (only the URI goes to
stdout on ``start``, for the Makefile and CI).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_VERSION",
    "HOME_ENV",
    "LocalNeo4j",
    "Neo4jLocalError",
    "default_instance",
    "fetch",
    "java_command",
    "render_conf",
    "start",
    "status",
    "stop",
]

DEFAULT_VERSION = "5.26.30"
HOME_ENV = "SERVICEGRAPH_NEO4J_HOME"
MIN_JAVA_MAJOR = 17

#: Main class of the Community server; also how we recognise our process in ``/proc``.
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"

#: What Neo4j's exit codes mean, so a failed start says more than "exit code 2".
EXIT_CODES: dict[int, str] = {
    # A store lock held by another server has been seen to exit with 1 as well; the log's
    # tail printed alongside tells the cases apart.
    1: "start-up error",
    2: "store lock held: another Neo4j process is using this data directory",
    3: "invalid configuration",
}

_LOG_TAIL_LINES = 40
_READY_MARKER = "Started."
# Bolt handshake: magic preamble, then four version proposals (big-endian
# [unused, range, minor, major]): 5.4 down to 5.0, then 4.4. Any 5.x server speaks one.
_BOLT_MAGIC = b"\x60\x60\xb0\x17"
_BOLT_PROPOSALS = b"\x00\x04\x04\x05" + b"\x00\x00\x04\x04" + b"\x00" * 8

# Popen objects of servers started by this process. Holding them lets us reap our own children
# (a SIGTERMed child stays a zombie -- and looks alive to ``kill(pid, 0)`` -- until reaped) and
# avoids ``ResourceWarning: subprocess is still running`` when the object would be collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


#: Neo4j caps one transaction's memory at 70 % of the heap, and a push is one
#: transaction (written whole or not at all): with 1 GiB a sync of ~190k items ran
#: out; with 2 GiB it passes.
DEFAULT_HEAP = "2g"


class Neo4jLocalError(RuntimeError):
    """Raised when the local Neo4j cannot be fetched, started or stopped."""


def _project_home() -> Path:
    """Return the instance home: ``$SERVICEGRAPH_NEO4J_HOME`` or ``<cwd>/.neo4j``."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    return Path.cwd() / ".neo4j"


@dataclass(frozen=True)
class LocalNeo4j:
    """Description of one local Neo4j instance (nothing is touched on construction).

    Parameters
    ----------
    home
        Directory holding the jars, the server home and the state file. Made absolute on
        construction, because ``neo4j.conf`` needs absolute directories.
    version
        Neo4j version fetched from Maven Central.
    """

    home: Path = field(default_factory=_project_home)
    version: str = DEFAULT_VERSION

    def __post_init__(self) -> None:
        # frozen: bypass __setattr__ once to normalise the path.
        object.__setattr__(self, "home", Path(self.home).expanduser().absolute())

    @property
    def lib_dir(self) -> Path:
        """Directory of the server's runtime jars."""
        return self.home / "lib"

    @property
    def run_dir(self) -> Path:
        """The server's own home directory (``--home-dir``)."""
        return self.home / "run"

    @property
    def conf_dir(self) -> Path:
        """Directory holding ``neo4j.conf``."""
        return self.run_dir / "conf"

    @property
    def conf_file(self) -> Path:
        """The generated ``neo4j.conf``."""
        return self.conf_dir / "neo4j.conf"

    @property
    def data_dir(self) -> Path:
        """Database files."""
        return self.run_dir / "data"

    @property
    def logs_dir(self) -> Path:
        """Neo4j's log directory (also holds ``console.log``)."""
        return self.run_dir / "logs"

    @property
    def console_log(self) -> Path:
        """Captured stdout/stderr of the server process."""
        return self.logs_dir / "console.log"

    @property
    def state_file(self) -> Path:
        """JSON file recording pid, port and URI of the running server."""
        return self.home / "neo4j.json"

    @property
    def server_jar(self) -> Path:
        """The jar whose presence marks a completed fetch of ``version``."""
        return self.lib_dir / f"neo4j-{self.version}.jar"

    def server_dirs(self) -> dict[str, Path]:
        """Return the ``server.directories.*`` settings, keyed by setting suffix."""
        return {
            "data": self.data_dir,
            "logs": self.logs_dir,
            "run": self.run_dir / "run",
            "import": self.run_dir / "import",
            "plugins": self.run_dir / "plugins",
        }


def default_instance() -> LocalNeo4j:
    """Return the instance in ``$SERVICEGRAPH_NEO4J_HOME`` or else ``<cwd>/.neo4j``.

    Returns
    -------
    LocalNeo4j
        The project's default local instance.
    """
    return LocalNeo4j(home=_project_home())


# --------------------------------------------------------------------------- pure helpers


def render_conf(inst: LocalNeo4j, port: int) -> str:
    """Render ``neo4j.conf`` for ``inst`` listening for Bolt on ``127.0.0.1:port``.

    Parameters
    ----------
    inst
        The instance; its directories become ``server.directories.*``.
    port
        Bolt port on the loopback interface.

    Returns
    -------
    str
        The file's text. HTTP(S) is off and authentication disabled: the server is reachable
        only from this machine and exists to back tests and local use.
    """
    lines = [
        "# Generated by servicegraph.neo4j_local; rewritten on every start.",
        *(f"server.directories.{name}={path}" for name, path in inst.server_dirs().items()),
        "server.bolt.enabled=true",
        f"server.bolt.listen_address=127.0.0.1:{port}",
        # The advertised address is what routing drivers (neo4j://) are told to reconnect to.
        f"server.bolt.advertised_address=127.0.0.1:{port}",
        "server.http.enabled=false",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=false",
        "server.memory.pagecache.size=256m",
        "dbms.usage_report.enabled=false",
    ]
    return "\n".join(lines) + "\n"


_SIZE_RE = re.compile(r"^(\d+)([kKmMgG]?)$")
_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _heap_bytes(heap: str) -> int:
    """Parse a JVM size such as ``1g`` or ``512m`` into bytes."""
    match = _SIZE_RE.match(heap)
    if match is None:
        raise Neo4jLocalError(f"invalid heap size {heap!r}; expected e.g. '512m' or '1g'")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def java_command(inst: LocalNeo4j, port: int, heap: str = DEFAULT_HEAP, *,
                 java: str = "java") -> list[str]:
    """Build the command line that runs the server in the foreground.

    Parameters
    ----------
    inst
        The instance to run.
    port
        Bolt port (only used to keep the signature symmetric with :func:`render_conf`; the
        port itself lives in ``neo4j.conf``).
    heap
        Maximum heap, JVM syntax (``512m``, ``1g``).
    java
        The ``java`` executable.

    Returns
    -------
    list[str]
        The argv. JVM options mirror those of Neo4j's own launcher script.
    """
    del port  # the conf file carries it; see docstring
    # The initial heap must not exceed the maximum, or the JVM refuses to start.
    initial = "512m" if _heap_bytes(heap) >= _heap_bytes("512m") else heap
    return [
        java,
        f"-Xms{initial}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+UnlockExperimentalVMOptions",
        "-XX:+TrustFinalNonStaticFields",
        "-XX:+DisableExplicitGC",
        "-Djdk.nio.maxCachedBufferSize=1024",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Dlog4j2.disable.jmx=true",
        "-Dfile.encoding=UTF-8",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED",
        "-cp",
        # A classpath wildcard is expanded by the JVM itself, so no shell is needed.
        f"{inst.lib_dir}{os.sep}*",
        ENTRY_POINT,
        f"--home-dir={inst.run_dir}",
        f"--config-dir={inst.conf_dir}",
        "--console-mode",
    ]


def _describe_exit(code: int) -> str:
    """Explain a server exit code (negative codes are signals, as in :mod:`subprocess`)."""
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return EXIT_CODES.get(code, "unexpected exit")


# --------------------------------------------------------------------------- tool checks


def _java_executable() -> str:
    """Locate ``java``, preferring ``$JAVA_HOME/bin/java`` like Neo4j's own launcher."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise Neo4jLocalError(
            f"java not found: install a JDK {MIN_JAVA_MAJOR} or 21 (e.g. openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )
    return found


def _java_major(version_output: str) -> int:
    """Extract the major version from ``java -version`` output (``1.8`` counts as 8)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if match is None:
        raise Neo4jLocalError(f"cannot read the Java version from: {version_output.strip()!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        major = int(match.group(2))
    return major


def _check_java() -> str:
    """Return the ``java`` executable after checking it is at least Java 17."""
    java = _java_executable()
    # `java -version` writes to stderr.
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    major = _java_major(proc.stderr + proc.stdout)
    if major < MIN_JAVA_MAJOR:
        raise Neo4jLocalError(
            f"{java} is Java {major}; Neo4j 5 needs Java {MIN_JAVA_MAJOR} or 21 "
            "(set JAVA_HOME to a newer JDK)"
        )
    return java


def _mvn_executable() -> str:
    found = shutil.which("mvn")
    if found is None:
        raise Neo4jLocalError(
            "mvn not found: Maven is needed once to fetch the Neo4j jars from Maven Central "
            "(e.g. apt-get install maven)"
        )
    return found


# --------------------------------------------------------------------------- fetch


def _pom_path() -> Path:
    """The bundled pom whose only dependency is ``org.neo4j:neo4j``."""
    return Path(__file__).with_name("neo4j_pom.xml")


def _fetch_marker(inst: LocalNeo4j) -> Path:
    return inst.lib_dir / ".fetched"


def _is_fetched(inst: LocalNeo4j) -> bool:
    marker = _fetch_marker(inst)
    # The marker is written only after Maven succeeded, so an interrupted copy is redone.
    return (
        inst.server_jar.is_file()
        and marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == inst.version
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (serialises concurrent fetch/start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch(inst: LocalNeo4j) -> Path:
    """Download Neo4j's runtime jars into ``inst.lib_dir`` (idempotent).

    Parameters
    ----------
    inst
        The instance whose ``lib`` directory is filled.

    Returns
    -------
    Path
        The ``lib`` directory.

    Raises
    ------
    Neo4jLocalError
        If Maven is missing or fails; the message carries Maven's output.
    """
    if _is_fetched(inst):
        return inst.lib_dir
    with _locked(inst.home / ".lock"):
        if _is_fetched(inst):  # another process fetched while we waited for the lock
            return inst.lib_dir
        mvn = _mvn_executable()
        # Copy into a scratch directory and swap it in, so lib/ never mixes jars of two
        # versions (both would be on the classpath) or holds a half-finished copy.
        partial = inst.home / "lib.partial"
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(_pom_path()),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
            # A command-line property overrides the pom's default version.
            f"-Dneo4j.version={inst.version}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not (partial / inst.server_jar.name).is_file():
            shutil.rmtree(partial, ignore_errors=True)
            output = (proc.stdout + proc.stderr).strip()
            raise Neo4jLocalError(
                f"mvn failed to fetch Neo4j {inst.version} (exit code {proc.returncode}):\n{output}"
            )
        (partial / ".fetched").write_text(inst.version + "\n", encoding="utf-8")
        shutil.rmtree(inst.lib_dir, ignore_errors=True)
        partial.rename(inst.lib_dir)
    return inst.lib_dir


# --------------------------------------------------------------------------- process state


def _read_state(inst: LocalNeo4j) -> dict[str, object] | None:
    try:
        data = json.loads(inst.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_state(inst: LocalNeo4j, state: dict[str, object]) -> None:
    # Write-then-rename so a concurrent reader never sees half a file.
    tmp = inst.state_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(inst.state_file)


def _state_int(state: dict[str, object] | None, key: str) -> int | None:
    value = None if state is None else state.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_LISTEN_RE = re.compile(r"^server\.bolt\.listen_address=.*:(\d+)\s*$", re.MULTILINE)


def _recorded(inst: LocalNeo4j) -> tuple[int | None, int | None]:
    """Return ``(pid, port)`` of the instance's server as far as the files on disk say.

    The state file is authoritative. Without it (deleted, or a crash between launch and
    write) fall back to the pid file Neo4j itself keeps while running and the port in the
    generated conf, so a server is never orphaned just because our bookkeeping was lost.
    """
    state = _read_state(inst)
    pid = _state_int(state, "pid")
    port = _state_int(state, "port")
    if pid is not None:
        return pid, port
    try:
        pid = int((inst.server_dirs()["run"] / "neo4j.pid").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None, None
    try:
        match = _LISTEN_RE.search(inst.conf_file.read_text(encoding="utf-8"))
    except OSError:
        match = None
    return pid, int(match.group(1)) if match else None


def _pid_alive(pid: int) -> bool:
    """Tell whether ``pid`` is a live (non-zombie) process."""
    child = _CHILDREN.get(pid)
    if child is not None:
        # Our own child: poll() reaps it, which kill(pid, 0) could not tell from a zombie.
        if child.poll() is None:
            return True
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, but belongs to someone else
    # Zombies still accept signal 0; /proc tells them apart where it exists.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _is_our_server(pid: int, inst: LocalNeo4j) -> bool:
    """Tell whether ``pid`` is alive and is the Neo4j server of ``inst``.

    The second check guards against pid reuse after a reboot or crash: a stale state file must
    not make us report -- or SIGTERM -- an unrelated process.
    """
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): liveness is all we can check
    args = [arg.decode(errors="replace") for arg in cmdline]
    return ENTRY_POINT in args and f"--home-dir={inst.run_dir}" in args


def _bolt_answers(port: int, timeout: float = 2.0) -> bool:
    """Perform a Bolt handshake on ``127.0.0.1:port``; True if a version was agreed."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(_BOLT_MAGIC + _BOLT_PROPOSALS)
            reply = b""
            while len(reply) < 4:
                chunk = sock.recv(4 - len(reply))
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    return reply != b"\x00\x00\x00\x00"


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _uri(port: int) -> str:
    return f"bolt://127.0.0.1:{port}"


# --------------------------------------------------------------------------- public API


def status(inst: LocalNeo4j) -> dict[str, object]:
    """Report whether the instance's server is running.

    Parameters
    ----------
    inst
        The instance to inspect.

    Returns
    -------
    dict[str, object]
        ``running`` (the recorded process is alive), ``ready`` (it answers a Bolt handshake),
        ``uri``, ``pid`` and ``port`` (``None`` when not running), ``home`` and ``version``.
    """
    pid, port = _recorded(inst)
    running = pid is not None and _is_our_server(pid, inst)
    return {
        "running": running,
        "ready": running and port is not None and _bolt_answers(port),
        "uri": _uri(port) if running and port is not None else None,
        "pid": pid if running else None,
        "port": port if running else None,
        "home": str(inst.home),
        "version": inst.version,
    }


def start(
    inst: LocalNeo4j,
    *,
    port: int | None = None,
    heap: str = DEFAULT_HEAP,
    timeout: float = 120.0,
) -> str:
    """Start the server (fetching it first if needed) and wait until it serves Bolt.

    Idempotent: if the recorded server is alive and answers Bolt, its URI is returned and
    ``port``/``heap`` are ignored.

    Parameters
    ----------
    inst
        The instance to start.
    port
        Loopback Bolt port; a free one is picked when ``None``.
    heap
        Maximum JVM heap (``512m``, ``1g``...).
    timeout
        Seconds to wait for readiness before giving up (and killing the server).

    Returns
    -------
    str
        The Bolt URI, ``bolt://127.0.0.1:<port>``.

    Raises
    ------
    Neo4jLocalError
        If Java/Maven are missing, the port is taken, or the server exits or does not become
        ready in time; the message includes the exit code's meaning and the log's tail.
    """
    _heap_bytes(heap)  # validate before doing anything slow
    # Serialise concurrent starts (say, `make` and a test session) so only one server is
    # launched on this home; the loser then finds the winner's state file and reuses it.
    with _locked(inst.home / ".start.lock"):
        return _start_locked(inst, port=port, heap=heap, timeout=timeout)


def _start_locked(inst: LocalNeo4j, *, port: int | None, heap: str, timeout: float) -> str:
    pid, old_port = _recorded(inst)
    if pid is not None and _is_our_server(pid, inst):
        if old_port is None:
            raise Neo4jLocalError(
                f"Neo4j (pid {pid}) is running but {inst.state_file} has no port; stop it first"
            )
        if not _bolt_answers(old_port):
            # Alive but not answering yet: still starting; wait for it rather than launch a
            # second server that would only fail on the store lock.
            _wait_ready(inst, pid, old_port, timeout)
        return _uri(old_port)
    inst.state_file.unlink(missing_ok=True)  # stale: the recorded process is gone

    java = _check_java()
    fetch(inst)
    if port is None:
        port = _free_port()
    elif _port_in_use(port):
        raise Neo4jLocalError(f"port 127.0.0.1:{port} is already in use")

    for directory in (inst.conf_dir, *inst.server_dirs().values()):
        directory.mkdir(parents=True, exist_ok=True)
    inst.conf_file.write_text(render_conf(inst, port), encoding="utf-8")

    cmd = java_command(inst, port, heap, java=java)
    # Truncate: readiness is detected by the "Started." line, which must come from this run.
    with inst.console_log.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=inst.run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: no SIGINT/SIGHUP from the caller's terminal, survives the caller.
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    # Record the pid at once so stop() can find a server that is still starting.
    _write_state(
        inst,
        {"pid": proc.pid, "port": port, "uri": _uri(port), "version": inst.version},
    )
    try:
        _wait_ready(inst, proc.pid, port, timeout)
    except Neo4jLocalError:
        # Only this pid: stop() could fall back to a pid file of some other server.
        _terminate(proc.pid, 10.0)
        inst.state_file.unlink(missing_ok=True)
        raise
    return _uri(port)


def _wait_ready(inst: LocalNeo4j, pid: int, port: int, timeout: float) -> None:
    """Block until ``pid`` logged "Started." and answers a Bolt handshake on ``port``."""
    deadline = time.monotonic() + timeout
    while True:
        child = _CHILDREN.get(pid)
        code = child.poll() if child is not None else None
        if code is not None or not _pid_alive(pid):
            inst.state_file.unlink(missing_ok=True)
            meaning = _describe_exit(code) if code is not None else "exited"
            raise Neo4jLocalError(
                f"Neo4j exited during start-up (exit code {code}: {meaning}); "
                f"last lines of {inst.console_log}:\n{_tail(inst.console_log)}"
            )
        # Bolt accepts connections a little before the system database is up; "Started." is
        # logged once databases are available, so require both before handing out the URI.
        if _log_says_started(inst) and _bolt_answers(port):
            return
        if time.monotonic() >= deadline:
            raise Neo4jLocalError(
                f"Neo4j did not become ready on port {port} within {timeout:.0f} s; "
                f"last lines of {inst.console_log}:\n{_tail(inst.console_log)}"
            )
        time.sleep(0.25)


def _log_says_started(inst: LocalNeo4j) -> bool:
    try:
        text = inst.console_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.rstrip().endswith(_READY_MARKER) for line in text.splitlines())


def stop(inst: LocalNeo4j, timeout: float = 60.0) -> bool:
    """Stop the server: SIGTERM, wait up to ``timeout`` seconds, then SIGKILL.

    Parameters
    ----------
    inst
        The instance to stop.
    timeout
        Seconds to wait for a clean shutdown (Neo4j checkpoints on SIGTERM).

    Returns
    -------
    bool
        True if a running server was stopped, False if nothing was running.
    """
    pid, _ = _recorded(inst)
    try:
        if pid is None or not _is_our_server(pid, inst):
            return False
        _terminate(pid, timeout)
        return True
    finally:
        inst.state_file.unlink(missing_ok=True)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, SIGKILL it if still alive after ``timeout`` seconds."""
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        _signal(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10.0):
            raise Neo4jLocalError(f"Neo4j (pid {pid}) survived SIGKILL")


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited in between
        os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    _CHILDREN.pop(pid, None)
    return True


# --------------------------------------------------------------------------- command line
