"""Reading apk's installed database and writing a subset of it back."""

from fixtures.images.offline.apk_db import (
    dependency_name,
    parse_installed,
    render_installed,
)

INSTALLED = """C:Q1aaaaaaaaaaaaaaaaaaaaaaaaaaa=
P:musl
V:1.2.5-r23
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1bbbbbbbbbbbbbbbbbbbbbbbbbbb=
R:libc.musl-x86_64.so.1
Z:Q1ccccccccccccccccccccccccccc=

C:Q1ddddddddddddddddddddddddddd=
P:busybox
V:1.37.0-r30
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
Z:Q1eeeeeeeeeeeeeeeeeeeeeeeeeee=
F:etc/network
F:etc/network/if-up.d
R:dad
a:0:0:775
Z:Q1fffffffffffffffffffffffffff=

C:Q1ggggggggggggggggggggggggggg=
P:ssl_client
V:1.37.0-r30
i:busybox=1.37.0-r30 libssl3
R:top-level-file

"""


def test_records_become_packages_with_their_files_and_checksums():
    musl, busybox, ssl_client = parse_installed(INSTALLED)

    assert (musl.name, musl.version, musl.checksum) == ("musl", "1.2.5-r23", "Q1aaaaaaaaaaaaaaaaaaaaaaaaaaa=")
    assert musl.provides == ("so:libc.musl-x86_64.so.1=1",)
    assert musl.folders == ("lib",)
    assert musl.files == {
        "lib/ld-musl-x86_64.so.1": "Q1bbbbbbbbbbbbbbbbbbbbbbbbbbb=",
        "lib/libc.musl-x86_64.so.1": "Q1ccccccccccccccccccccccccccc=",
    }
    assert busybox.depends == ("so:libc.musl-x86_64.so.1",)
    assert busybox.folders == ("bin", "etc/network", "etc/network/if-up.d")
    assert "etc/network/if-up.d/dad" in busybox.files
    assert ssl_client.install_if == ("busybox=1.37.0-r30", "libssl3")
    # A file before any F: line lives at the top of the tree.
    assert ssl_client.files == {"top-level-file": ""}


def test_a_subset_is_written_back_byte_for_byte_as_apk_wrote_it():
    musl, _, ssl_client = parse_installed(INSTALLED)
    records = INSTALLED.split("\n\n")

    assert render_installed([musl, ssl_client]) == records[0] + "\n\n" + records[2] + "\n\n"
    assert render_installed(parse_installed(INSTALLED)) == INSTALLED


def test_dependency_names_drop_versions_and_conflicts():
    assert dependency_name("musl>=1.2.3_git20230424") == "musl"
    assert dependency_name("alpine-baselayout-data=3.7.2-r0") == "alpine-baselayout-data"
    assert dependency_name("so:libc.musl-x86_64.so.1") == "so:libc.musl-x86_64.so.1"
    assert dependency_name("/bin/sh") == "/bin/sh"
    assert dependency_name("pkg~1.2") == "pkg"
    assert dependency_name("!conflicting") is None
