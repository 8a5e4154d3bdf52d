"""``AWSCluster``: a cluster of EC2 instances created (or reused) with boto3.

Instances are found by their tags (``creator``, ``Purpose=flambe``, ``Cluster-Name``,
``Role``), so running the same cluster config again reuses the live instances and creates only
what is missing. Idle instances can terminate themselves: a CloudWatch alarm per instance
terminates it after ``<role>_timeout`` hours of low CPU (-1: never). A bring-up that fails
terminates the instances it created. Credentials come from boto3's usual chain; set
``AWS_ENDPOINT_URL`` to use another EC2-compatible endpoint.

.. code-block:: yaml

    !AWSCluster
    name: my-cluster
    factories_num: 2
    factories_type: g5.xlarge
    orchestrator_type: t3.large
    creator: you@example.com
    key: ~/.ssh/my-aws-key.pem
    key_name: my-aws-key
    security_group: sg-0123456789abcdef0
    subnet_id: subnet-0123456789abcdef0
    region_name: us-east-1
    volume_type: gp3
"""

from __future__ import annotations

import logging
from typing import Any

from flambe.cluster.cluster import Cluster
from flambe.cluster.errors import ClusterConfigurationError, ClusterError

logger = logging.getLogger(__name__)

VOLUME_TYPES = ("gp2", "gp3", "io1", "io2")
ORCHESTRATOR = "Orchestrator"
FACTORY = "Factory"
ALARM_PREFIX = "Flambe_Instance_Terminate_CPU_Utilization_"
#: average CPU (%) under which an instance counts as idle
IDLE_CPU = {ORCHESTRATOR: 4.0, FACTORY: 0.5}
RESERVED_TAGS = ("creator", "name", "purpose", "cluster-name", "role")


class VolumeTypeError(ClusterConfigurationError, ValueError):
    """An EBS volume type Flambé does not support."""


