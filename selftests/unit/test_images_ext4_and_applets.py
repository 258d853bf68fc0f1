"""Parsing debugfs stat output, and choosing the busybox applet links."""

from fixtures.images.offline.busybox_applets import missing_links, parse_applet_list
from fixtures.images.offline.ext4_image import parse_stat_output

STAT_OUTPUT = '''debugfs: stat "/bin/busybox"
Inode: 18   Type: regular    Mode:  0755   Flags: 0x80000
Generation: 0    Version: 0x00000000:00000000
User:     0   Group:     0   Project:     0   Size: 804616
File ACL: 0
Links: 1   Blockcount: 1576
 ctime: 0x6ad009cd:00000000 -- Wed Oct 14 23:01:33 2026
 mtime: 0x69416a70:00000000 -- Tue Dec 16 14:19:28 2025
crtime: 0x6ad009cd:00000000 -- Wed Oct 14 23:01:33 2026
debugfs: stat "/nonexistent"
debugfs: stat "/etc/shadow"
Inode: 350   Type: regular    Mode:  04640   Flags: 0x80000
User:     0   Group:    42   Project:     0   Size: 319
Links: 2   Blockcount: 8
 mtime: 0x6acffc8c:00000000 -- Wed Oct 14 22:05:00 2026
debugfs: stat "/bin/sh"
Inode: 84   Type: symlink    Mode:  0777   Flags: 0x0
User:     0   Group:     0   Project:     0   Size: 12
Links: 1   Blockcount: 0
 mtime: 0x6aac242e:00000000 -- Thu Sep 17 17:32:30 2026
Fast link dest: "/bin/busybox"
'''


def test_stat_sections_become_inodes_and_missing_paths_are_left_out():
    inodes = parse_stat_output(STAT_OUTPUT)

    assert set(inodes) == {"bin/busybox", "etc/shadow", "bin/sh"}
    busybox = inodes["bin/busybox"]
    assert (busybox.number, busybox.kind, busybox.mode, busybox.links) == (18, "regular", 0o755, 1)
    # The mtime line, not ctime or crtime, and as seconds.
    assert busybox.mtime == 0x69416A70
    shadow = inodes["etc/shadow"]
    assert (shadow.mode, shadow.uid, shadow.gid, shadow.links) == (0o4640, 0, 42, 2)
    assert inodes["bin/sh"].kind == "symlink"


def test_applet_paths_are_relative_and_existing_files_win():
    applets = parse_applet_list("/bin/sh\n/bin/ls\n/usr/bin/wget\n\n/sbin/modprobe\n")
    assert applets == ["bin/sh", "bin/ls", "usr/bin/wget", "sbin/modprobe"]
    # bin/sh belongs to busybox-binsh, so it is not made a second time.
    assert missing_links(applets, {"bin/sh", "bin/busybox"}) == ["bin/ls", "sbin/modprobe", "usr/bin/wget"]
