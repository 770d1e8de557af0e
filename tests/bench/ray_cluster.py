"""Run `nemo bench --executor ray` against a local Ray cluster of a head and two worker nodes.

    python tests/bench/ray_cluster.py BENCH-ARGS...

Started as its own process by test_ray.py: Ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 at import
(every node then listens on 127.0.0.1 only), and the cluster's processes are this script's to end.
The head has no CPUs, so every task runs on one of the two worker nodes.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def main(argv: list[str]) -> int:
    from ray.cluster_utils import Cluster

    from nemo_lsp.bench.cli import main as bench

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        return bench([*argv, "--executor", "ray", "--address", cluster.address])
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
