from django.urls import path

from digifit.learning import views

app_name = "learning"
urlpatterns = [
    path("", views.course_list, name="courses"),
    path("statistics/", views.statistics, name="statistics"),
    path("courses/<slug:course>/", views.course_detail, name="course"),
    path("courses/<slug:course>/lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:course>/export.json", views.course_export, name="course_export"),
    path("courses/<slug:course>/certificate.pdf", views.certificate_pdf, name="certificate"),
    path("scorm/<str:package_key>/<path:path>", views.scorm_content, name="scorm_content"),
    path("scorm-commit/<str:token>/", views.scorm_commit, name="scorm_commit"),
    path("packages/", views.packages, name="packages"),
    path("packages/<int:package_id>/", views.package_detail, name="package"),
    path("certificates/", views.certificate_check, name="certificate_check"),
    path("certificates/<str:token>/", views.certificate_verify, name="certificate_verify"),
]
