from django.urls import re_path

from . import config

# Ruby's SDK calls ``…/v1/marketplaces``; Java and PHP join ``/marketplaces`` to a
# base that may already end in a slash, and some clients add a trailing one.
urlpatterns = [
    re_path(
        r"^[/]?marketplaces/?$",
        config.MarketplaceList.as_view(),
        name="config-marketplaces",
    ),
]
