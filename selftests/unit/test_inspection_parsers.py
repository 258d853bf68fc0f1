"""The parsers of fixtures/inspection on samples taken from a real container (no engine needed)."""

from __future__ import annotations

import pytest

from fixtures.inspection import attempt, cgroups, environment, mount_walk, mountinfo, proc_status, socket_access
from fixtures.inspection import capabilities as caps
from fixtures.inspection import syscall_probe, uid_map
from fixtures.inspection.architecture import kernel_name
from fixtures.inspection.probe import ProbeFailed, completed

STATUS = "Name:\tcat\nSeccomp:\t2\nSeccomp_filters:\t1\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t0\n"
MOUNTINFO = """\
74 57 0:47 / / rw,relatime master:29 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X
53 75 0:42 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
55 75 0:43 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
91 74 254:0 /var/lib/docker/containers/abc/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw
99 74 254:0 /srv/with\\040space /mnt/x rw - ext4 /dev/vda rw
"""


def test_docker_default_capabilities_are_the_documented_mask():
    assert caps.mask_of(caps.DOCKER_DEFAULT) == 0xa80425fb
    assert caps.names_of(0xa80425fb) == sorted(caps.DOCKER_DEFAULT, key=caps.BIT.get)


def test_masks_decode_to_names_and_unknown_bits_are_kept():
    assert caps.names_of(1 << caps.BIT["SYS_ADMIN"] | 1) == ["CHOWN", "SYS_ADMIN"]
    assert caps.names_of(1 << 50) == ["bit50"]
    assert caps.show(caps.parse_mask("0000000000200000")) == "0000000000200000 (SYS_ADMIN)"


def test_status_and_mountinfo_parse():
    assert proc_status.parse(STATUS)["Seccomp"] == "2"
    mounts = mountinfo.parse(MOUNTINFO)
    assert mountinfo.at(mounts, "/proc/sys").read_only
    assert not mountinfo.at(mounts, "/proc/keys").read_only
    assert mountinfo.at(mounts, "/etc/resolv.conf").root == "/var/lib/docker/containers/abc/resolv.conf"
    assert mountinfo.at(mounts, "/mnt/x").root == "/srv/with space"
    assert mountinfo.at(mounts, "/nowhere") is None


@pytest.mark.parametrize("output,denied,text", [
    ("errno 1 Operation not permitted\n", True, "errno EPERM"),
    ("errno 38 Function not implemented\n", False, "errno ENOSYS"),
    ("returned 0\n", False, "returned 0"),
    ("perl: not found\n", False, "no answer"),
])
def test_probe_answers(output, denied, text):
    answer = syscall_probe.parse(output)
    assert answer.denied is denied and answer.describe().startswith(text)


EPERM, ENOSYS, EINVAL = (syscall_probe.parse(f"errno {n} x") for n in (1, 38, 22))


@pytest.mark.parametrize("answer,unfiltered,refused,lacking", [
    (EPERM, None, True, False),  # the profile's or a capability check's EPERM
    (EINVAL, None, False, False),  # the call reached the kernel
    (ENOSYS, EINVAL, True, False),  # ENOSYS from the profile: the kernel has the call
    (ENOSYS, ENOSYS, False, True),  # the kernel itself has no such call
])
def test_enosys_is_a_refusal_only_when_the_kernel_has_the_call(answer, unfiltered, refused, lacking):
    result = syscall_probe.Refusal("keyctl", answer, unfiltered)
    assert result.refused is refused and result.kernel_lacks_the_call is lacking


def test_uid_map_is_read_by_its_padded_columns():
    identity = uid_map.parse("         0          0 4294967295\n")
    assert uid_map.host_id_of(identity, 0) == 0 and uid_map.root_is_host_root(identity)
    remapped = uid_map.parse("         0     100000      65536\n")
    assert uid_map.host_id_of(remapped, 0) == 100000 and not uid_map.root_is_host_root(remapped)
    rootless = uid_map.parse("0 1001 1\n1 100000 65536\n")
    assert uid_map.host_id_of(rootless, 0) == 1001 and uid_map.host_id_of(rootless, 5) == 100004
    assert uid_map.host_id_of(rootless, 70000) is None
    with pytest.raises(ValueError):
        uid_map.parse("0 0\n")


def test_a_mount_walk_that_did_not_run_is_a_failed_probe():
    assert mount_walk.seen("MOUNTS / /etc/hosts\nSEEN /x/y\nWALKED-ALL-MOUNTS\n", what="walk") == ["/x/y"]
    with pytest.raises(ProbeFailed, match="stopped before its end"):
        mount_walk.seen("sh: awk: not found\n", what="walk")
    with pytest.raises(ProbeFailed, match="no root mount"):
        mount_walk.seen("MOUNTS\nWALKED-ALL-MOUNTS\n", what="walk")
    assert "echo WALKED-ALL-MOUNTS" in mount_walk.script(["/a b"]) and "'/a b'" in mount_walk.script(["/a b"])


