from django.urls import path

from digifit.programme import views

app_name = "programme"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("trainings/<slug:slug>/", views.training_detail, name="training"),
    path("series/<slug:slug>/", views.series_detail, name="series"),
    path("series/<slug:slug>/feed.ics", views.series_feed, name="series_feed"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/session.ics", views.session_ics, name="session_ics"),
    path("cancel/<str:token>/", views.registration_cancel, name="registration_cancel"),
    path("feed/<str:token>.ics", views.personal_feed, name="personal_feed"),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("me/confirm/", views.me_confirm, name="me_confirm"),
    path("checks/<str:token>/claim/", views.check_claim, name="check_claim"),
    path("claim/<str:token>/", views.check_claim_link, name="check_claim_link"),
    path("me/", views.me, name="me"),
    path("me/export.json", views.me_export, name="me_export"),
    path("me/delete/", views.me_delete, name="me_delete"),
    path("coach/", views.coach_agenda, name="coach"),
    path("coach/sessions/<int:session_id>/", views.coach_agenda, name="coach_session"),
    path("coach/registrations/<int:registration_id>/attendance", views.attendance, name="attendance"),
    path("coach/sessions/<int:session_id>/all-present", views.attendance_all_present, name="attendance_all_present"),
    path("reach/", views.reach_dashboard, name="reach"),
    path("reach.csv", views.reach_csv, name="reach_csv"),
    path("courses/import/", views.course_import, name="course_import"),
]
