"""Speed figures of the platform, each against a ceiling measured in the same run.

One module per benchmark, each with ``run(*, base_url, seconds, progress)`` that
returns its figures; ``manage.py benchmark`` runs them by name.
"""

from . import connec_post, hub_dev_api, idm

BENCHMARKS = {
    connec_post.NAME: connec_post.run,
    hub_dev_api.NAME: hub_dev_api.run,
    idm.NAME: idm.run,
}
