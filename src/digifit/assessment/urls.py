from django.urls import path

from digifit.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.check_form, name="check"),
    path("r/<str:token>/", views.result, name="result"),
    path("r/<str:token>/result.pdf", views.result_pdf, name="result_pdf"),
    path("r/<str:token>/consent", views.consent, name="consent"),
    path("r/<str:token>/delete", views.delete, name="delete"),
]