class AWSCluster(Cluster):
    """A cluster of EC2 instances: one orchestrator and ``factories_num`` factories.

    Parameters
    ----------
    name : str
        The cluster's name (tag ``Cluster-Name``).
    factories_num : int
        How many factories.
    factories_type, orchestrator_type : str
        EC2 instance types (``g5.xlarge``, ``t3.large``).
    key_name : str
        The EC2 key pair the instances are created with.
    security_group : str
        The security group id (SSH from your address, all traffic inside the group).
    subnet_id : str
        The subnet the instances are created in.
    creator : str
        Who owns the instances (tag ``creator``): only instances with your creator tag are
        reused or terminated.
    key : str
        The private key of ``key_name`` on this machine (never uploaded).
    volume_type : str
        ``gp2``, ``gp3``, ``io1`` or ``io2`` (io volumes get 5000 IOPS).
    region_name : str, optional
        The AWS region (default: boto3's).
    username : str
        The user of the AMI (``ubuntu``).
    tags : dict, optional
        More tags for instances and volumes (not ``creator`` nor ``Name``).
    orchestrator_ami, factory_ami : str, optional
        AMI ids; by default the image you own named ``flambe-<role>-ami 0.0.0``.
    dedicated : bool
        Dedicated tenancy.
    orchestrator_timeout, factories_timeout : int
        Hours of idleness after which an instance terminates itself (0: 5 minutes,
        -1: never). Factories must not outlive the orchestrator.
    volume_size : int
        Root volume size in GB.
    setup_cmds : list of str, optional
        Shell commands run on every host at bring-up.
    **kwargs
        The other options of :class:`~flambe.cluster.Cluster`.

    """

    def __init__(
        self,
        name: str,
        factories_num: int,
        factories_type: str,
        orchestrator_type: str,
        key_name: str,
        security_group: str,
        subnet_id: str,
        creator: str,
        key: str,
        volume_type: str = "gp3",
        region_name: str | None = None,
        username: str = "ubuntu",
        tags: dict[str, str] | None = None,
        orchestrator_ami: str | None = None,
        factory_ami: str | None = None,
        dedicated: bool = False,
        orchestrator_timeout: int = -1,
        factories_timeout: int = 1,
        volume_size: int = 100,
        setup_cmds: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, factories_num, key, username, setup_cmds, **kwargs)
        self.factories_type = factories_type
        self.orchestrator_type = orchestrator_type
        self.key_name = key_name
        self.security_group = security_group
        self.subnet_id = subnet_id
        self.creator = creator
        self.volume_type = volume_type
        self.region_name = region_name
        self.tags = dict(tags or {})
        self.orchestrator_ami = orchestrator_ami
        self.factory_ami = factory_ami
        self.dedicated = bool(dedicated)
        self.orchestrator_timeout = orchestrator_timeout
        self.factories_timeout = factories_timeout
        self.volume_size = volume_size
        self.created: list[str] = []
        self.instance_ids: dict[str, list[str]] = {ORCHESTRATOR: [], FACTORY: []}
        self._clients: dict[str, Any] = {}
        self.parse()

    # -- checks -----------------------------------------------------------------------------
    def parse(self) -> None:
        """Check the options (see the parameters).

        Raises
        ------
        ClusterConfigurationError
            Timeouts that let factories outlive the orchestrator, reserved tags, bad sizes.
        VolumeTypeError
            An unsupported volume type (also a ``ValueError``).

        """
        if self.volume_type not in VOLUME_TYPES:
            raise VolumeTypeError(
                f"volume_type {self.volume_type!r} is not supported",
                hint="use one of " + ", ".join(VOLUME_TYPES),
            )
        for field in ("orchestrator_timeout", "factories_timeout", "volume_size"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ClusterConfigurationError(f"{field} must be a whole number, got {value!r}")
        if self.volume_size < 8:
            raise ClusterConfigurationError(
                f"volume_size {self.volume_size} GB is too small", hint="give at least 8 (GB)"
            )
        if self.orchestrator_timeout < -1 or self.factories_timeout < -1:
            raise ClusterConfigurationError("timeouts are hours >= 0, or -1 for never")
        if self.orchestrator_timeout > -1:
            if self.factories_timeout == -1 or self.factories_timeout > self.orchestrator_timeout:
                raise ClusterConfigurationError(
                    "Factories can't be terminated after the orchestrator: factories_timeout "
                    f"({self.factories_timeout}) must be between 0 and orchestrator_timeout "
                    f"({self.orchestrator_timeout})",
                    hint="lower factories_timeout, or set orchestrator_timeout: -1",
                )
        for tag in self.tags:
            if str(tag).lower() in RESERVED_TAGS:
                raise ClusterConfigurationError(
                    f"tags: {tag!r} is set by Flambé and cannot be given",
                    hint="remove it; Flambé sets creator, Name, Purpose, Cluster-Name and Role",
                )
        for field in (
            "factories_type",
            "orchestrator_type",
            "key_name",
            "security_group",
            "subnet_id",
            "creator",
        ):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise ClusterConfigurationError(f"{field} must be a non-empty string")

    # -- boto3 ------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` in the cluster's region (made once)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=self.region_name)
        return self._clients[service]

    def _aws(self, what: str, fn: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ClusterError(
                f"AWS refused to {what}: {exc}",
                hint="check your AWS credentials, region and the ids in the cluster config",
            ) from exc

    def base_tags(self, role: str, name: str) -> list[dict[str, str]]:
        """The tags of an instance and its volume."""
        tags = {
            "creator": self.creator,
            "Purpose": "flambe",
            "Cluster-Name": self.name,
            "Role": role,
            "Name": name,
            **{str(k): str(v) for k, v in self.tags.items()},
        }
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def find_instances(self, role: str | None = None) -> list[dict[str, Any]]:
        """Running (or starting) instances of this cluster and creator."""
        filters = [
            {"Name": "tag:creator", "Values": [self.creator]},
            {"Name": "tag:Purpose", "Values": ["flambe"]},
            {"Name": "tag:Cluster-Name", "Values": [self.name]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
        if role:
            filters.append({"Name": "tag:Role", "Values": [role]})
        pages = self._aws("list instances", self.client("ec2").describe_instances, Filters=filters)
        found = [i for r in pages["Reservations"] for i in r["Instances"]]
        return sorted(found, key=lambda i: (str(i.get("LaunchTime")), i["InstanceId"]))

    def get_ami(self, role: str) -> str:
        """The AMI of a role: the one given, else ``flambe-<role>-ami 0.0.0`` that you own."""
        given = self.orchestrator_ami if role == ORCHESTRATOR else self.factory_ami
        if given:
            return given
        kind = "orchestrator" if role == ORCHESTRATOR else "factory"
        wanted = f"flambe-{kind}-ami 0.0.0"
        images = self._aws(
            "list images",
            self.client("ec2").describe_images,
            Owners=["self"],
            Filters=[{"Name": "name", "Values": [wanted]}],
        )["Images"]
        if not images:
            raise ClusterError(
                f"no AMI named {wanted!r} is owned by this account",
                hint=f"give {kind}_ami: ami-... in the cluster config",
            )
        return images[0]["ImageId"]

    def create_instances(self, role: str, count: int, names: list[str]) -> list[dict[str, Any]]:
        """Create ``count`` instances of a role and wait until they run."""
        ec2 = self.client("ec2")
        volume: dict[str, Any] = {
            "VolumeSize": self.volume_size,
            "VolumeType": self.volume_type,
            "DeleteOnTermination": True,
        }
        if self.volume_type.startswith("io"):
            volume["Iops"] = 5000
        made = []
        for name in names[:count]:
            answer = self._aws(
                f"create the {role.lower()} {name}",
                ec2.run_instances,
                ImageId=self.get_ami(role),
                InstanceType=self.orchestrator_type
                if role == ORCHESTRATOR
                else self.factories_type,
                MinCount=1,
                MaxCount=1,
                KeyName=self.key_name,
                SecurityGroupIds=[self.security_group],
                SubnetId=self.subnet_id,
                BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": volume}],
                Placement={"Tenancy": "dedicated" if self.dedicated else "default"},
                EbsOptimized=True,
                MetadataOptions={"HttpTokens": "required"},
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": self.base_tags(role, name)},
                    {"ResourceType": "volume", "Tags": self.base_tags(role, name)},
                ],
            )
            instance = answer["Instances"][0]
            self.created.append(instance["InstanceId"])
            made.append(instance)
            logger.info("Created %s %s (%s)", role.lower(), name, instance["InstanceId"])
        if made:
            ids = [i["InstanceId"] for i in made]
            self._aws(
                "wait for the instances",
                ec2.get_waiter("instance_running").wait,
                InstanceIds=ids,
                WaiterConfig={"Delay": 5, "MaxAttempts": 120},
            )
            described = self._aws("describe the instances", ec2.describe_instances, InstanceIds=ids)
            made = [i for r in described["Reservations"] for i in r["Instances"]]
        return made

    # -- addresses (tests map moto's made-up addresses here) -------------------------------
    def addresses(self, instance: dict[str, Any]) -> tuple[str, str]:
        """``(public, private)`` address of an instance (public falls back to private)."""
        private = instance.get("PrivateIpAddress")
        public = instance.get("PublicIpAddress") or private
        if not private:
            raise ClusterError(f"instance {instance['InstanceId']} has no address yet")
        return str(public), str(private)

    # -- bring-up ---------------------------------------------------------------------------
    def ssh_retries(self) -> int:
        """New instances take minutes to boot: wait up to 5 minutes for SSH by default."""
        return 300 if self._ssh_retries is None else self._ssh_retries

    def load_all_instances(self) -> None:
        """Reuse this cluster's running instances, create the missing ones, tag and alarm them.

        Raises
        ------
        ClusterError
            More than one orchestrator runs, or AWS refused a request.

        """
        orchestrators = self.find_instances(ORCHESTRATOR)
        if len(orchestrators) > 1:
            raise ClusterError(
                f"{len(orchestrators)} orchestrators of cluster {self.name} (creator "
                f"{self.creator}) are running: "
                + ", ".join(i["InstanceId"] for i in orchestrators),
                hint="terminate the extra ones in the EC2 console, then run again",
            )
        if not orchestrators:
            orchestrators = self.create_instances(ORCHESTRATOR, 1, [self.get_orchestrator_name()])
        factories = self.find_instances(FACTORY)
        missing = self.factories_num - len(factories)
        if missing > 0:
            names = [
                f"{self.get_factory_basename()}_{len(factories) + i + 1}" for i in range(missing)
            ]
            factories += self.create_instances(FACTORY, missing, names)
        factories = factories[: max(self.factories_num, 0)] if missing < 0 else factories
        self.instance_ids = {
            ORCHESTRATOR: [orchestrators[0]["InstanceId"]],
            FACTORY: [f["InstanceId"] for f in factories],
        }
        self._name_and_alarm(orchestrators[0], factories)
        public, private = self.addresses(orchestrators[0])
        self.orchestrator = self.get_orchestrator(public, private, use_public=True)
        self.factories = []
        for index, factory in enumerate(factories):
            public, private = self.addresses(factory)
            self.factories.append(self.get_factory(public, private, True, index=index))

    def _name_and_alarm(
        self, orchestrator: dict[str, Any], factories: list[dict[str, Any]]
    ) -> None:
        ec2 = self.client("ec2")
        named = [(orchestrator, ORCHESTRATOR, self.get_orchestrator_name())] + [
            (f, FACTORY, f"{self.get_factory_basename()}_{i + 1}") for i, f in enumerate(factories)
        ]
        for instance, role, name in named:
            ids = [instance["InstanceId"]] + [
                m["Ebs"]["VolumeId"] for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m
            ]
            self._aws(
                "tag the instances", ec2.create_tags, Resources=ids, Tags=self.base_tags(role, name)
            )
            self.set_idle_alarm(instance["InstanceId"], role)

    def set_idle_alarm(self, instance_id: str, role: str) -> None:
        """(Re)set the alarm that terminates an idle instance (none when the timeout is -1)."""
        cloudwatch = self.client("cloudwatch")
        timeout = self.orchestrator_timeout if role == ORCHESTRATOR else self.factories_timeout
        name = f"{ALARM_PREFIX}{instance_id}"
        if timeout < 0:
            self._aws("delete an alarm", cloudwatch.delete_alarms, AlarmNames=[name])
            return
        # recent busy points, so that the idleness before this bring-up does not count
        import datetime

        now = datetime.datetime.now(datetime.timezone.utc)
        self._aws(
            "write CPU points",
            cloudwatch.put_metric_data,
            Namespace="AWS/EC2",
            MetricData=[
                {
                    "MetricName": "CPUUtilization",
                    "Value": 100.0,
                    "Unit": "Percent",
                    "Timestamp": now - datetime.timedelta(minutes=i),
                    "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                }
                for i in range(10)
            ],
        )
        minutes = 5 if timeout == 0 else timeout * 60
        region = self.client("ec2").meta.region_name
        self._aws(
            "create an alarm",
            cloudwatch.put_metric_alarm,
            AlarmName=name,
            AlarmDescription=f"Terminate {instance_id} of the Flambé cluster {self.name} "
            f"after {minutes} idle minutes",
            ActionsEnabled=True,
            AlarmActions=[f"arn:aws:automate:{region}:ec2:terminate"],
            MetricName="CPUUtilization",
            Namespace="AWS/EC2",
            Statistic="Average",
            Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
            Period=300,
            EvaluationPeriods=max(1, minutes // 5),
            Threshold=IDLE_CPU[role],
            ComparisonOperator="LessThanThreshold",
            TreatMissingData="notBreaching",
        )

    def rollback_env(self) -> None:
        """Terminate the instances this bring-up created (reused ones are left alone)."""
        if self.created:
            logger.warning(
                "Bring-up failed: terminating the instances it created: %s", ", ".join(self.created)
            )
            self.terminate_instances(self.created)
            self.created = []

    def terminate_instances(self, ids: list[str] | None = None) -> list[str]:
        """Terminate instances (default: every instance of this cluster) and their alarms."""
        ids = list(ids) if ids is not None else [i["InstanceId"] for i in self.find_instances()]
        if ids:
            self._aws(
                "terminate instances", self.client("ec2").terminate_instances, InstanceIds=ids
            )
            self._aws(
                "delete alarms",
                self.client("cloudwatch").delete_alarms,
                AlarmNames=[f"{ALARM_PREFIX}{i}" for i in ids],
            )
        return ids

    def record(self) -> dict[str, Any]:
        """``hosts.json``, with what ``flambe cluster down`` needs to find the instances."""
        record = super().record()
        record["aws"] = {
            "region": self.client("ec2").meta.region_name,
            "creator": self.creator,
            "cluster": self.name,
            "instances": self.instance_ids[ORCHESTRATOR] + self.instance_ids[FACTORY],
        }
        return record


def terminate_recorded(aws: dict[str, Any]) -> list[str]:
    """Terminate the instances Flambé created for a recorded cluster (found by their tags).

    Only running instances tagged ``Purpose=flambe`` with the record's creator and cluster name
    are terminated, never anything else in the account.
    """
    import boto3

    ec2 = boto3.client("ec2", region_name=aws.get("region"))
    pages = ec2.describe_instances(
        Filters=[
            {"Name": "tag:creator", "Values": [aws["creator"]]},
            {"Name": "tag:Purpose", "Values": ["flambe"]},
            {"Name": "tag:Cluster-Name", "Values": [aws["cluster"]]},
            {
                "Name": "instance-state-name",
                "Values": ["pending", "running", "stopping", "stopped"],
            },
        ]
    )
    ids = [i["InstanceId"] for r in pages["Reservations"] for i in r["Instances"]]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
        boto3.client("cloudwatch", region_name=aws.get("region")).delete_alarms(
            AlarmNames=[f"{ALARM_PREFIX}{i}" for i in ids]
        )
    return ids
