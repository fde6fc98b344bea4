"""Speed figures of the platform, each against a ceiling measured in the same run.

One module per benchmark, each with ``run(*, base_url, seconds, progress)`` that
returns its figures; ``manage.py benchmark`` runs them by name.
"""

from . import (
    connec_batch,
    connec_post,
    connec_query,
    hub_dev_api,
    idm,
    rollback,
    webhook_latency,
    webhook_throughput,
)

BENCHMARKS = {
    connec_batch.NAME: connec_batch.run,
    connec_post.NAME: connec_post.run,
    connec_query.NAME: connec_query.run,
    hub_dev_api.NAME: hub_dev_api.run,
    idm.NAME: idm.run,
    rollback.NAME: rollback.run,
    webhook_latency.NAME: webhook_latency.run,
    webhook_throughput.NAME: webhook_throughput.run,
}
