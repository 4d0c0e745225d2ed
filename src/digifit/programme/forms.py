"""Forms of the programme's pages (validation of input only; the writes are services)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from digifit.programme.models import Format, Language, Level, Region, Registration, Sector, SizeClass, Topic

_ANY = [("", _("all"))]


class CatalogueFilter(forms.Form):
    sector = forms.ChoiceField(label=_("Sector"), required=False, choices=_ANY + list(Sector.choices[:3]))
    topic = forms.ChoiceField(label=_("Channel or topic"), required=False, choices=_ANY + list(Topic.choices))
    level = forms.ChoiceField(label=_("Level"), required=False, choices=_ANY + list(Level.choices))
    format = forms.ChoiceField(label=_("Format"), required=False, choices=_ANY + list(Format.choices))
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_ANY + list(Language.choices))
    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class BusinessSignupForm(forms.Form):
    company = forms.CharField(label=_("Company"), max_length=200)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    size_class = forms.ChoiceField(label=_("Size"), choices=SizeClass.choices)
    region = forms.ChoiceField(label=_("Federal state"), choices=Region.choices)
    contact_name = forms.CharField(label=_("Contact person"), max_length=200)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.CharField(label=_("Phone (optional)"), max_length=50, required=False)
    language = forms.ChoiceField(label=_("Language for e-mails"), choices=Language.choices)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, min_length=10)
    consent = forms.BooleanField(label=_("I agree to the processing described above."), required=True)

    def clean_password(self) -> str:
        value = self.cleaned_data["password"]
        # the validators know the account to be: a password like the e-mail or the contact's name is refused
        email = self.cleaned_data.get("email", "")
        account = User(username=email, email=email, first_name=self.cleaned_data.get("contact_name", ""))
        validate_password(value, user=account)
        return value


class ClaimEmailForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of your business account"))


class RegisterForm(forms.Form):
    role = forms.ChoiceField(
        label=_("How do you want to take part?"), choices=Registration.Role.choices, widget=forms.RadioSelect
    )
    question = forms.CharField(
        label=_("Your question or problem (required for an active place)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class NotesForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class RecordingForm(forms.Form):
    url = forms.URLField(label=_("Recording link"), assume_scheme="https")
