from django.urls import path

from digifit.survey import mail_text_pages, preview_pages, respond, views, webhook_pages

app_name = "survey"
urlpatterns = [
    path("surveys/", views.dashboard, name="dashboard"),  # the survey list (was "/": that is the front door now)
    path("questionnaires/<str:form_id>/", views.questionnaire_detail, name="questionnaire"),
    path(
        "questionnaires/<str:form_id>/versions/<str:version>/test/",
        preview_pages.version_test,
        name="version_test",
    ),
    path("questionnaires/<str:form_id>/webhooks/", webhook_pages.webhook_list, name="webhooks"),
    path("webhooks/<int:webhook_id>/", webhook_pages.webhook_detail, name="webhook"),
    path("waves/<int:wave_id>/", views.wave_detail, name="wave"),
    path("waves/<int:wave_id>/status", views.wave_status, name="wave_status"),
    path("waves/<int:wave_id>/invitations/", views.invitation_list, name="invitations"),
    path("waves/<int:wave_id>/invitations/texts/", mail_text_pages.mail_texts, name="mail_texts"),
    path("waves/<int:wave_id>/submissions/", views.submission_list, name="submissions"),
    path("submissions/<str:instance_id>/", views.submission_detail, name="submission"),
    # the respondent form (no account): an invitation's link, and a wave's open link
    path("r/open/<str:key>/", respond.respond_open, name="respond_open"),
    path("r/open/<str:key>/relevance", respond.respond_open_relevance, name="respond_open_relevance"),
    path("r/open/<str:key>/thanks", respond.respond_open_thanks, name="respond_open_thanks"),
    path("r/test/<str:key>/", respond.respond_test, name="respond_test"),
    path("r/test/<str:key>/relevance", respond.respond_test_relevance, name="respond_test_relevance"),
    path("r/test/<str:key>/thanks", respond.respond_test_thanks, name="respond_test_thanks"),
    path("r/<str:token>/", respond.respond_form, name="respond_form"),
    path("r/<str:token>/relevance", respond.respond_relevance, name="respond_relevance"),
    path("r/<str:token>/thanks", respond.respond_thanks, name="respond_thanks"),
]