def test_an_attempt_is_refused_only_for_lack_of_permission():
    assert attempt.verdict("ALLOWED\n", what="mount").allowed
    refused = attempt.verdict("REFUSED mount: permission denied (are you root?)\n", what="mount")
    assert not refused.allowed and "permission denied" in refused.detail
    assert not attempt.verdict("REFUSED sh: can't create /proc/sys/vm/x: Read-only file system", what="w").allowed
    with pytest.raises(ProbeFailed, match="not for lack of permission"):
        attempt.verdict("REFUSED mount: no such device", what="mount")
    with pytest.raises(ProbeFailed, match="no verdict"):
        attempt.verdict("sh: mount: not found", what="mount")


def test_a_probe_that_stopped_early_is_not_a_negative():
    assert completed("a\nb\n--- end\n", "--- end", what="read") == "a\nb\n"
    with pytest.raises(ProbeFailed):
        completed("a\n", "--- end", what="read")


def test_device_rules_grant_reads_by_type_and_number():
    docker_default = "c 1:5 rwm\nc 1:3 rwm\nb *:* m\nc *:* m\nc 136:* rwm\n"
    assert cgroups.device_rule_allowing(docker_default, "b", 254, 0, "r") is None
    assert cgroups.device_rule_allowing(docker_default, "b", 254, 0, "m") == "b *:* m"
    assert cgroups.device_rule_allowing(docker_default + "b 254:0 r\n", "b", 254, 0, "r") == "b 254:0 r"
    assert cgroups.device_rule_allowing("a *:* rwm\n", "b", 254, 0, "r") == "a *:* rwm"


def test_engine_architectures_are_compared_by_meaning():
    assert kernel_name("amd64") == kernel_name("x86_64") == "x86_64"
    assert kernel_name("arm64") == "aarch64"


def test_probe_commands_need_a_known_architecture():
    assert syscall_probe.command("amd64", "mount")[2].count("syscall(165, @a)") == 1
    with pytest.raises(AssertionError, match="no system call table"):
        syscall_probe.command("s390x", "mount")


def test_unexplained_variables_and_those_from_the_host():
    inside = {"PATH": "/bin", "HOSTNAME": "abc", "IMG": "1", "ASKED": "2", "LEAK": "x", "ODD": "y"}
    extra = environment.unexplained(inside, ["IMG=1"], {"ASKED": "2"})
    assert extra == {"LEAK": "x", "ODD": "y"}
    assert environment.matching_host(extra, {"LEAK": "x", "ODD": "other"}) == ["LEAK"]


def _socket(mode: int, owner="root", uid=0, group="docker", gid=999, members=(), engine_uid=0):
    return socket_access.SocketAccess(path="/run/docker.sock", mode=mode, owner=owner, uid=uid, group=group,
                                      gid=gid, group_members=tuple(members), engine_uid=engine_uid)


@pytest.mark.parametrize("access, weak", [
    (_socket(0o660, members=("ops",)), []),  # dockerd's default: root:docker 0660
    (_socket(0o600, group="staff", members=("ann",)), []),  # the group may not write: fewer privileges
    (_socket(0o1660, owner="rl", uid=1001, group="100999", gid=100999, engine_uid=1001), []),  # rootless
    (_socket(0o666, group="root", gid=0), ["bits 0006 are beyond 0660"]),
    (_socket(0o662), ["bits 0002 are beyond 0660"]),
    (_socket(0o660, owner="bob", uid=1002), ["owned by bob, neither root nor the user the engine runs as"]),
    (_socket(0o660, owner="bob", uid=1002, engine_uid=None),
     ["owned by bob, not root, and the user the engine runs as is not known"]),
    (_socket(0o660, group="staff", gid=50, members=("ann", "bob")),
     ["group staff (ann, bob) is neither root nor docker"]),
])
def test_socket_access_is_judged_by_who_can_connect(access, weak):
    assert access.weaknesses() == weak


def test_socket_access_says_who_can_connect():
    assert "every local user" in _socket(0o666).describe()
    assert "its owner and root only" in _socket(0o600).describe()
    assert "members of group staff (ann)" in _socket(0o660, group="staff", members=("ann",)).describe()


def test_group_members_are_listed_and_primary_users_added():
    passwd = "root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\nbob:x:1001:50::/home/bob:/bin/sh\n"
    assert socket_access.group_members(50, "staff:x:50:ann\n", passwd) == ("ann", "bob")
    assert socket_access.group_members(100999, "", passwd) == ()
    with pytest.raises(ValueError):
        socket_access.group_members(50, "garbage\n", passwd)
