"""What the host checks read: kernel configs, ``ss`` listings, dockerd flags and daemon.json."""

from __future__ import annotations

import pytest

from fixtures.host import daemon_process, daemon_settings, kernel_config

CONFIG = """
#
# Automatically generated file; DO NOT EDIT.
CONFIG_NAMESPACES=y
CONFIG_OVERLAY_FS=m
# CONFIG_VETH is not set
CONFIG_LOCALVERSION="-fc"
"""


def test_kernel_config_states():
    config = kernel_config.KernelConfig("/proc/config.gz", kernel_config.parse(CONFIG))
    assert [config.state(n) for n in ("NAMESPACES", "OVERLAY_FS", "VETH", "BRIDGE")] == \
        ["y", "m", "missing", "missing"]
    assert config.enabled("OVERLAY_FS") and not config.enabled("VETH")
    assert config.lines(["VETH", "BRIDGE"]) == {"CONFIG_VETH": "n", "CONFIG_BRIDGE": "(not set)"}
    assert config.options["LOCALVERSION"] == "-fc"


def test_kernel_config_candidates_follow_check_config():
    assert kernel_config.candidates("6.1.0") == ["/proc/config.gz", "/boot/config-6.1.0",
                                                 "/usr/src/linux-6.1.0/.config", "/usr/src/linux/.config"]


def test_unreadable_config_says_where_it_looked():
    reason = kernel_config.Unreadable(("/proc/config.gz: absent", "/boot/config-6.1.0: absent")).reason()
    assert reason == "no kernel config readable (/proc/config.gz: absent; /boot/config-6.1.0: absent)"


UNIX = ('u_str LISTEN 0 4096 /var/run/docker.sock 7922 * 0 users:(("dockerd",pid=4873,fd=7))\n'
        'u_str LISTEN 0 4096 /run/containerd.sock 7935 * 0 users:(("containerd",pid=4880,fd=9))\n'
        'u_str ESTAB 0 0 * 1 * 2 users:(("x",pid=1,fd=1))\n')
TCP = ('LISTEN 0 4096 127.0.0.1:2375 0.0.0.0:* users:(("dockerd",pid=4873,fd=12))\n'
       'LISTEN 0 128 0.0.0.0:2024 0.0.0.0:*\n')


def test_ss_listings_name_the_listening_process():
    unix = daemon_process.parse_ss(UNIX, "unix")
    tcp = daemon_process.parse_ss(TCP, "tcp")
    assert unix == [daemon_process.Listener("unix", "/var/run/docker.sock", "dockerd", 4873),
                    daemon_process.Listener("unix", "/run/containerd.sock", "containerd", 4880)]
    assert tcp == [daemon_process.Listener("tcp", "127.0.0.1:2375", "dockerd", 4873)]


@pytest.mark.parametrize("url, endpoint", [
    ("unix:///var/run/docker.sock", ("unix", "/var/run/docker.sock")),
    ("ssh://ops@build-7", ("unix", "/var/run/docker.sock")),
    ("tcp://10.0.0.5:2376", ("tcp", "2376")),
    ("tcp://10.0.0.5", ("tcp", "2375")),
])
def test_engine_endpoint(url, endpoint):
    assert daemon_process.engine_endpoint(url) == endpoint


def test_dockerd_process_is_recognised_by_name_or_argv():
    assert daemon_process.EngineProcess(1, "dockerd", ("dockerd",)).is_dockerd
    assert daemon_process.EngineProcess(1, "exe", ("/usr/sbin/dockerd", "-H", "fd://")).is_dockerd
    assert not daemon_process.EngineProcess(1, "python3", ("python3", "-m", "selftests.faulty_engine")).is_dockerd


def test_dockerd_flags_parse_in_every_spelling():
    flags = daemon_settings.parse_flags(["dockerd", "-H", "unix:///s.sock", "--host=tcp://0.0.0.0:2375",
                                         "--live-restore", "--icc=false", "--userland-proxy", "false",
                                         "--log-opt", "max-size=10m", "-D", "-g", "/data"])
    assert flags["host"] == ["unix:///s.sock", "tcp://0.0.0.0:2375"]
    assert flags["live-restore"] == ["true"] and flags["icc"] == ["false"] and flags["debug"] == ["true"]
    assert flags["log-opt"] == ["max-size=10m"] and flags["data-root"] == ["/data"]
    # A boolean flag never swallows the next argument: "false" above is a stray positional.
    assert flags["userland-proxy"] == ["true"]


def test_settings_come_from_flags_then_daemon_json_then_defaults():
    settings = daemon_settings.DaemonSettings(
        daemon_settings.parse_flags(["dockerd", "--no-new-privileges"]),
        {"live-restore": True, "log-opts": {"max-size": "10m"}, "hosts": ["tcp://0.0.0.0:2376"]},
        "/etc/docker/daemon.json", "read")
    assert settings.get("no-new-privileges", False) == ("true", "flag --no-new-privileges")
    assert settings.get("live-restore", False) == (True, '/etc/docker/daemon.json "live-restore"')
    assert settings.get("userland-proxy", True) == (True, "dockerd default")
    assert settings.values("host") == (["tcp://0.0.0.0:2376"], '/etc/docker/daemon.json "hosts"')
    assert settings.values("log-opt")[0] == ["max-size=10m"]
    assert [daemon_settings.as_bool(v) for v in ("true", "1", True, "false", "0", False)] == \
        [True, True, True, False, False, False]


def test_a_rootless_dockerds_configuration_home_is_read_and_nothing_else_kept():
    rootless = b"HOME=/home/rl\0ROOTLESSKIT_STATE_DIR=/tmp/rk\0SECRET=x\0"
    assert daemon_process.rootless_config_home(rootless) == "/home/rl/.config"
    assert daemon_process.rootless_config_home(rootless + b"XDG_CONFIG_HOME=/cfg\0") == "/cfg"
    assert daemon_process.rootless_config_home(b"HOME=/root\0PATH=/bin\0") is None


def test_a_rootless_dockerd_reads_its_users_daemon_json(tmp_path):
    class Host:
        def file(self, path):
            return type("F", (), {"exists": False})()
    assert daemon_settings.read(Host(), ("dockerd",), "/home/rl/.config").file_path == "/home/rl/.config/docker/daemon.json"
    assert daemon_settings.read(Host(), ("dockerd",)).file_path == "/etc/docker/daemon.json"
    assert daemon_settings.read(Host(), ("dockerd", "--config-file", "/x.json"), "/h").file_path == "/x.json"
