from django import forms
from django.contrib import admin, messages

from hub.admin import HubModelAdmin
from hub.audit import audit_record

from . import services
from .models import OAuthClient


class OAuthClientAddForm(forms.ModelForm):
    name = forms.CharField(required=False, help_text="Service clients: whose they are.")
    redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="App sign-in clients: one URI a line, matched exactly.",
    )
    post_logout_redirect_uris = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="App sign-in clients: where logout may return, one a line.",
    )

    class Meta:
        model = OAuthClient
        fields = ["kind", "listing"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("kind") == OAuthClient.Kind.APP
            and not cleaned.get("redirect_uris", "").split()
        ):
            self.add_error("redirect_uris", "An app sign-in client needs one.")
        if cleaned.get("kind") == OAuthClient.Kind.SERVICE and not cleaned.get("name"):
            self.add_error("name", "Name the service.")
        return cleaned


@admin.register(OAuthClient)
class OAuthClientAdmin(HubModelAdmin):
    list_display = ["application", "client_id", "kind", "listing", "created_at"]
    list_filter = ["kind"]
    search_fields = ["application__client_id", "application__name"]
    list_select_related = ["application", "listing__app", "listing__tenant"]
    readonly_fields = ["application", "client_id", "kind", "listing", "created_at"]
    actions = ["rotate_secret"]

    @admin.display(description="client id")
    def client_id(self, client):
        return client.application.client_id

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = OAuthClientAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "kind",
                "listing",
                "name",
                "redirect_uris",
                "post_logout_redirect_uris",
            ]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        if obj.kind == OAuthClient.Kind.APP:
            client, secret = services.oauth_client_create(
                listing=obj.listing,
                redirect_uris=data["redirect_uris"].split(),
                post_logout_redirect_uris=data["post_logout_redirect_uris"].split(),
            )
        else:
            client, secret = services.service_client_create(
                name=data["name"], listing=obj.listing
            )
        # The admin goes on with the object it built; it becomes the saved row.
        obj.application = client.application
        obj.created_at = client.created_at
        obj._state.adding = False
        self._show_secret(request, client, secret)

    @admin.action(description="Issue a new client secret (the old one stops working)")
    def rotate_secret(self, request, queryset):
        for client in queryset.select_related("application"):
            secret = services.oauth_client_rotate_secret(client=client)
            audit_record(
                actor=request.user, action="oauth_client.rotate", target=client
            )
            self._show_secret(request, client, secret)

    def _show_secret(self, request, client, secret):
        self.message_user(
            request,
            f"Client {client.application.client_id}: secret {secret} "
            "(copy it now: it is not shown again)",
            messages.WARNING,
        )
