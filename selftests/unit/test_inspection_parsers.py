"""The parsers of fixtures/inspection on samples taken from a real container (no engine needed)."""

from __future__ import annotations

import pytest

from fixtures.inspection import capabilities as caps
from fixtures.inspection import environment, mountinfo, proc_status, syscall_probe

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


@pytest.mark.parametrize("output,refused,text", [
    ("errno 1 Operation not permitted\n", True, "errno EPERM"),
    ("errno 38 Function not implemented\n", False, "errno ENOSYS"),
    ("returned 0\n", False, "returned 0"),
    ("perl: not found\n", False, "no answer"),
])
def test_probe_answers(output, refused, text):
    answer = syscall_probe.parse(output)
    assert answer.refused is refused and answer.describe().startswith(text)


def test_probe_commands_need_a_known_architecture():
    assert syscall_probe.command("amd64", "mount")[2].count("syscall(165, @a)") == 1
    with pytest.raises(AssertionError, match="no system call table"):
        syscall_probe.command("s390x", "mount")


def test_unexplained_variables_and_those_from_the_host():
    inside = {"PATH": "/bin", "HOSTNAME": "abc", "IMG": "1", "ASKED": "2", "LEAK": "x", "ODD": "y"}
    extra = environment.unexplained(inside, ["IMG=1"], {"ASKED": "2"})
    assert extra == {"LEAK": "x", "ODD": "y"}
    assert environment.matching_host(extra, {"LEAK": "x", "ODD": "other"}) == ["LEAK"]
