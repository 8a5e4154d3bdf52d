"""AWSCluster against a moto server, with the SSH half of the bring-up run for real.

moto makes up the instances' addresses; :class:`MappedAWSCluster` (the only test double here)
maps each instance to a namespace host by its Role and Name tags, so everything after the EC2
calls (SSH, installing Flambé, Ray) runs on real hosts. Nothing connects to moto's addresses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flambe.cluster.aws import AWSCluster
from flambe.cluster.errors import ClusterConfigurationError, ClusterError
from tests.cluster.conftest import base_python, env_setup_cmds

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(600)]


class MappedAWSCluster(AWSCluster):
    """An AWSCluster whose instances are reached at namespace hosts (see the module doc)."""

    host_map: dict[str, str] = {}

    def addresses(self, instance: dict[str, Any]) -> tuple[str, str]:
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        key = "orchestrator" if tags.get("Role") == "Orchestrator" else tags["Name"][-1]
        address = self.host_map[key]
        return address, address


@pytest.fixture
def vpc(aws_env: str) -> dict[str, str]:
    import boto3

    ec2 = boto3.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return {"subnet": subnet, "group": group, "ami": ami}


def make(
    vpc: dict[str, str], key: Path, name: str, hosts: dict[str, str], **options: Any
) -> MappedAWSCluster:
    cluster_class = type("Mapped", (MappedAWSCluster,), {"host_map": hosts})
    settings = dict(
        name=name,
        factories_num=2,
        factories_type="g5.xlarge",
        orchestrator_type="t3.large",
        key_name="flambe-key",
        security_group=vpc["group"],
        subnet_id=vpc["subnet"],
        creator="tester",
        key=str(key),
        username="root",
        orchestrator_ami=vpc["ami"],
        python=base_python(),
        setup_cmds=env_setup_cmds(),
        pip_args=["--no-index"],
    )
    settings.update(options)
    return cluster_class(**settings)


def instances(name: str, states: tuple[str, ...] = ("running",)) -> list[dict[str, Any]]:
    import boto3

    pages = boto3.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:Cluster-Name", "Values": [name]},
            {"Name": "instance-state-name", "Values": list(states)},
        ]
    )
    return [i for r in pages["Reservations"] for i in r["Instances"]]


def tags_of(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


@pytest.mark.parametrize(
    "orchestrator_timeout, factories_timeout, tags",
    [
        (5, 10, {}),
        (5, -1, {}),
        (-1, 1, {"Creator": "x"}),
        (-1, 1, {"NAME": "x"}),
    ],
)
def test_parse_refuses_bad_timeouts_and_reserved_tags(
    orchestrator_timeout: int, factories_timeout: int, tags: dict[str, str]
) -> None:
    with pytest.raises(ClusterConfigurationError):
        AWSCluster(
            "c",
            1,
            "t3.large",
            "t3.large",
            "k",
            "sg-1",
            "subnet-1",
            "me",
            "~/.ssh/k",
            orchestrator_timeout=orchestrator_timeout,
            factories_timeout=factories_timeout,
            tags=tags,
        )


def test_parse_accepts_good_timeouts_and_refuses_st1() -> None:
    for orch, factories in ((-1, 1), (5, 0), (5, 5)):
        AWSCluster(
            "c",
            1,
            "t3.large",
            "t3.large",
            "k",
            "sg-1",
            "subnet-1",
            "me",
            "~/.ssh/k",
            orchestrator_timeout=orch,
            factories_timeout=factories,
        )
    with pytest.raises(ValueError, match="st1"):
        AWSCluster(
            "c",
            1,
            "t3.large",
            "t3.large",
            "k",
            "sg-1",
            "subnet-1",
            "me",
            "~/.ssh/k",
            volume_type="st1",
        )


def test_yaml_errors_are_located(tmp_path: Path) -> None:
    config = tmp_path / "aws.yaml"
    config.write_text(
        "!AWSCluster\nname: c\nfactories_num: 1\nfactories_type: t3.large\n"
        "orchestrator_type: t3.large\nkey_name: k\nsecurity_group: sg-1\n"
        "subnet_id: subnet-1\ncreator: me\nkey: ~/.ssh/k\nvolume_type: st1\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config)], capture_output=True, text=True
    )
    assert done.returncode == 22
    assert f"{config}:1" in done.stderr and "st1" in done.stderr, done.stderr


def test_create_reuse_tag_alarm_and_tear_down(
    vpc: dict[str, str], network: Any, user_key: Path, tmp_path: Path
) -> None:
    import boto3

    ec2 = boto3.client("ec2")
    hosts = list(network.hosts.values())
    mapping = {"orchestrator": hosts[0].address, "1": hosts[1].address, "2": hosts[2].address}
    # the factories' AMI is found by its name, among the account's own images
    seed = ec2.run_instances(ImageId=vpc["ami"], InstanceType="t3.micro", MinCount=1, MaxCount=1)[
        "Instances"
    ][0]["InstanceId"]
    factory_ami = ec2.create_image(InstanceId=seed, Name="flambe-factory-ami 0.0.0")["ImageId"]
    cluster = make(
        vpc,
        user_key,
        "aws-ns",
        mapping,
        volume_type="gp3",
        volume_size=50,
        dedicated=True,
        orchestrator_timeout=2,
        factories_timeout=1,
        tags={"project": "nlp"},
    )
    sent: list[dict[str, Any]] = []
    cluster.client("ec2").meta.events.register(
        "provide-client-params.ec2.RunInstances", lambda params, **kw: sent.append(params)
    )
    cluster.run()

    running = instances("aws-ns")
    assert len(running) == 3
    roles = sorted(tags_of(i)["Role"] for i in running)
    assert roles == ["Factory", "Factory", "Orchestrator"]
    for instance in running:
        tags = tags_of(instance)
        assert {k: tags[k] for k in ("creator", "Purpose", "Cluster-Name", "project")} == {
            "creator": "tester",
            "Purpose": "flambe",
            "Cluster-Name": "aws-ns",
            "project": "nlp",
        }
        orchestrator = tags["Role"] == "Orchestrator"
        assert tags["Name"] == (
            "aws-ns_orchestrator" if orchestrator else f"aws-ns_factory_{tags['Name'][-1]}"
        )
        assert instance["InstanceType"] == ("t3.large" if orchestrator else "g5.xlarge")
        assert instance["ImageId"] == (vpc["ami"] if orchestrator else factory_ami)
        assert instance["SubnetId"] == vpc["subnet"] and instance["KeyName"] == "flambe-key"
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [vpc["group"]]
        mappings = instance["BlockDeviceMappings"]
        assert [m["DeviceName"] for m in mappings] == ["/dev/sda1"]
        volume = ec2.describe_volumes(VolumeIds=[mappings[0]["Ebs"]["VolumeId"]])["Volumes"][0]
        assert (volume["VolumeType"], volume["Size"]) == ("gp3", 50)
        assert tags_of(volume)["Cluster-Name"] == "aws-ns"
    # moto does not keep the tenancy: check what was asked of EC2
    assert [p["Placement"]["Tenancy"] for p in sent] == ["dedicated"] * 3
    assert all(p["BlockDeviceMappings"][0]["Ebs"]["DeleteOnTermination"] for p in sent)
    # idle auto-termination: 2 h for the orchestrator (CPU < 4 %), 1 h for factories (< 0.5 %)
    alarms = boto3.client("cloudwatch").describe_alarms(
        AlarmNamePrefix="Flambe_Instance_Terminate_CPU_Utilization_"
    )["MetricAlarms"]
    by_instance = {a["Dimensions"][0]["Value"]: a for a in alarms}
    for instance in running:
        alarm = by_instance[instance["InstanceId"]]
        orchestrator = tags_of(instance)["Role"] == "Orchestrator"
        assert alarm["Threshold"] == (4.0 if orchestrator else 0.5)
        assert alarm["Period"] * alarm["EvaluationPeriods"] == (2 if orchestrator else 1) * 3600
        assert alarm["AlarmActions"] == ["arn:aws:automate:us-east-1:ec2:terminate"]
    # Ray came up over SSH on the mapped hosts
    nodes = cluster.orchestrator.cluster_resources()
    assert sorted(n["hostname"] for n in nodes) == ["factory1", "factory2", "orch"]
    assert cluster.contains_gpu_factories() is False

    # reuse: a second cluster object with the same name and creator creates nothing
    again = make(vpc, user_key, "aws-ns", mapping, orchestrator_timeout=-1)
    again.load_all_instances()
    assert again.created == [] and len(instances("aws-ns")) == 3
    no_alarm = {
        a["Dimensions"][0]["Value"]
        for a in boto3.client("cloudwatch").describe_alarms(
            AlarmNamePrefix="Flambe_Instance_Terminate_CPU_Utilization_"
        )["MetricAlarms"]
    }
    assert again.instance_ids["Orchestrator"][0] not in no_alarm  # -1: the alarm is removed

    # a second orchestrator of the same cluster and creator is an error
    extra = ec2.run_instances(
        ImageId=vpc["ami"],
        InstanceType="t3.large",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": again.base_tags("Orchestrator", "x")}
        ],
    )["Instances"][0]["InstanceId"]
    with pytest.raises(ClusterError, match="2 orchestrators"):
        make(vpc, user_key, "aws-ns", mapping).load_all_instances()
    ec2.terminate_instances(InstanceIds=[extra])

    # down: Ray stopped, the cluster's instances terminated, nothing else
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "cluster", "down", "aws-ns", "--yes"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert instances("aws-ns") == []
    assert not cluster.orchestrator.is_node_running()
    state = ec2.describe_instances(InstanceIds=[seed])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "running"
    assert not boto3.client("cloudwatch").describe_alarms(
        AlarmNamePrefix="Flambe_Instance_Terminate_CPU_Utilization_"
    )["MetricAlarms"]


def test_unreachable_host_rolls_back_what_was_created(
    vpc: dict[str, str], network: Any, user_key: Path
) -> None:
    silent = network.hosts.get("silent") or network.add_host("silent")  # no sshd there
    hosts = list(network.hosts.values())
    mapping = {"orchestrator": hosts[0].address, "1": silent.address}
    cluster = make(vpc, user_key, "aws-broken", mapping, factories_num=1, ssh_retries=1)
    with pytest.raises(ClusterError) as info:
        cluster.run()
    assert silent.address in str(info.value) and "aws-broken_factory_1" in str(info.value)
    assert instances("aws-broken") == []
    terminated = instances("aws-broken", ("shutting-down", "terminated"))
    assert sorted(tags_of(i)["Role"] for i in terminated) == ["Factory", "Orchestrator"]
