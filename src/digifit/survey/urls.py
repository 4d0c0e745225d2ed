from django.urls import path

from digifit.survey import views

app_name = "survey"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("questionnaires/<str:form_id>/", views.questionnaire_detail, name="questionnaire"),
    path("waves/<int:wave_id>/", views.wave_detail, name="wave"),
    path("waves/<int:wave_id>/status", views.wave_status, name="wave_status"),
    path("waves/<int:wave_id>/submissions/", views.submission_list, name="submissions"),
    path("submissions/<str:instance_id>/", views.submission_detail, name="submission"),
]
