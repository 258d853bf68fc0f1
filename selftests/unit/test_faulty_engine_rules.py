"""Each fault of the faulty engine, as a pure rewrite of sample API bodies (no engine needed).

The sample create body is what docker CLI 28 sends for
``docker run -p 8080:80 -v data:/data -v /srv:/srv:ro --tmpfs /run:size=64m --memory 64m
--pids-limit 50 ...``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from selftests.faulty_engine import FAULTS, FaultSpecError, parse_fault
from selftests.faulty_engine.calls import Call
from selftests.faulty_engine.faults import commands, create, lifecycle, reports, shared_namespaces
from selftests.faulty_engine.rules import Plan, Reply, RewriteError, apply_json

CREATE_BODY = {
    "Image": "img",
    "Cmd": ["sh"],
    "MacAddress": "02:42:ac:11:00:99",
    "ExposedPorts": {"80/tcp": {}},
    "HostConfig": {
        "Binds": ["data:/data", "/srv:/srv:ro", "logs:/logs:ro,z"],
        "Mounts": [
            {"Type": "volume", "Source": "cache", "Target": "/cache", "VolumeOptions": {"NoCopy": True}},
            {"Type": "bind", "Source": "/etc/hosts", "Target": "/h"},
        ],
        "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
        "PublishAllPorts": True,
        "Links": ["db:db"],
        "NetworkMode": "mynet",
        "CapAdd": ["NET_ADMIN"],
        "CapDrop": ["CAP_SYS_ADMIN", "MKNOD"],
        "SecurityOpt": ["seccomp=/profile.json", "no-new-privileges"],
        "Memory": 67108864,
        "MemorySwap": 134217728,
        "PidsLimit": 50,
        "NanoCpus": 500000000,
        "CpuQuota": 50000,
        "CpuShares": 512,
        "Tmpfs": {"/run": "size=64m"},
    },
    "NetworkingConfig": {"EndpointsConfig": {"mynet": {"Aliases": ["web"]}}},
}


def rewrite(spec: str, body: dict) -> dict:
    """The create body after the create rules of ``spec`` have run."""
    rules = parse_fault(spec)
    plan = Plan.for_call(tuple(rules), Call("POST", "/containers/create"))
    result = body
    for step in plan.request_rewrites:
        result = step(result)
    return result


@pytest.fixture
def body() -> dict:
    return copy.deepcopy(CREATE_BODY)


CREATE_SPECS = [
    "cap-add=SYS_ADMIN", "cap-drop=NET_RAW", "pid-host", "net-host", "uts-host", "ipc-host", "seccomp-unconfined",
    "drop-limits", "bind-root", "drop-ports", "volume-to-tmpfs", "unmask-proc", "set-env=A=1", "hog=8",
    "host-device=/dev/vda", "shared-tmp=/var/tmp/shared", "ignore-image-config", "mnt-host",
    "cgroup-parent=/conformance-machine", "bind-to-tmpfs", "tmpfs-to-volume", "runtime-refuses",
]


@pytest.mark.parametrize("spec", CREATE_SPECS)
def test_rewrites_never_modify_their_input(body, spec):
    assert rewrite(spec, body) != body
    assert body == CREATE_BODY


def test_cap_add_appends_missing_capabilities_and_lifts_their_drop(body):
    host_config = rewrite("cap-add=SYS_ADMIN,net_admin,CAP_SYS_PTRACE", body)["HostConfig"]
    assert host_config["CapAdd"] == ["NET_ADMIN", "SYS_ADMIN", "CAP_SYS_PTRACE"]
    assert host_config["CapDrop"] == ["MKNOD"]


def test_cap_drop_drops_and_takes_the_capability_out_of_an_add(body):
    host_config = rewrite("cap-drop=NET_ADMIN,net_raw", body)["HostConfig"]
    assert host_config["CapDrop"] == ["CAP_SYS_ADMIN", "MKNOD", "NET_ADMIN", "net_raw"]
    assert host_config["CapAdd"] == []


def test_cap_add_creates_host_config_when_absent():
    assert rewrite("cap-add=SYS_ADMIN", {"Image": "img", "HostConfig": None})["HostConfig"]["CapAdd"] == ["SYS_ADMIN"]


@pytest.mark.parametrize("spec,key", [("pid-host", "PidMode"), ("uts-host", "UTSMode"), ("ipc-host", "IpcMode")])
def test_namespace_faults_force_host_mode(body, spec, key):
    result = rewrite(spec, body)
    assert result["HostConfig"][key] == "host"
    assert result["HostConfig"]["NetworkMode"] == "mynet"


def test_net_host_forces_host_network_and_drops_what_conflicts(body):
    result = rewrite("net-host", body)
    host_config = result["HostConfig"]
    assert host_config["NetworkMode"] == "host"
    assert host_config["PortBindings"] == {} and host_config["PublishAllPorts"] is False
    assert host_config["Links"] is None
    assert "MacAddress" not in result
    assert result["NetworkingConfig"]["EndpointsConfig"] == {}


def test_net_host_keeps_a_host_endpoint(body):
    body["NetworkingConfig"]["EndpointsConfig"] = {"host": {}}
    assert rewrite("net-host", body)["NetworkingConfig"]["EndpointsConfig"] == {"host": {}}


def test_seccomp_unconfined_replaces_any_profile(body):
    opts = rewrite("seccomp-unconfined", body)["HostConfig"]["SecurityOpt"]
    assert opts == ["no-new-privileges", "seccomp=unconfined"]


def test_drop_limits_zeroes_every_limit_and_nothing_else(body):
    host_config = rewrite("drop-limits", body)["HostConfig"]
    assert {key: host_config[key] for key in create.LIMIT_KEYS} == dict.fromkeys(create.LIMIT_KEYS, 0)
    assert host_config["CpuShares"] == 512


def test_bind_root_adds_a_writable_bind_of_the_host_root_once(body):
    binds = rewrite("bind-root", rewrite("bind-root", body))["HostConfig"]["Binds"]
    assert binds.count("/:/host:rw") == 1
    assert binds[:3] == CREATE_BODY["HostConfig"]["Binds"]


def test_drop_ports_removes_bindings_but_keeps_exposure(body):
    result = rewrite("drop-ports", body)
    assert result["HostConfig"]["PortBindings"] == {}
    assert result["HostConfig"]["PublishAllPorts"] is False
    assert result["ExposedPorts"] == {"80/tcp": {}}


def test_volume_to_tmpfs_turns_named_volumes_into_tmpfs_and_keeps_binds(body):
    host_config = rewrite("volume-to-tmpfs", body)["HostConfig"]
    assert host_config["Binds"] == ["/srv:/srv:ro"]
    assert host_config["Mounts"] == [
        {"Type": "tmpfs", "Target": "/cache", "ReadOnly": False},
        {"Type": "bind", "Source": "/etc/hosts", "Target": "/h"},
        {"Type": "tmpfs", "Target": "/data", "ReadOnly": False},
        {"Type": "tmpfs", "Target": "/logs", "ReadOnly": True},
    ]


def test_bind_to_tmpfs_turns_host_binds_into_tmpfs_and_keeps_volumes(body):
    host_config = rewrite("bind-to-tmpfs", body)["HostConfig"]
    assert host_config["Binds"] == ["data:/data", "logs:/logs:ro,z"]
    assert host_config["Mounts"] == [
        {"Type": "volume", "Source": "cache", "Target": "/cache", "VolumeOptions": {"NoCopy": True}},
        {"Type": "tmpfs", "Target": "/h", "ReadOnly": False},
        {"Type": "tmpfs", "Target": "/srv", "ReadOnly": True},
    ]


def test_tmpfs_to_volume_turns_every_tmpfs_into_an_anonymous_volume(body):
    body["HostConfig"]["Mounts"].append({"Type": "tmpfs", "Target": "/scratch"})
    host_config = rewrite("tmpfs-to-volume", body)["HostConfig"]
    assert host_config["Tmpfs"] == {}
    assert host_config["Mounts"][1:] == [
        {"Type": "bind", "Source": "/etc/hosts", "Target": "/h"},
        {"Type": "volume", "Target": "/scratch"},
        {"Type": "volume", "Target": "/run"},
    ]
    assert host_config["Binds"] == CREATE_BODY["HostConfig"]["Binds"]


def test_runtime_refuses_gives_every_container_a_missing_executable(body):
    result = rewrite("runtime-refuses", {**body, "Entrypoint": ["/entry"]})
    assert result["Entrypoint"] == [create.MISSING_EXECUTABLE] and result["Cmd"] == []


def test_unmask_proc_sets_empty_lists_not_absent_keys(body):
    host_config = rewrite("unmask-proc", body)["HostConfig"]
    assert host_config["MaskedPaths"] == [] and host_config["ReadonlyPaths"] == []


def test_set_env_overrides_the_clients_value_and_keeps_the_rest():
    body = {"Image": "x", "Env": ["GREETING=hello", "KEEP=1"]}
    assert rewrite("set-env=GREETING=tampered", body)["Env"] == ["KEEP=1", "GREETING=tampered"]
    assert body["Env"] == ["GREETING=hello", "KEEP=1"], "the input must not be modified"
    with pytest.raises(FaultSpecError):
        parse_fault("set-env=NOVALUE")


def test_hog_wraps_the_clients_command_after_the_hog():
    body = {"Image": "x", "Entrypoint": ["/entry"], "Cmd": ["sleep", "60"]}
    result = rewrite("hog=48", body)
    assert result["Entrypoint"][:2] == ["sh", "-c"] and result["Entrypoint"][3] == "sh"
    assert "head -c 48m /dev/zero > /dev/shm/" in result["Entrypoint"][2]
    assert "while :" in result["Entrypoint"][2] and result["Entrypoint"][2].endswith('exec "$@"')
    assert result["Cmd"] == ["/entry", "sleep", "60"]
    assert body == {"Image": "x", "Entrypoint": ["/entry"], "Cmd": ["sleep", "60"]}
    for bad in ("hog", "hog=0", "hog=61", "hog=lots"):
        with pytest.raises(FaultSpecError):
            parse_fault(bad)


@pytest.mark.parametrize("spec", CREATE_SPECS)
def test_create_faults_touch_only_create(spec):
    rules = tuple(parse_fault(spec))
    assert Plan.for_call(rules, Call("POST", "/containers/abc/start")).request_rewrites == ()
    assert Plan.for_call(rules, Call("GET", "/containers/create")).request_rewrites == ()


def test_several_create_faults_compose(body):
    rules = tuple(parse_fault("pid-host") + parse_fault("cap-add=SYS_ADMIN") + parse_fault("seccomp-unconfined"))
    plan = Plan.for_call(rules, Call("POST", "/containers/create"))
    host_config = json.loads(apply_json(json.dumps(body).encode(), plan.request_rewrites))["HostConfig"]
    assert host_config["PidMode"] == "host"
    assert "SYS_ADMIN" in host_config["CapAdd"]
    assert "seccomp=unconfined" in host_config["SecurityOpt"]
    assert plan.faults == ("pid-host", "cap-add", "seccomp-unconfined")


def test_delay_start_delays_only_start():
    rules = tuple(parse_fault("delay-start=1.5"))
    assert Plan.for_call(rules, Call("POST", "/containers/abc/start", "", "/v1.41")).delay == 1.5
    assert Plan.for_call(rules, Call("POST", "/containers/abc/stop")).delay == 0.0


def test_stop_is_kill_retargets_to_sigkill_and_keeps_stops_status():
    rules = tuple(parse_fault("stop-is-kill"))
    plan = Plan.for_call(rules, Call.from_target("POST", "/v1.41/containers/web/stop?t=30"))
    assert plan.call.target == "/v1.41/containers/web/kill?signal=KILL"
    assert plan.status_map == {409: Reply(304)}
    assert lifecycle.stop_to_kill(Call("POST", "/containers/x/stop")).target == "/containers/x/kill?signal=KILL"


def test_kill_is_term_asks_for_sigterm_whatever_was_asked():
    rules = tuple(parse_fault("kill-is-term"))
    default = Plan.for_call(rules, Call.from_target("POST", "/v1.41/containers/web/kill"))
    assert default.call.target == "/v1.41/containers/web/kill?signal=TERM"
    asked = Plan.for_call(rules, Call.from_target("POST", "/v1.41/containers/web/kill?signal=KILL"))
    assert asked.call.target == "/v1.41/containers/web/kill?signal=TERM"
    assert Plan.for_call(rules, Call.from_target("POST", "/v1.41/containers/web/stop")).call.target == \
        "/v1.41/containers/web/stop"


def test_rm_keeps_volumes_drops_v_from_container_removal_only():
    rules = tuple(parse_fault("rm-keeps-volumes"))
    plan = Plan.for_call(rules, Call.from_target("DELETE", "/v1.41/containers/web?v=1&force=1"))
    assert plan.call.target == "/v1.41/containers/web?force=1"
    assert Plan.for_call(rules, Call.from_target("DELETE", "/v1.41/volumes/data?force=1")).call.target == \
        "/v1.41/volumes/data?force=1"


@pytest.mark.parametrize(
    "kind,path,status,body",
    [
        ("container", "/containers/abc", 204, b""),
        ("volume", "/volumes/data", 204, b""),
        ("network", "/networks/n1", 204, b""),
        ("image", "/images/localhost:5000/team/app:1.0", 200, b"[]\n"),
    ],
)
def test_fake_remove_answers_success_without_forwarding(kind, path, status, body):
    plan = Plan.for_call(tuple(parse_fault(f"fake-remove={kind}")), Call("DELETE", path))
    assert plan.answer is not None
    assert (plan.answer.status, plan.answer.body) == (status, body)


def test_fake_remove_leaves_other_kinds_and_methods_alone():
    rules = tuple(parse_fault("fake-remove=container"))
    assert Plan.for_call(rules, Call("DELETE", "/volumes/data")).answer is None
    assert Plan.for_call(rules, Call("GET", "/containers/abc")).answer is None
    assert Plan.for_call(rules, Call("DELETE", "/containers/abc/extra")).answer is None


@pytest.mark.parametrize(
    "spec,target,forwarded",
    [
        ("list-all", "/v1.41/containers/json", "/v1.41/containers/json?all=1"),
        ("list-all", "/v1.41/containers/json?all=0&limit=5", "/v1.41/containers/json?limit=5&all=1"),
        ("list-running-only", "/v1.41/containers/json?all=1", "/v1.41/containers/json"),
        ("images-top-only", "/v1.41/images/json?all=1&filters=x", "/v1.41/images/json?filters=x"),
        ("build-ignores-tag", "/v1.41/build?t=friendlyname&t=x%3Av1&labels=%7B%7D",
         "/v1.41/build?labels=%7B%7D"),
        ("squash-builds", "/v1.41/build?t=x&nocache=1", "/v1.41/build?t=x&nocache=1&squash=1"),
    ],
)
def test_query_faults_rewrite_only_their_parameter(spec, target, forwarded):
    call = Call.from_target("GET" if "json" in target else "POST", target)
    assert Plan.for_call(tuple(parse_fault(spec)), call).call.target == forwarded


@pytest.mark.parametrize(
    "spec,target,status",
    [
        ("fake-tag", "/images/sha256:abc/tag?repo=127.0.0.1:5000/user/app&tag=v1", 201),
        ("fake-push", "/images/127.0.0.1:5000/user/app/push?tag=v1", 200),
        ("refuse-pull", "/images/create?fromImage=127.0.0.1:5000/user/app&tag=v1", 500),
    ],
)
def test_registry_command_faults_answer_without_forwarding(spec, target, status):
    plan = Plan.for_call(tuple(parse_fault(spec)), Call.from_target("POST", "/v1.41" + target))
    assert plan.answer is not None and plan.answer.status == status
    if spec == "refuse-pull":
        assert commands.PULL_REFUSED.encode() in plan.answer.body


def test_command_faults_leave_other_calls_alone():
    rules = tuple(parse_fault("fake-tag") + parse_fault("fake-push") + parse_fault("refuse-pull")
                  + parse_fault("list-all") + parse_fault("images-top-only"))
    for method, target in (("GET", "/images/app/json"), ("POST", "/containers/create"),
                           ("DELETE", "/images/app"), ("GET", "/containers/abc/json")):
        plan = Plan.for_call(rules, Call.from_target(method, target))
        assert plan.answer is None and plan.call.target == target


VERSION_BODY = {
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.12",
    "Components": [
        {"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {"ApiVersion": "1.41", "MinAPIVersion": "1.12"}},
        {"Name": "containerd", "Version": "1.6.20"},
    ],
}


def test_lie_version_claims_fake_versions_in_the_body():
    lied = reports.claim_fake_version(VERSION_BODY)
    assert (lied["ApiVersion"], lied["Version"]) == (reports.FAKE_API_VERSION, reports.FAKE_ENGINE_VERSION)
    assert lied["Components"][0]["Details"]["ApiVersion"] == reports.FAKE_API_VERSION
    assert lied["Components"][1] == VERSION_BODY["Components"][1]
    assert lied["MinAPIVersion"] == "1.12"


def test_vm_runtime_rewrites_info_and_inspect():
    info = reports.claim_vm_runtime_in_info({"DefaultRuntime": "runc", "Runtimes": {"runc": {"path": "runc"}}})
    assert info["DefaultRuntime"] == "kata-runtime"
    assert set(info["Runtimes"]) == {"runc", "kata-runtime"}
    inspect = reports.claim_vm_runtime_in_inspect({"Id": "x", "HostConfig": {"Runtime": "runc", "Memory": 0}})
    assert inspect["HostConfig"] == {"Runtime": "kata-runtime", "Memory": 0}


def test_report_faults_match_their_endpoints_only():
    rules = tuple(parse_fault("vm-runtime") + parse_fault("lie-version"))
    assert len(Plan.for_call(rules, Call("GET", "/info")).response_rewrites) == 1
    assert len(Plan.for_call(rules, Call("GET", "/containers/abc/json")).response_rewrites) == 1
    assert len(Plan.for_call(rules, Call("GET", "/version")).response_rewrites) == 1
    assert Plan.for_call(rules, Call("GET", "/containers/json")).response_rewrites == ()


def test_icc_on_reports_icc_enabled_on_bridge_networks_only():
    bridge = {"Name": "bridge", "Driver": "bridge", "Options": {reports.ICC_OPTION: "false", "x": "1"}}
    assert reports.claim_icc_on(bridge)["Options"] == {reports.ICC_OPTION: "true", "x": "1"}
    assert reports.claim_icc_on({"Name": "host", "Driver": "host", "Options": {}})["Options"] == {}
    rules = tuple(parse_fault("icc-on"))
    assert len(Plan.for_call(rules, Call("GET", "/networks/abc")).response_rewrites) == 1
    assert Plan.for_call(rules, Call("GET", "/networks")).response_rewrites == ()


def test_host_device_adds_the_disk_read_only_once(body):
    result = rewrite("host-device=/dev/vda", rewrite("host-device=/dev/vda", body))
    assert result["HostConfig"]["Devices"] == [
        {"PathOnHost": "/dev/vda", "PathInContainer": "/dev/vda", "CgroupPermissions": "r"}]
    assert result["HostConfig"]["Binds"] == CREATE_BODY["HostConfig"]["Binds"]


def test_shared_tmp_binds_one_host_directory_over_tmp(body):
    body["HostConfig"]["Binds"].append("/elsewhere:/tmp")
    binds = rewrite("shared-tmp=/var/tmp/shared", body)["HostConfig"]["Binds"]
    assert binds == CREATE_BODY["HostConfig"]["Binds"] + ["/var/tmp/shared:/tmp:rw"]


@pytest.mark.parametrize("spec", ["host-device", "host-device=dev/vda", "shared-tmp=/a:/b"])
def test_host_sharing_faults_need_an_absolute_path(spec):
    with pytest.raises(FaultSpecError, match="absolute host path"):
        parse_fault(spec)


def test_mnt_host_runs_the_clients_command_in_the_shims_mount_namespace():
    body = {"Image": "x", "Entrypoint": ["/entry"], "Cmd": ["sleep", "60"], "HostConfig": {"CapDrop": ["SYS_ADMIN"]}}
    result = rewrite("mnt-host", body)
    assert result["Entrypoint"] == shared_namespaces.ENTER_HOST_MOUNT_NAMESPACE
    assert "nsenter --mount=/proc/$PPID/ns/mnt" in result["Entrypoint"][2]
    assert result["Cmd"] == ["/entry", "sleep", "60"]
    assert result["HostConfig"]["PidMode"] == "host"
    assert {"SYS_ADMIN", "SYS_PTRACE"} <= set(result["HostConfig"]["CapAdd"]) and result["HostConfig"]["CapDrop"] == []


def test_pid_pod_joins_every_container_to_the_first_one_not_removed():
    rules = tuple(parse_fault("pid-pod"))
    create_plan = Plan.for_call(rules, Call("POST", "/containers/create"))
    (join,), (remember,) = create_plan.request_rewrites, create_plan.response_rewrites
    assert join({"Image": "x"}) == {"Image": "x"}, "the first container starts the pod"
    remember({"Id": "aaa111"})
    remember({"Id": "bbb222"})
    assert join({"Image": "x", "HostConfig": {"Memory": 1}})["HostConfig"] == {"Memory": 1, "PidMode": "container:aaa111"}
    Plan.for_call(rules, Call("DELETE", "/containers/aaa1"))
    assert join({"Image": "x"})["HostConfig"]["PidMode"] == "container:bbb222"


def test_cgroup_parent_puts_every_container_under_one_parent(body):
    assert rewrite("cgroup-parent=/conformance-machine", body)["HostConfig"]["CgroupParent"] == "/conformance-machine"
    with pytest.raises(FaultSpecError, match="absolute host path"):
        parse_fault("cgroup-parent=machine")


@pytest.mark.parametrize("claimed,expected", [("on", ["name=seccomp,profile=default", "name=userns"]),
                                              ("off", ["name=seccomp,profile=default"])])
def test_report_userns_claims_or_denies_remapping_in_info(claimed, expected):
    rules = tuple(parse_fault(f"report-userns={claimed}"))
    (rewrite_info,) = Plan.for_call(rules, Call("GET", "/info")).response_rewrites
    for options in (["name=seccomp,profile=default"], ["name=seccomp,profile=default", "name=userns"]):
        assert rewrite_info({"SecurityOptions": options})["SecurityOptions"] == expected
    with pytest.raises(FaultSpecError, match="on or =off"):
        parse_fault("report-userns=maybe")


def test_ignore_image_config_resets_what_the_client_left_to_the_image():
    result = rewrite("ignore-image-config", {"Image": "x"})
    assert (result["User"], result["WorkingDir"], result["Entrypoint"], result["Cmd"]) == ("0:0", "/", [""], ["sh"])
    assert rewrite("ignore-image-config", {"Image": "x", "Cmd": ["serve"]})["Cmd"] == ["serve"]


def test_ignore_image_config_keeps_what_the_client_asked_for():
    asked = {"Image": "x", "User": "5", "WorkingDir": "/w", "Entrypoint": ["/e"], "Cmd": ["c"]}
    assert rewrite("ignore-image-config", asked) == asked


def test_non_json_bodies_pass_unchanged():
    assert apply_json(b"not json", (create.drop_limits,)) == b"not json"


@pytest.mark.parametrize(
    "spec,message",
    [
        ("no-such-fault", "unknown fault"),
        ("pid-host=1", "takes no argument"),
        ("cap-add", "needs a comma-separated argument"),
        ("delay-start=soon", "needs a number of seconds"),
        ("delay-start=-1", "non-negative"),
        ("fake-remove=container,secret", "unknown kind"),
    ],
)
def test_bad_specs_are_refused_with_the_reason(spec, message):
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(spec)


SAMPLE_ARGUMENTS = {"cap-add": "SYS_ADMIN", "cap-drop": "NET_RAW", "delay-start": "0.5", "fake-remove": "container,volume,network,image",
                    "set-env": "GREETING=tampered", "hog": "8", "report-userns": "on",
                    "host-device": "/dev/vda", "shared-tmp": "/var/tmp/shared", "cgroup-parent": "/machine"}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_registered_fault_yields_rules_tagged_with_its_name(name):
    spec = f"{name}={SAMPLE_ARGUMENTS[name]}" if name in SAMPLE_ARGUMENTS else name
    rules = parse_fault(spec)
    assert rules and {rule.fault for rule in rules} == {name}


@pytest.mark.parametrize(
    "target,path,prefix,query",
    [
        ("/v1.41/containers/create?name=x", "/containers/create", "/v1.41", "name=x"),
        ("/containers/create", "/containers/create", "", ""),
        ("/v1.41/_ping", "/_ping", "/v1.41", ""),
        ("http://docker/v1.24/info", "/info", "/v1.24", ""),
        ("/version", "/version", "", ""),
    ],
)
def test_calls_are_matched_without_their_version_prefix(target, path, prefix, query):
    call = Call.from_target("post", target)
    assert (call.method, call.path, call.version_prefix, call.query) == ("POST", path, prefix, query)


def test_a_rewrite_that_breaks_is_an_error_not_a_silent_pass():
    with pytest.raises(RewriteError, match="claim_fake_version"):
        apply_json(b"[1, 2]", (reports.claim_fake_version,))



def test_the_readme_lists_every_fault_and_marks_the_report_only_ones():
    """The faulty engine's README table and the registry agree: every fault is listed, and
    marked *(report only)* exactly when the registry declares it ``rewrites_report``."""
    readme = (Path(__file__).resolve().parents[1] / "faulty_engine" / "README.md").read_text()
    listed, marked = set(), set()
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")] if line.startswith("| `") else []
        names = set(re.findall(r"`([a-z-]+)", cells[0])) if cells else set()
        listed |= names
        if cells and cells[1].startswith("*(report only)*"):
            marked |= names
    assert set(FAULTS) <= listed, f"faults missing from the README: {sorted(set(FAULTS) - listed)}"
    assert marked == {name for name, fault in FAULTS.items() if fault.response_only}
