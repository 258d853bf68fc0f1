"""Restoring minirootfs files from a disk that later packages changed, proved by checksum."""

import base64
import hashlib

from fixtures.images.offline.apk_checksum import checksum_file_token, checksum_matches
from fixtures.images.offline.pristine_files import restore


def q1(data: bytes) -> str:
    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"


def test_checksum_tokens():
    assert checksum_matches(q1(b"abc"), b"abc")
    assert not checksum_matches(q1(b"abc"), b"abd")
    q2 = "Q2" + base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    assert checksum_matches(q2, b"abc")
    assert not checksum_matches("X9whatever", b"abc")
    assert checksum_file_token(q1(b"abc")) == "X1" + hashlib.sha1(b"abc").hexdigest()


def test_an_unchanged_file_is_kept_as_is():
    assert restore("etc/passwd", PASSWD, q1(PASSWD)) == PASSWD


def test_accounts_appended_by_later_packages_are_dropped():
    later = (
        PASSWD
        + b"dhcpcd:x:100:101:dhcpcd:/var/lib/dhcpcd:/sbin/nologin\n"
        + b"vm:x:1000:1000::/home/vm:/bin/sh\n"
    )
    assert restore("etc/passwd", later, q1(PASSWD)) == PASSWD


def test_shadow_keeps_the_minirootfs_root_lock_that_apk_never_saw():
    packaged = b"root:::0:::::\nbin:!::0:::::\n"
    on_disk = b"root:*::0:::::\nbin:!::0:::::\nextra:!:20740:0:99999:7:::\n"
    assert restore("etc/shadow", on_disk, q1(packaged)) == b"root:*::0:::::\nbin:!::0:::::\n"


def test_files_emptied_or_repointed_come_back_from_known_packaged_content():
    assert restore("etc/hostname", b"", q1(b"localhost\n")) == b"localhost\n"
    assert restore("etc/mtab", b"/proc/mounts", q1(b"../proc/mounts")) == b"../proc/mounts"


def test_nothing_matching_the_checksum_means_no_restoration():
    assert restore("etc/passwd", b"something else\n", q1(PASSWD)) is None
    # Known content is only trusted if it matches what apk recorded.
    assert restore("etc/hostname", b"", q1(b"another-host\n")) is None
