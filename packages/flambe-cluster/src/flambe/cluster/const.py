"""Constants of flambe-cluster: timeouts, retries, ports and file names on the hosts."""

from __future__ import annotations

#: seconds an SSH connection or command may stay silent before it fails
SOCKET_TIMEOUT = 50
#: seconds between two tries (waiting for SSH, retried commands)
RETRY_DELAY = 1
#: how many times a host is polled before it is declared unreachable
RETRIES = 60
#: the port of the Ray head (its GCS server) on the orchestrator
RAY_PORT = 6379
#: kept for configs of the original Flambé; the Ray head listens on RAY_PORT
RAY_REDIS_PORT = RAY_PORT
#: the per-cluster key pair hosts use to reach each other, in each host's home
PRIVATE_KEY = ".flambe/cluster/ray_bootstrap_key.pem"
PUBLIC_KEY = ".flambe/cluster/ray_bootstrap_key.pub"
KNOWN_HOSTS = ".flambe/cluster/known_hosts"  # every host's pinned key, for host-to-host SSH
#: Ray's authentication token on each host (RAY_AUTH_TOKEN_PATH)
RAY_TOKEN = ".flambe/cluster/ray_auth_token"
#: the Flambé environment on each host (a virtual environment)
REMOTE_ENV = ".flambe/env"
#: where wheels and extensions are uploaded on each host
REMOTE_WHEELS = ".flambe/wheels"
REMOTE_EXTENSIONS = "extensions"
#: folders of the submitted experiments on the orchestrator (one per experiment name)
REMOTE_RUNS = "flambe-runs"
#: the report site and TensorBoard ports on the orchestrator (bound to its loopback)
REPORT_SITE_PORT = 49558
TENSORBOARD_PORT = 49556
#: files above this size are uploaded with a warning
LARGE_FILE_BYTES = 10 * 1024 * 1024
