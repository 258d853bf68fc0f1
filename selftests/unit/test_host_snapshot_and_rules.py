"""What a sandbox engine adds to the host, told apart by its interfaces and address block;
what the run owned, and what it left (fakes of the host's listings)."""

import ipaddress

from fixtures.engine.iptables import Rule
from fixtures.host.snapshot import Ownership, diff, left_line

BLOCK = ipaddress.ip_network("10.199.16.0/22")


def test_a_rule_is_the_engines_when_it_names_its_bridge_or_an_address_in_its_block():
    own = {"dcf5f24a2fcf5", "br-75b23098866c"}
    mine = ["-A FORWARD -o dcf5f24a2fcf5 -j DOCKER",
            "-A POSTROUTING -s 10.199.18.0/27 ! -o br-75b23098866c -j MASQUERADE",
            "-A POSTROUTING -s 10.199.16.2/32 -d 10.199.16.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
            "-A DOCKER -d 127.0.0.1/32 ! -i dcfother -p tcp -m tcp --dport 32768 -j DNAT --to-destination 10.199.16.2:80"]
    others = ["-A FORWARD -j DOCKER-USER", "-A FORWARD -o docker0 -j DOCKER",
              "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
              "-A POSTROUTING -s 10.199.0.0/16 -j MASQUERADE"]
    assert all(Rule("ipv4", "nat", spec).mentions(own, BLOCK) for spec in mine)
    assert not any(Rule("ipv4", "nat", spec).mentions(own, BLOCK) for spec in others)


def _host(**kinds):
    host = {kind: {} for kind in ("iptables", "links", "netns", "mounts", "listening", "processes")}
    host.update(kinds)
    return host


def test_what_the_run_owned_and_left_is_told_from_what_others_did():
    run_dir = "/var/tmp/docker-conformance/20261201T203718-1d33b2"
    records = [{"kind": "bridge", "key": "dcfaaa"}, {"kind": "sandbox-host", "key": "e", "block": str(BLOCK)},
               {"kind": "tree", "key": "x", "path": "/tmp/dcf-abc"},
               {"kind": "process", "key": "dockerd-target", "pid": 10, "start": "5"}]
    during = _host(
        links={"dcfaaa": {"kind": "bridge", "master": "", "addresses": ["10.199.16.1/24"]},
               "br-1": {"kind": "bridge", "master": "", "addresses": ["10.199.18.1/27"]},
               "veth1": {"kind": "veth", "master": "br-1", "addresses": []},
               "docker0": {"kind": "bridge", "master": "", "addresses": ["172.17.0.1/16"]}},
        processes={"10:5": {"pid": 10, "ppid": 1, "name": "dockerd", "argv": f"dockerd --host unix://{run_dir}/x"},
                   "11:6": {"pid": 11, "ppid": 1, "name": "containerd-shim", "argv": "shim -address /tmp/dcf-abc/c.sock"},
                   "12:7": {"pid": 12, "ppid": 11, "name": "sleep", "argv": "sleep 1000"},
                   "13:8": {"pid": 13, "ppid": 1, "name": "sshd", "argv": "sshd -D"}},
        listening={"tcp 127.0.0.1:4000 docker-proxy": {"port": 4000, "pids": [10]},
                   "tcp 0.0.0.0:22 sshd": {"port": 22, "pids": [13]}})
    own = Ownership.of(run_dir, records, during)
    assert own.interfaces == {"dcfaaa", "br-1", "veth1"}
    assert own.processes == {"10:5", "11:6", "12:7"}, "the shim's container is the run's too"
    assert own.ports == {4000}

    before = _host(links={"docker0": during["links"]["docker0"]},
                   processes={"13:8": during["processes"]["13:8"]},
                   listening={"tcp 0.0.0.0:22 sshd": {"port": 22, "pids": [13]}})
    after = _host(links={"docker0": during["links"]["docker0"], "br-1": during["links"]["br-1"],
                         "eth9": {"kind": "other", "master": "", "addresses": []}},
                  processes={"12:7": during["processes"]["12:7"]},
                  iptables={"ipv4 nat -A POSTROUTING -s 10.199.18.0/27 ! -o br-1 -j MASQUERADE":
                            {"interfaces": ["br-1"], "networks": ["10.199.18.0/27"]}},
                  mounts={"/tmp/dcf-abc/netns/x (nsfs)": {"path": "/tmp/dcf-abc/netns/x"}})
    result = diff(before, after, own)
    assert result["left"]["links"] == ["br-1"]
    assert result["left"]["processes"] == ["12 sleep: sleep 1000"]
    assert len(result["left"]["iptables"]) == 1 and result["left"]["mounts"]
    assert result["appeared"]["links"] == ["eth9"], "others' doing is listed, not counted against the run"
    assert result["gone"]["processes"] == ["13 sshd: sshd -D"]
    assert left_line(result).startswith("the run's own left on its host: 1 iptables, 1 links")
    assert left_line(diff(before, before, own)) == ""
